"""Complaints after resolution and for everyone concerned: the follow-up (回访, 4.3) recorded
by the department head or their delegate, or answered by the owner in the bot; the case card
behind every Open button (and /ticket's actions); /cases, the class-1 case list (4.2.6)."""

from __future__ import annotations

from typing import Any

from handlers import forms, labels
from handlers.base import Ctx, TgCallback, desk
from handlers.common import require_staff
from handlers.complaint_staff import attempt, begin_action
from handlers.text import text_form
from models import complaint_card as cards
from models import complaint_followup as followup
from models import complaint_notices as notices
from models.base import N_, DomainError
from models.complaint import case_studies, load
from models.notification import Msg, msg
from models.people import Role
from models.ticket import Ticket, history


async def _followed_up(ctx: Ctx, data: dict[str, Any]) -> None:
    satisfied = bool(data.get("satisfied"))
    explained = bool(data.get("explained"))

    async def op() -> object:
        return await followup.follow_up(
            ctx.session,
            data["tid"],
            ctx.person,
            satisfied=satisfied,
            opinion=data.get("opinion", ""),
            prevention=data.get("prevention", ""),
            now=ctx.now,
            env=ctx.rt.env,
            explained=explained,
        )

    if await attempt(ctx, op) is None:
        return
    if data.get("by_owner") and not satisfied:
        ctx.reply(
            N_("We are sorry. {ref} has been reopened and the front desk will take it up again."),
            ref=data["ref"],
        )
    elif data.get("by_owner"):
        ctx.reply(N_("Thank you. Your answer on {ref} has been recorded."), ref=data["ref"])
    elif satisfied:
        ctx.reply(N_("Follow-up recorded; {ref} is closed."), ref=data["ref"])
    elif explained:
        ctx.reply(
            N_("Follow-up recorded; {ref} is closed as explained, the owner not satisfied."),
            ref=data["ref"],
        )
    else:
        ctx.reply(N_("Follow-up recorded; {ref} is back with the front desk."), ref=data["ref"])


FOLLOWUP_FORM = text_form(
    "c_fur",
    [
        ("opinion", N_("What did the owner say about the handling of {ref}?"), 2, None),
        (
            "prevention",
            N_("What does the owner suggest to prevent it happening again?"),
            2,
            N_("Nothing suggested"),
        ),
    ],
    _followed_up,
)
OWNER_FOLLOWUP_FORM = text_form(
    "c_ofu",
    [
        (
            "prevention",
            N_("Thank you. {ref}: what should we do so that it does not happen again?"),
            2,
            N_("No suggestion"),
        )
    ],
    _followed_up,
)
OWNER_UNSATISFIED_FORM = text_form(
    "c_ofn",
    [
        (
            "opinion",
            N_("We are sorry. {ref}: what was not right about how it was handled?"),
            2,
            None,
        ),
        (
            "prevention",
            N_("What should we do so that it does not happen again?"),
            2,
            N_("No suggestion"),
        ),
    ],
    _followed_up,
)


def _yes_no(ctx: Ctx) -> bool:
    if ctx.target_arg not in ("y", "n"):
        raise DomainError("stale")
    return ctx.target_arg == "y"


@desk
async def record_followup(ctx: Ctx) -> None:
    """The department head (or delegate) records the follow-up call: satisfied, not
    satisfied (back to the front desk), or, for class 3, not satisfied but explained (closed)."""
    if ctx.target_arg == "x":
        _, complaint = await load(ctx.session, ctx.target_id)
        if complaint.klass != 3:  # reclassified since the button was sent, or forged
            raise DomainError("stale")
        await begin_action(ctx, FOLLOWUP_FORM, "fur", satisfied=False, explained=True)
        return
    await begin_action(ctx, FOLLOWUP_FORM, "fur", satisfied=_yes_no(ctx))


@desk
async def owner_followup(ctx: Ctx) -> None:
    """The owner answers the follow-up question in the bot. An unsatisfied owner is asked
    what was wrong (4.3.1 征询业主对投诉的处理意见). The question keeps its buttons until the
    answer is recorded: an owner who leaves the form half-way can answer again."""
    satisfied = _yes_no(ctx)
    form = OWNER_FOLLOWUP_FORM if satisfied else OWNER_UNSATISFIED_FORM
    await begin_action(ctx, form, "ofu", satisfied=satisfied, by_owner=True)


@desk
async def ask_owner(ctx: Ctx) -> None:
    """The follow-up asks the owner in the bot."""
    ticket = await followup.ask_owner(ctx.session, ctx.target_id, ctx.person, ctx.now)
    ctx.answer(N_("The owner has been asked about {ref}."), ref=ticket.ref)
    ctx.reply(N_("The owner has been asked about {ref}."), ref=ticket.ref)


@desk
async def delegate_menu(ctx: Ctx) -> None:
    """The department head chooses who makes the follow-up call."""
    ctx.answer()
    ctx.reply(await followup.delegate_menu(ctx.session, ctx.target_id, ctx.person))


@desk
async def delegate(ctx: Ctx) -> None:
    """The follow-up is handed to the chosen colleague."""
    person = await followup.delegate(
        ctx.session, ctx.target_id, ctx.person, ctx.target_arg, ctx.now, ctx.rt.env
    )
    ctx.clear_buttons = True
    ctx.answer(N_("The follow-up is now with {name}."), name=person.name)
    ctx.reply(N_("The follow-up is now with {name}."), name=person.name)


# --- the case card ------------------------------------------------------------------------------


@desk
async def open_case(ctx: Ctx) -> None:
    """An Open button on a complaint message: the case as this staff member may see it."""
    ctx.answer()
    ctx.reply(await render_card(ctx, ctx.target_id))


async def render_card(ctx: Ctx, ticket_id: int) -> Msg:
    """The case card as this viewer may see it (also what /ticket shows for C- and S-)."""
    ticket, card, full = await cards.card(ctx.session, ticket_id, ctx.person)
    head = msg(
        N_("{kind} {ref} — {state}"),
        kind=labels.kind(ticket.kind),
        ref=ticket.ref,
        state=labels.state(ticket.state, ticket.kind),
    )
    head.lines += card.lines
    head.photos = card.photos
    if full:  # the history names the owner who filed it: not for an anonymous handler
        head.add(N_("History:"))
        for event in (await history(ctx.session, ticket.id))[-30:]:
            head.add(
                N_("{time} · {action} · {who}"),
                time=event.at,
                action=labels.action(event.action, ticket.kind),
                who=event.actor.name if event.actor else msg(N_("system")),
            )
    buttons = await card_buttons(ctx, ticket.id)
    for i in range(0, len(buttons), 2):
        head.button_row(*buttons[i : i + 2])
    return head


async def card_buttons(ctx: Ctx, ticket_id: int) -> list[tuple[str, str]]:
    """The actions this viewer may take on a complaint or suggestion (also for /ticket)."""
    return await cards.actions(ctx.session, ticket_id, ctx.person)


@desk
async def cases(ctx: Ctx) -> None:
    """/cases: closed class-1 complaints kept for case analysis and training (4.2.6)."""
    if not require_staff(ctx):
        return
    roles = (Role.RECEPTIONIST, Role.SUPERVISOR, Role.EXECUTIVE)
    if not any(ctx.person.has_role(r) for r in roles):
        raise DomainError("not_allowed")
    found = await case_studies(ctx.session)
    if not found:
        ctx.reply(N_("There are no class 1 cases for analysis yet."))
        return
    out = msg(N_("Class 1 cases for analysis and training ({count}):"), count=len(found))
    for ticket, complaint, analysis in found:
        out.add(
            N_("— {ref} ({time}): {text}"),
            ref=ticket.ref,
            time=ticket.created_at,
            text=complaint.description[:300],
        )
        if complaint.opinion:
            out.add(N_("Handling opinion: {text}"), text=complaint.opinion[:300])
        if complaint.result:
            out.add(N_("Result: {text}"), text=complaint.result[:300])
        if complaint.followup_prevention:
            out.add(
                N_("To prevent it happening again: {text}"),
                text=complaint.followup_prevention[:300],
            )
        if analysis:
            out.add(N_("Case analysis: {text}"), text=analysis)
        else:
            out.add(N_("Case analysis: not written yet"))
            if followup.may_analyse(ctx.person, complaint):
                out.button_row(
                    (N_("Analyse {ref}"), {"ref": ticket.ref}, notices.data("ana", ticket))
                )
    ctx.reply(out)


async def _analysed(ctx: Ctx, data: dict[str, Any]) -> None:
    async def op() -> Ticket:
        return await followup.write_analysis(
            ctx.session, data["tid"], ctx.person, data["note"], ctx.now
        )

    if await attempt(ctx, op) is not None:
        ctx.reply(N_("Thank you. The case analysis of {ref} is in /cases."), ref=data["ref"])


ANALYSIS_FORM = text_form(
    "c_ana",
    [
        (
            "note",
            N_("The case analysis of {ref}: the cause, what was done, and how to prevent it."),
            10,
            None,
        )
    ],
    _analysed,
    maximum=3000,
)


@desk
async def analyse(ctx: Ctx) -> None:
    """The department head or an executive writes a closed class-1 case's analysis."""
    ticket, complaint = await load(ctx.session, ctx.target_id)
    if not followup.may_analyse(ctx.person, complaint):
        raise DomainError("not_allowed")
    if not complaint.case_study:
        raise DomainError("stale")
    ctx.answer()
    await forms.begin(ctx, ANALYSIS_FORM, {"tid": ticket.id, "ref": ticket.ref})


BUTTONS: dict[str, TgCallback] = {
    r"^c:fur:": record_followup,
    r"^c:ofu:": owner_followup,
    r"^c:fua:": ask_owner,
    r"^c:fud:": delegate_menu,
    r"^c:fdp:": delegate,
    r"^c:open:": open_case,
    r"^c:ana:": analyse,
}
