"""Vacancy applications, the staff side of one application: the service officer confirms the
original ID and signs an opinion, the supervisor approves or rejects, the receptionist
dispatches the shut-off or restore order, the technician records both meter readings."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from handlers import forms
from handlers.base import Ctx, TgCallback, desk
from handlers.forms import DONE, Answer, Form, Invalid, Step, choice
from handlers.text import note_form
from handlers.vacancy_meter import Readings, reading_step, replacement_steps
from models import vacancy_flow as flow
from models import vacancy_notices as notices
from models import vacancy_orders as orders
from models.base import N_, DomainError
from models.notification import Msg, msg
from models.people import Role
from models.property import Unit
from models.vacancy import St, load

REFUSED = N_("This cannot be done right now.")


async def _begin(ctx: Ctx, form: Form, action: str, **extra: Any) -> None:
    ticket = await flow.check(ctx.session, ctx.target_id, ctx.person, action, ctx.now, ctx.rt.env)
    ctx.answer()
    await forms.begin(ctx, form, {"tid": ticket.id, "ref": ticket.ref, **extra})


# --- identity, opinion, approval -----------------------------------------------------------------


@desk
async def id_seen(ctx: Ctx) -> None:
    """The service officer has seen the owner's original ID (5.2.1); asks for the opinion."""
    ticket = await flow.confirm_id(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    ctx.answer(N_("ID check recorded for {ref}."), ref=ticket.ref)
    out = msg(N_("ID check recorded for {ref}. Your opinion for the supervisor:"), ref=ticket.ref)
    ctx.reply(notices.opinion_buttons(ticket, out))


async def _opinion_done(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    ok = bool(data.get("ok"))
    ticket = await flow.sign_opinion(
        ctx.session, data["tid"], ctx.person, ok, note, ctx.now, ctx.rt.env
    )
    ctx.reply(N_("Your opinion on {ref} is signed and sent to the supervisor."), ref=ticket.ref)


OPINION_FORM = note_form(
    "v_op",
    N_("Your opinion on {ref} (it is signed with your name and shown to the supervisor):"),
    _opinion_done,
)


@desk
async def opinion(ctx: Ctx) -> None:
    """Recommend approval / rejection pressed: ask for the written opinion (5.2.3)."""
    if ctx.target_arg not in ("y", "n"):
        raise DomainError("stale")
    await _begin(ctx, OPINION_FORM, "op", ok=ctx.target_arg == "y")


@desk
async def approve(ctx: Ctx) -> None:
    """The supervisor approves: 50 % for the dates, cashier and front desk told."""
    ticket = await flow.approve(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    ctx.answer(N_("{ref} approved."), ref=ticket.ref)
    ctx.reply(
        N_("{ref} approved. The owner, the cashier and the front desk have been told."),
        ref=ticket.ref,
    )


async def _rejected(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    ticket = await flow.reject(ctx.session, data["tid"], ctx.person, note, ctx.now)
    ctx.reply(N_("{ref} rejected; the owner has been told."), ref=ticket.ref)


REJECT_FORM = note_form("v_rj", N_("Why is {ref} rejected? The owner will read this."), _rejected)


@desk
async def reject(ctx: Ctx) -> None:
    """The supervisor rejects: ask for the reason first."""
    await _begin(ctx, REJECT_FORM, "rj")


# --- the shut-off and restore orders -------------------------------------------------------------


async def _send_order(ctx: Ctx, *, move: bool) -> None:
    # (a move names who had the order when the menu was made: 0 for nobody)
    expected = (ctx.target_second_number or None) if move else None
    ticket = await orders.dispatch(
        ctx.session,
        ctx.target_id,
        ctx.target_number,
        ctx.person,
        ctx.now,
        move=move,
        expected_assignee_id=expected,
    )
    name = ticket.assignee.name if ticket.assignee else "—"
    ctx.clear_buttons = True
    ctx.answer(N_("{ref}: order sent to {name}."), ref=ticket.ref, name=name)
    ctx.reply(N_("{ref}: order sent to {name}."), ref=ticket.ref, name=name)


@desk
async def dispatch(ctx: Ctx) -> None:
    """A receptionist sends the shut-off or restore order (refused once it has been sent)."""
    await _send_order(ctx, move=False)


@desk
async def move(ctx: Ctx) -> None:
    """A receptionist gives the order to the technician chosen in the reassign menu (refused
    if a colleague has sent or moved it since the menu was made)."""
    await _send_order(ctx, move=True)


@desk
async def redispatch_menu(ctx: Ctx) -> None:
    """A receptionist asks for the technician list of an order (from /ticket)."""
    ticket, v = await load(ctx.session, ctx.target_id)
    if not ctx.person.has_role(Role.RECEPTIONIST, v.building):
        raise DomainError("not_allowed")
    if ticket.state not in {St.SHUTOFF, St.RESTORE}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    ctx.answer()
    body = msg(N_("Choose a technician for {ref}:"), ref=ticket.ref)
    ctx.reply(await notices.dispatch_buttons(ctx.session, ticket, v, body, move=True))


async def _check_visit_reading(ctx: Ctx, data: dict[str, Any], meter: str, value: Decimal) -> None:
    await orders.check_reading(ctx.session, data["tid"], ctx.person, meter, value, ctx.rt.env)


async def _accept_visit_reading(ctx: Ctx, data: dict[str, Any], meter: str, value: Decimal) -> str:
    data[meter] = str(value)
    return "electricity" if meter == "water" else "confirm"


async def _visit_unit(ctx: Ctx, data: dict[str, Any]) -> Unit:
    _, v = await load(ctx.session, data["tid"])
    unit = await ctx.session.get(Unit, v.unit_id)
    if unit is None:
        raise DomainError("stale")
    return unit


VISIT_READINGS = Readings("v_visit", _check_visit_reading, _accept_visit_reading, _visit_unit)


def _reading_step(meter: str, prompt: str) -> Step:
    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        return msg(prompt, ref=data.get("ref", ""), unit=data.get("unit", ""))

    return reading_step(VISIT_READINGS, meter, ask)


async def _ask_visit_confirm(ctx: Ctx, data: dict[str, Any]) -> Msg:
    values = notices.readings(Decimal(data["water"]), Decimal(data["electricity"]))
    out = msg(N_("{ref}: meter readings {values}."), ref=data["ref"], values=values)
    done = (
        N_("Water and electricity are OFF: save")
        if data["off"]
        else N_("Water and electricity are ON: save")
    )
    return out.button_row(
        (done, choice("v_visit", "confirm", "yes")),
        (N_("Enter again"), choice("v_visit", "confirm", "again")),
    )


async def _take_visit_confirm(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    if answer.choice == "again":
        return "water"
    if answer.choice != "yes":
        raise Invalid(N_("Please choose one of the buttons."))
    return DONE


async def _visit_done(ctx: Ctx, data: dict[str, Any]) -> None:
    ticket = await orders.record_visit(
        ctx.session,
        data["tid"],
        ctx.person,
        Decimal(data["water"]),
        Decimal(data["electricity"]),
        ctx.now,
        ctx.rt.env,
    )
    ctx.reply(N_("{ref} recorded; the owner has been told."), ref=ticket.ref)


VISIT_FORM = forms.register(
    Form(
        "v_visit",
        N_("meter readings"),
        "water",
        {
            "water": _reading_step("water", N_("{ref}: water meter reading (t)?")),
            "electricity": _reading_step(
                "electricity", N_("{ref}: electricity meter reading (kWh)?")
            ),
            "confirm": Step(_ask_visit_confirm, _take_visit_confirm),
            **replacement_steps(VISIT_READINGS),
        },
        _visit_done,
    )
)


@desk
async def shut_off(ctx: Ctx) -> None:
    """The technician records the shut-off: both readings, then water and electricity off."""
    await _begin(ctx, VISIT_FORM, "off", off=True)


@desk
async def restore(ctx: Ctx) -> None:
    """The technician records the restore: both readings, then water and electricity on."""
    await _begin(ctx, VISIT_FORM, "on", off=False)


# --- /ticket and /queue --------------------------------------------------------------------------


async def card_buttons(ctx: Ctx, ticket_id: int) -> list[tuple[str, str]]:
    """The actions this viewer may take on an application, for its /ticket card."""
    ticket, v = await load(ctx.session, ticket_id)
    me, state, tid = ctx.person, ticket.state, ticket.id
    today = ctx.rt.env.calendar.local_date(ctx.now)
    out: list[tuple[str, str]] = []
    if ticket.owner_id == me.id:
        if state in {St.ID_CHECK, St.OPINION, St.APPROVAL, St.SHUTOFF, St.VACANT}:
            out.append((N_("Cancel application"), f"v:cxl:{tid}"))
        window = timedelta(days=ctx.rt.env.vacancy.end_reminder_days)
        if state in {St.SHUTOFF, St.VACANT} and today >= v.end_date - window:
            out.append((N_("Apply again"), f"v:again:{tid}"))
    if me.has_role(Role.SERVICE, v.building):
        if state == St.ID_CHECK:
            out.append((N_("Original ID seen"), f"v:id:{tid}"))
        if state == St.OPINION:
            out += [
                (N_("Recommend approval"), f"v:op:{tid}:y"),
                (N_("Recommend rejection"), f"v:op:{tid}:n"),
            ]
    if state == St.APPROVAL and me.has_role(Role.SUPERVISOR, v.building):
        out += [(N_("Approve"), f"v:ap:{tid}"), (N_("Reject"), f"v:rj:{tid}")]
    if state in {St.SHUTOFF, St.RESTORE}:
        if me.has_role(Role.RECEPTIONIST, v.building):
            out.append((N_("Dispatch / reassign"), f"v:rea:{tid}"))
        off = state == St.SHUTOFF
        # (no shut-off offered before the vacancy begins, 5.2.8)
        if ticket.assignee_id == me.id and not (off and v.start_date > today):
            out.append(
                (
                    N_("Record shut-off") if off else N_("Record restore"),
                    f"v:{'off' if off else 'on'}:{tid}",
                )
            )
    return out


BUTTONS: dict[str, TgCallback] = {
    r"^v:id:": id_seen,
    r"^v:op:": opinion,
    r"^v:ap:": approve,
    r"^v:rj:": reject,
    r"^v:dsp:": dispatch,
    r"^v:mv:": move,
    r"^v:rea:": redispatch_menu,
    r"^v:off:": shut_off,
    r"^v:on:": restore,
}
