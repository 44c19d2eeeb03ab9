"""Repair requests, the staff side: dispatch, the technician's work order, review, materials,
fees, completion, the owner's signature and rating, follow-up calls (回访), /report."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from handlers import forms
from handlers.base import Ctx, TgCallback, desk
from handlers.common import require_staff
from handlers.forms import DONE, Answer, Form, Invalid, Step
from handlers.text import note_form, take_decimal, take_text
from handlers.tickets import ticket_card
from models import repair_flow as flow
from models import repair_notices as notices
from models.base import N_, DomainError
from models.notification import Money, Msg, msg
from models.people import Role
from models.repair import PAUSE_REASON_MAX, cancellable_states, may_cancel_for_owner, may_confirm
from models.ticket import Ticket, history


async def _begin(ctx: Ctx, form: Form, action: str, **extra: Any) -> None:
    ticket = await flow.check(ctx.session, ctx.target_id, ctx.person, action)
    ctx.answer()
    await forms.begin(ctx, form, {"tid": ticket.id, "ref": ticket.ref, **extra})


# --- dispatching -------------------------------------------------------------------------------


@desk
async def dispatch(ctx: Ctx) -> None:
    """A receptionist dispatches (派单) a new repair to the technician on the button."""
    ticket = await flow.dispatch(
        ctx.session, ctx.target_id, ctx.target_number, ctx.person, ctx.now, ctx.rt.env
    )
    name = ticket.assignee.name if ticket.assignee else "—"
    ctx.clear_buttons = True
    ctx.answer(N_("{ref} dispatched to {name}."), ref=ticket.ref, name=name)
    ctx.reply(N_("{ref} dispatched to {name}."), ref=ticket.ref, name=name)


@desk
async def reassign(ctx: Ctx) -> None:
    """A receptionist moves a dispatched repair to another technician (refused if a
    colleague has moved it since the list was made)."""
    ticket = await flow.dispatch(
        ctx.session,
        ctx.target_id,
        ctx.target_number,
        ctx.person,
        ctx.now,
        ctx.rt.env,
        reassign=True,
        expected_assignee_id=ctx.target_second_number,
    )
    name = ticket.assignee.name if ticket.assignee else "—"
    ctx.clear_buttons = True
    ctx.answer(N_("{ref} reassigned to {name}."), ref=ticket.ref, name=name)
    ctx.reply(N_("{ref} reassigned to {name}."), ref=ticket.ref, name=name)


@desk
async def reassign_menu(ctx: Ctx) -> None:
    """A receptionist asks for the technician list of a dispatched repair."""
    ctx.answer()
    ctx.reply(await flow.reassign_menu(ctx.session, ctx.target_id, ctx.person, ctx.rt.env))


@desk
async def return_to_queue(ctx: Ctx) -> None:
    """A receptionist takes a repair back from its technician."""
    ticket = await flow.return_to_queue(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    ctx.reply(N_("{ref} is back in the dispatch queue."), ref=ticket.ref)


async def _office_cancelled(ctx: Ctx, data: dict[str, Any], reason: str) -> None:
    ticket = await flow.cancel_by_office(ctx.session, data["tid"], ctx.person, reason, ctx.now)
    ctx.reply(
        N_("{ref} has been cancelled; the owner has been told why."),
        ref=ticket.ref,
    )


OFFICE_CANCEL_FORM = note_form(
    "r_ocx",
    N_("Why is {ref} being cancelled? The owner will be told this reason."),
    _office_cancelled,
    maximum=300,
)


@desk
async def office_cancel(ctx: Ctx) -> None:
    """The front desk (or a supervisor) cancels a repair nobody has started, with a reason."""
    await _begin(ctx, OFFICE_CANCEL_FORM, "ocx")


# --- the technician's work order ---------------------------------------------------------------


@desk
async def accept(ctx: Ctx) -> None:
    """The technician accepts the work order."""
    ticket = await flow.accept(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.answer(N_("Accepted {ref}."), ref=ticket.ref)


@desk
async def arrive(ctx: Ctx) -> None:
    """The technician is at the door (must be within 15 minutes of the appointment)."""
    ticket = await flow.arrive(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.answer(N_("Arrival recorded for {ref}."), ref=ticket.ref)


async def _review_done(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    ticket = await flow.request_review(
        ctx.session, data["tid"], ctx.person, note, ctx.now, ctx.rt.env
    )
    ctx.reply(N_("{ref} sent to the team lead for technical review."), ref=ticket.ref)


REVIEW_FORM = note_form("r_rev", N_("What should the team lead review on {ref}?"), _review_done)


@desk
async def review(ctx: Ctx) -> None:
    """The technician asks the team lead for a technical review."""
    await _begin(ctx, REVIEW_FORM, "rev")


async def _concluded(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    ticket = await flow.conclude_review(ctx.session, data["tid"], ctx.person, note, ctx.now)
    ctx.reply(N_("Review of {ref} concluded; the technician has been told."), ref=ticket.ref)


CONCLUDE_FORM = note_form("r_rvd", N_("Your conclusion on {ref} for the technician:"), _concluded)


@desk
async def conclude(ctx: Ctx) -> None:
    """The team lead concludes a technical review."""
    await _begin(ctx, CONCLUDE_FORM, "rvd")


async def _paused(ctx: Ctx, data: dict[str, Any], reason: str) -> None:
    ticket = await flow.pause(ctx.session, data["tid"], ctx.person, reason, ctx.now, ctx.rt.env)
    ctx.reply(
        msg(
            N_("{ref} is paused. Press Resume when the parts are here."), ref=ticket.ref
        ).button_row((N_("Resume"), notices.data("res", ticket)))
    )


# Bounded by the column it is kept in (Repair.pause_reason, 300 characters).
PAUSE_FORM = note_form(
    "r_pau", N_("Which parts is {ref} waiting for?"), _paused, maximum=PAUSE_REASON_MAX
)


@desk
async def pause(ctx: Ctx) -> None:
    """The technician pauses the job while waiting for parts."""
    await _begin(ctx, PAUSE_FORM, "pau")


@desk
async def resume(ctx: Ctx) -> None:
    """The technician resumes a paused job."""
    ticket, arrive_by = await flow.resume(
        ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env
    )
    ctx.clear_buttons = True
    ctx.answer(N_("{ref} resumed."), ref=ticket.ref)
    if arrive_by is not None:  # paused before arriving: the 15 minutes start again now
        ctx.reply(
            msg(
                N_("{ref} resumed. Please be on site by {time}, and press Arrived when you are."),
                ref=ticket.ref,
                time=arrive_by,
            ).button_row((N_("Arrived"), notices.data("arr", ticket)))
        )


# --- materials and fees ------------------------------------------------------------------------

MATERIAL_FIELDS = [
    ("name", N_("Material for {ref}: its name?")),
    ("spec", N_("Specification (规格)?")),
    ("model", N_("Model (型号)?")),
    ("quantity", N_("Quantity?")),
    ("unit_price", N_("Unit price in yuan?")),
]


def _material_step(index: int) -> Step:
    key, prompt = MATERIAL_FIELDS[index]

    async def ask(ctx: Ctx, data: dict[str, Any]) -> Msg:
        return msg(prompt, ref=data.get("ref", ""))

    async def take(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
        if key == "quantity":
            data[key] = str(take_decimal(answer, Decimal("0.01"), Decimal(10000)))
        elif key == "unit_price":
            data[key] = str(take_decimal(answer, Decimal(0), Decimal(100000), allow_zero=True))
        else:
            data[key] = take_text(answer, 1, 100)
        return MATERIAL_FIELDS[index + 1][0] if index + 1 < len(MATERIAL_FIELDS) else DONE

    return Step(ask, take)


async def _material_done(ctx: Ctx, data: dict[str, Any]) -> None:
    values = {k: data[k] for k, _ in MATERIAL_FIELDS}
    ticket = await flow.add_material(
        ctx.session, data["tid"], ctx.person, values, ctx.now, ctx.rt.env
    )
    total = Decimal(values["quantity"]) * Decimal(values["unit_price"])
    out = msg(
        N_(
            "Recorded on {ref}: {name}, {spec}, {model}: {qty} × {price} = {total}. The "
            "owner will verify it at completion."
        ),
        ref=ticket.ref,
        name=values["name"],
        spec=values["spec"],
        model=values["model"],
        qty=Decimal(values["quantity"]),
        price=Money(values["unit_price"]),
        total=Money(total),
    )
    if ticket.state == "done":
        out.add(N_("The work was already marked done: it is shown again to whoever signs."))
    ctx.reply(out)


MATERIAL_FORM = forms.register(
    Form(
        "r_mat",
        N_("material entry"),
        "name",
        {key: _material_step(i) for i, (key, _) in enumerate(MATERIAL_FIELDS)},
        _material_done,
    )
)


@desk
async def material(ctx: Ctx) -> None:
    """The technician records a material used (name, spec, model, quantity, unit price)."""
    await _begin(ctx, MATERIAL_FORM, "mat")


async def _ask_amount(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("Fee collected on {ref}, in yuan?"), ref=data.get("ref", ""))


async def _take_amount(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["amount"] = str(take_decimal(answer, Decimal("0.01"), Decimal(100000)))
    return "note"


async def _ask_fee_note(ctx: Ctx, data: dict[str, Any]) -> Msg:
    return msg(N_("What was it for?"))


async def _take_fee_note(ctx: Ctx, data: dict[str, Any], answer: Answer) -> str:
    data["note"] = take_text(answer, 2, 200)
    return DONE


async def _fee_done(ctx: Ctx, data: dict[str, Any]) -> None:
    amount = Decimal(data["amount"])
    ticket = await flow.record_fee(
        ctx.session, data["tid"], ctx.person, amount, data["note"], ctx.now, ctx.rt.env
    )
    out = msg(
        N_("Fee of {amount} recorded on {ref}; the cashier has been told."),
        amount=Money(amount),
        ref=ticket.ref,
    )
    if ticket.state == "done":
        out.add(N_("The work was already marked done: it is shown again to whoever signs."))
    ctx.reply(out)


FEE_FORM = forms.register(
    Form(
        "r_fee",
        N_("fee entry"),
        "amount",
        {"amount": Step(_ask_amount, _take_amount), "note": Step(_ask_fee_note, _take_fee_note)},
        _fee_done,
    )
)


@desk
async def fee(ctx: Ctx) -> None:
    """The technician records a fee collected (the cashier is told)."""
    await _begin(ctx, FEE_FORM, "fee")


@desk
async def done(ctx: Ctx) -> None:
    """The technician marks the job done; the owner (or service officer) is asked to sign."""
    ticket = await flow.complete(ctx.session, ctx.target_id, ctx.person, ctx.now, ctx.rt.env)
    ctx.clear_buttons = True
    ctx.reply(N_("{ref} marked done. The owner has been asked to confirm."), ref=ticket.ref)


# --- signature, rating, not fixed ----------------------------------------------------------------


@desk
async def sign(ctx: Ctx) -> None:
    """Confirm-and-rate pressed: offer the 1–5 rating."""
    ticket = await flow.check(ctx.session, ctx.target_id, ctx.person, "ok")
    ctx.answer()
    out = msg(
        N_(
            "How satisfied are you with the repair {ref}? (1 = very unsatisfied, 5 = very "
            "satisfied)"
        ),
        ref=ticket.ref,
    )
    out.button_row(*[("★" * n, f"r:rate:{ticket.id}:{n}") for n in range(1, 6)])
    ctx.reply(out)


async def _commented(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    if note:
        await flow.comment(ctx.session, data["tid"], ctx.person, note, ctx.now)
        ctx.reply(N_("Thank you for your comment."))
    else:
        ctx.reply(N_("Thank you."))


COMMENT_FORM = note_form(
    "r_cmt",
    N_("Thank you! Anything you would like to add about {ref}? Write it now, or press No comment."),
    _commented,
    minimum=1,
    skip=N_("No comment"),
)


@desk
async def rate(ctx: Ctx) -> None:
    """A rating pressed: the repair is confirmed (the owner's signature) and rated."""
    rating = ctx.target_arg
    if rating not in {"1", "2", "3", "4", "5"}:
        raise DomainError("stale")
    ticket = await flow.confirm(
        ctx.session, ctx.target_id, ctx.person, int(rating), ctx.now, ctx.rt.env
    )
    ctx.clear_buttons = True
    ctx.answer(N_("Confirmed. Thank you!"))
    await forms.begin(ctx, COMMENT_FORM, {"tid": ticket.id, "ref": ticket.ref})


async def _not_fixed(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    ticket = await flow.not_fixed(ctx.session, data["tid"], ctx.person, note, ctx.now, ctx.rt.env)
    ctx.reply(
        N_("Sorry about that. {ref} has been reopened and the front desk alerted."), ref=ticket.ref
    )


NOT_FIXED_FORM = note_form("r_nf", N_("What is still wrong with {ref}?"), _not_fixed)


@desk
async def not_fixed(ctx: Ctx) -> None:
    """Not fixed pressed: ask what is wrong, then reopen."""
    await _begin(ctx, NOT_FIXED_FORM, "nf")


# --- follow-up (回访) --------------------------------------------------------------------------


async def _followed_up(ctx: Ctx, data: dict[str, Any], note: str) -> None:
    satisfied = bool(data.get("satisfied"))
    ticket = await flow.follow_up(
        ctx.session, data["tid"], ctx.person, satisfied, note, ctx.now, ctx.rt.env
    )
    if satisfied:
        ctx.reply(N_("Follow-up recorded; {ref} is closed."), ref=ticket.ref)
    else:
        ctx.reply(
            N_("Follow-up recorded; {ref} has been reopened for the maintenance team."),
            ref=ticket.ref,
        )


FOLLOWUP_FORM = note_form(
    "r_fu", N_("Notes from the follow-up call on {ref}:"), _followed_up, skip=N_("No notes")
)


@desk
async def follow_up(ctx: Ctx) -> None:
    """A receptionist records the follow-up call: satisfied or not, then a note."""
    answer = ctx.target_arg
    if answer not in ("y", "n"):
        raise DomainError("stale")
    await _begin(ctx, FOLLOWUP_FORM, "fu", satisfied=answer == "y")


@desk
async def report(ctx: Ctx) -> None:
    """/report: today's 客服中心日报表."""
    if require_staff(ctx):
        ctx.reply(await flow.report(ctx.session, ctx.person, ctx.now, ctx.rt.env))


@desk
async def invoice(ctx: Ctx) -> None:
    """The cashier: the owner has the invoice for a fee (seed ch.3 step 5)."""
    ticket = await flow.invoice_delivered(
        ctx.session, ctx.target_id, ctx.target_number, ctx.person, ctx.now
    )
    ctx.clear_buttons = True
    ctx.answer(N_("The invoice for {ref} is marked as delivered."), ref=ticket.ref)


BUTTONS: dict[str, TgCallback] = {
    r"^r:dsp:": dispatch,
    r"^r:rsg:": reassign,
    r"^r:rea:": reassign_menu,
    r"^r:ret:": return_to_queue,
    r"^r:ocx:": office_cancel,
    r"^r:acc:": accept,
    r"^r:arr:": arrive,
    r"^r:rev:": review,
    r"^r:rvd:": conclude,
    r"^r:pau:": pause,
    r"^r:res:": resume,
    r"^r:mat:": material,
    r"^r:fee:": fee,
    r"^r:inv:": invoice,
    r"^r:done:": done,
    r"^r:ok:": sign,
    r"^r:rate:": rate,
    r"^r:nf:": not_fixed,
    r"^r:fu:": follow_up,
}

__all__ = ["BUTTONS", "Invalid", "report"]


async def card_buttons(ctx: Ctx, ticket_id: int) -> list[tuple[str, str]]:
    """The actions this viewer may take on a repair, for its /ticket card."""
    out: list[tuple[str, str]] = []
    ticket, repair = await flow.load(ctx.session, ticket_id)
    state, tid, me = ticket.state, ticket.id, ctx.person
    if ticket.owner_id == me.id:
        from handlers.repair import owner_actions

        out += [(label, f"r:{action}:{tid}") for label, action in owner_actions(state, repair)]
    if ticket.assignee_id == me.id:
        steps = notices.TECHNICIAN_STEPS.get(state, [])
        out += [(label, f"r:{action}:{tid}") for label, action in steps]
    if me.has_role(Role.RECEPTIONIST, repair.building):
        if state in ("new", "dispatched", "accepted", "on_site", "review", "paused"):
            out.append((N_("Dispatch / reassign"), f"r:rea:{tid}"))
        if state in ("confirmed", "unconfirmed") and ticket.closed_at is None:
            out += [(N_("Satisfied"), f"r:fu:{tid}:y"), (N_("Not satisfied"), f"r:fu:{tid}:n")]
    # (a receptionist's own request is withdrawn with the owner's Cancel, not the office's)
    mine = ticket.owner_id == me.id
    if state in cancellable_states(repair) and may_cancel_for_owner(me, repair) and not mine:
        out.append((N_("Cancel (with reason)"), f"r:ocx:{tid}"))
    if state == "review" and me.has_role(Role.TEAM_LEAD, repair.building):
        out.append((N_("Review concluded"), f"r:rvd:{tid}"))
    # The signer: the owner of an in-home repair, the area's service officer of a public one
    # (the request to sign may be far up the chat, or read on another device).
    if state == "done" and may_confirm(ticket, repair, me):
        out += [(N_("Confirm and rate"), f"r:ok:{tid}"), (N_("Not fixed"), f"r:nf:{tid}")]
    return out


async def render_card(ctx: Ctx, ticket: Ticket) -> Msg:
    """The /ticket card of a repair: title, the 维修单 (phones for staff only), history, and
    this viewer's buttons. Not in /my's list, which stays one line per request."""
    card = ticket_card(ticket, await history(ctx.session, ticket.id))
    if (await flow.load(ctx.session, ticket.id))[1].scope == "public":
        # The reporter's flat is not where a public fault is (the 维修单 lines say where).
        card.lines = [
            (N_("Reported from unit {unit}"), params)
            if msgid == "Unit: {unit}"
            else (msgid, params)
            for msgid, params in card.lines
        ]
    # After the card's unit and details, before when it was filed and its history.
    at = next((i for i, (msgid, _) in enumerate(card.lines) if msgid == "Filed: {time}"), 1)
    card.lines[at:at] = (await flow.card_sheet(ctx.session, ticket, ctx.person, ctx.rt.env)).lines
    buttons = await card_buttons(ctx, ticket.id)
    for i in range(0, len(buttons), 2):
        card.button_row(*buttons[i : i + 2])
    return card


async def queue_places(ctx: Ctx, found: list[Ticket]) -> dict[int, Msg]:
    """Where each public repair among `found` is, for its /queue line."""
    return await flow.public_places(ctx.session, [t.id for t in found])
