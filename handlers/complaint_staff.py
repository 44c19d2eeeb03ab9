"""Complaints and suggestions, the staff side up to resolution: the front desk's record and
classification, the work-contact order's answer, asking a superior and their opinion,
confirmation or sending back. Callback data is ``c:<action>:<ticket id>[:<arg>]``; every press
is re-checked by the domain. The follow-up and the case card are in
:mod:`handlers.complaint_followup`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from handlers import forms
from handlers.base import REFUSALS, Ctx, TgCallback, desk
from handlers.forms import Form
from handlers.text import text_form
from models import complaint_card as cards
from models import complaint_classify as recording
from models import complaint_handling as handling
from models import complaint_notices as notices
from models.base import N_, DomainError
from models.complaint import Complaint, unit_of
from models.notification import msg
from models.ticket import Ticket

T = TypeVar("T")


async def attempt(ctx: Ctx, op: Callable[[], Awaitable[T]]) -> T | None:
    """Run a domain change at the end of a form; a refusal is answered and undoes only the
    change (the finished form stays closed, so the person is not stuck in it)."""
    try:
        async with ctx.session.begin_nested():
            return await op()
    except DomainError as refused:
        ctx.reply(
            REFUSALS.get(refused.code, N_("This cannot be done right now.")), **refused.params
        )
        return None


async def begin_action(ctx: Ctx, form: Form, action: str, **extra: Any) -> None:
    ticket, complaint = await cards.check(ctx.session, ctx.target_id, ctx.person, action)
    ctx.answer()
    data = {"tid": ticket.id, "ref": ticket.ref, **extra}
    if action == "res" and complaint.klass == 3:
        data["no_skip"] = True  # 4.2.6: class 3 ends with an explanation written for the owner
    await forms.begin(ctx, form, data)


# --- recording and classifying (业主投诉/建议处理记录表) -----------------------------------------


@desk
async def pick_class(ctx: Ctx) -> None:
    """Receptionist: the class is chosen; ask whether the case is major."""
    ctx.answer()
    ctx.reply(await recording.major_menu(ctx.session, ctx.target_id, ctx.person, ctx.target_arg))


@desk
async def pick_major(ctx: Ctx) -> None:
    """Receptionist: major or not is chosen; offer the people who can be responsible."""
    ctx.answer()
    ctx.reply(
        await recording.responsible_menu(
            ctx.session, ctx.target_id, ctx.person, ctx.target_arg, ctx.rt.env
        )
    )


@desk
async def pick_responsible(ctx: Ctx) -> None:
    """Receptionist: the responsible person is chosen; ask whether to share the unit."""
    ctx.answer()
    ctx.reply(await recording.share_menu(ctx.session, ctx.target_id, ctx.person, ctx.target_arg))


@desk
async def send_order(ctx: Ctx) -> None:
    """Receptionist: the record is complete; the work-contact order (工作联系单) goes out."""
    ticket, complaint, linked = await recording.classify(
        ctx.session, ctx.target_id, ctx.person, ctx.target_arg, ctx.now, ctx.rt.env
    )
    ctx.clear_buttons = True
    if complaint.on_the_spot:
        ctx.answer()
        done = msg(
            N_(
                "{ref} recorded as {what}. It was resolved on the spot: please check the result "
                "and tell the owner."
            ),
            ref=ticket.ref,
            what=notices.what(ticket, complaint),
        )
        done.lines += notices.answer_lines(complaint).lines
        done.button_row(
            (N_("Confirm and tell the owner"), notices.data("res", ticket)),
            (N_("Send back"), notices.data("bak", ticket)),
        )
        ctx.reply(done)
        return
    name = ticket.assignee.name if ticket.assignee else "—"
    ctx.answer(N_("Work-contact order for {ref} sent to {name}."), ref=ticket.ref, name=name)
    out = msg(
        N_("{ref} recorded as {what}; work-contact order sent to {name}, due by {time}."),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        name=name,
        time=complaint.due_at,
    )
    if linked:
        out.add(N_("Linked warranty repair: {ref}"), ref=linked)
    elif complaint.klass == 2:
        out.add(N_("The warranty repair could not be filed automatically: please file it."))
    ctx.reply(out)


@desk
async def reassign_menu(ctx: Ctx) -> None:
    """Front desk: choose who takes the case over."""
    ctx.answer()
    ctx.reply(await recording.reassign_menu(ctx.session, ctx.target_id, ctx.person, ctx.rt.env))


@desk
async def reassign(ctx: Ctx) -> None:
    """Front desk: the case goes to the person chosen, with a new work-contact order."""
    ticket, complaint, responsible = await recording.reassign(
        ctx.session, ctx.target_id, ctx.person, ctx.target_arg, ctx.now, ctx.rt.env
    )
    ctx.clear_buttons = True
    ctx.answer(
        N_("Work-contact order for {ref} sent to {name}."), ref=ticket.ref, name=responsible.name
    )
    ctx.reply(
        N_("{ref}: work-contact order sent to {name}, due by {time}."),
        ref=ticket.ref,
        name=responsible.name,
        time=complaint.due_at,
    )


# --- the person responsible, their superior, the front desk --------------------------------------


async def _replied(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> object:
        return await handling.reply(
            ctx.session,
            data["tid"],
            ctx.person,
            data["opinion"],
            data["result"],
            ctx.now,
            ctx.rt.env,
        )

    if await attempt(ctx, op):
        ctx.reply(
            N_("Thank you. Your answer on {ref} has gone to the front desk."), ref=data["ref"]
        )


REPLY_FORM = text_form(
    "c_rep",
    [
        ("opinion", N_("Your handling opinion on {ref} (处理意见):"), 2, None),
        ("result", N_("The result: what was done?"), 2, None),
    ],
    _replied,
)


@desk
async def record_reply(ctx: Ctx) -> None:
    """The responsible person records the handling opinion and result."""
    await begin_action(ctx, REPLY_FORM, "rep")


async def _asked(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> tuple[object, bool]:
        return await handling.ask_superior(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now, ctx.rt.env
        )

    done = await attempt(ctx, op)
    if done is not None:
        ctx.reply(N_("Your superior has been asked about {ref}."), ref=data["ref"])


ASK_FORM = text_form(
    "c_sup", [("note", N_("What do you need your superior to decide on {ref}?"), 2, None)], _asked
)


@desk
async def ask_superior(ctx: Ctx) -> None:
    """The responsible person cannot handle it alone and asks their superior."""
    await begin_action(ctx, ASK_FORM, "sup")


async def _progress(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> object:
        return await handling.report_progress(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now
        )

    if await attempt(ctx, op) is not None:
        ctx.reply(N_("The front desk has your report on {ref}."), ref=data["ref"])


PROGRESS_FORM = text_form(
    "c_prg", [("note", N_("How is {ref} being handled? Write it for the front desk."), 2, None)],
    _progress,
)  # fmt: skip


@desk
async def report_progress(ctx: Ctx) -> None:
    """ch.4 四: the person responsible reports to the front desk on a case still in hand."""
    await begin_action(ctx, PROGRESS_FORM, "prg")


async def _opinion(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> object:
        return await handling.give_opinion(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now
        )

    if await attempt(ctx, op):
        ctx.reply(N_("Your opinion on {ref} has been passed on."), ref=data["ref"])


OPINION_FORM = text_form(
    "c_opn",
    [("note", N_("Your opinion on {ref}, for the people handling it:"), 2, None)],
    _opinion,
)


@desk
async def opinion(ctx: Ctx) -> None:
    """A department head or executive gives a handling opinion."""
    await begin_action(ctx, OPINION_FORM, "opn")


async def _resolved(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> Ticket:
        return await handling.resolve(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now, ctx.rt.env
        )

    ticket = await attempt(ctx, op)
    if ticket is None:
        return
    if ticket.owner_id is not None:
        ctx.reply(N_("{ref} is resolved and the owner has been told."), ref=data["ref"])
        return
    # Logged for someone not using the bot: nobody was messaged, the desk passes the answer on.
    complaint = await ctx.session.get(Complaint, ticket.id)
    unit = await unit_of(ctx.session, complaint) if complaint is not None else None
    ctx.reply(
        N_(
            "{ref} is resolved. Nobody was messaged: the owner does not use the bot. Please "
            "call them with the answer. Owner: {name}, phone {phone}."
        ),
        ref=data["ref"],
        name=(unit.owner_name if unit else None) or "—",
        phone=(unit.owner_phone if unit else None) or "—",
    )


RESOLVE_FORM = text_form(
    "c_res",
    [
        (
            "note",
            N_("What shall we tell the owner about {ref}? Write it, or send the handler's result."),
            2,
            N_("Send the handler's result"),
        )
    ],
    _resolved,
)


@desk
async def resolve(ctx: Ctx) -> None:
    """The front desk confirms the result; the owner is told."""
    await begin_action(ctx, RESOLVE_FORM, "res")


async def _sent_back(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> object:
        return await handling.send_back(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now, ctx.rt.env
        )

    if await attempt(ctx, op):
        ctx.reply(N_("{ref} has been sent back to the person responsible."), ref=data["ref"])


BACK_FORM = text_form(
    "c_bak",
    [("note", N_("Why is {ref} going back? The person responsible sees this."), 2, None)],
    _sent_back,
)


@desk
async def send_back(ctx: Ctx) -> None:
    """The front desk does not accept the answer and sends it back."""
    await begin_action(ctx, BACK_FORM, "bak")


BUTTONS: dict[str, TgCallback] = {
    r"^c:cls:": pick_class,
    r"^c:maj:": pick_major,
    r"^c:who:": pick_responsible,
    r"^c:snd:": send_order,
    r"^c:rep:": record_reply,
    r"^c:sup:": ask_superior,
    r"^c:prg:": report_progress,
    r"^c:rsn:": reassign_menu,
    r"^c:rsp:": reassign,
    r"^c:opn:": opinion,
    r"^c:res:": resolve,
    r"^c:bak:": send_back,
}
