"""What happens when a vacancy application's deadline passes.

- vacancy.lapse: the original ID not shown by the close of the start date → lapsed.
- vacancy.opinion / approval / shutoff / restore: level 1 reminds whoever holds the step when
  the office opens on its last day; level 2 escalates at its close (the supervisor; for the
  supervisor's own approval, the executive).
- vacancy.end_reminder: the owner is asked to re-apply or let it end (5.2.7).
- vacancy.end: the end date; 100 % again, the cashier told, water and electricity restored.

A handler that finds the application in another state does nothing: the step was done.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import vacancy_notices as notices
from models import vacancy_steps as steps
from models.base import N_, DomainError
from models.deadline import Due, on_due
from models.env import Env
from models.notification import Msg, enqueue, msg
from models.people import Role
from models.ticket import Ticket, open_button
from models.vacancy import PENDING, St, Vacancy, load

_STEP_STATE = {
    "vacancy.opinion": St.OPINION,
    "vacancy.approval": St.APPROVAL,
    "vacancy.shutoff": St.SHUTOFF,
    "vacancy.restore": St.RESTORE,
}
_OVERDUE = {
    "vacancy.opinion": N_("🚨 {ref}: the service officer's opinion was due by {due}."),
    "vacancy.approval": N_("🚨 {ref}: the supervisor's approval was due by {due}."),
    "vacancy.shutoff": N_("🚨 {ref}: the shut-off order was due by {due} (held by: {who})."),
    "vacancy.restore": N_("🚨 {ref}: the restore order was due by {due} (held by: {who})."),
}


async def _found(session: AsyncSession, d: Due, states: set[St]) -> tuple[Ticket, Vacancy] | None:
    if d.ticket_id is None:
        return None
    try:
        ticket, v = await load(session, d.ticket_id)
    except DomainError:
        return None
    return (ticket, v) if ticket.state in states else None


@on_due("vacancy.lapse")
async def _lapse(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _found(session, d, {St.ID_CHECK})
    if found is None:
        return
    ticket, v = found
    await steps.lapse(session, ticket, now)
    notices.to_owner(
        session,
        ticket,
        msg(
            N_(
                "Your vacancy application {ref} has lapsed: the original ID was not shown at "
                "the office by {start}. Send /vacancy to apply again if you still need it."
            ),
            ref=ticket.ref,
            start=env.calendar.local_date(d.due_at),
        ),
        now,
    )
    await notices.to_officers(
        session, ticket, v, msg(N_("{ref} lapsed: the ID was never shown."), ref=ticket.ref), now
    )


async def _reminder(
    session: AsyncSession, kind: str, ticket: Ticket, v: Vacancy, due: datetime, now: datetime
) -> None:
    if kind == "vacancy.opinion":
        body = msg(N_("⏰ {ref}: your opinion is due by {due}."), ref=ticket.ref, due=due)
        body.lines += notices.describe(ticket, v, contact=False).lines
        await notices.to_officers(session, ticket, v, notices.opinion_buttons(ticket, body), now)
    elif kind == "vacancy.approval":
        body = msg(
            N_("⏰ {ref} is waiting for your approval, due by {due}."), ref=ticket.ref, due=due
        )
        body.lines += notices.describe(ticket, v, contact=False).lines
        await notices.to_role(
            session, Role.SUPERVISOR, ticket, v, notices.decision_buttons(ticket, body), now
        )
    elif ticket.assignee is not None:
        body = msg(N_("⏰ {ref}: this order is due by {due}."), ref=ticket.ref, due=due)
        order = notices.work_order(ticket, v, await notices.applicant(session, ticket))
        body.lines += order.lines
        body.buttons = order.buttons
        enqueue(
            session,
            ticket.assignee,
            body,
            now,
            ticket_id=ticket.id,
            fallback_role=Role.TECHNICIAN,
            fallback_building=v.building,
        )
    else:
        await notices.order_for_desk(session, ticket, v, due, now)


async def _step_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _found(session, d, {_STEP_STATE[d.kind]})
    if found is None:
        return
    ticket, v = found
    if d.level == 1:
        from models.vacancy_flow import step_due

        await _reminder(
            session, d.kind, ticket, v, await step_due(session, ticket, d.kind) or d.due_at, now
        )
        return
    who: Msg | str = ticket.assignee.name if ticket.assignee else msg(N_("not dispatched yet"))
    body = msg(_OVERDUE[d.kind], ref=ticket.ref, due=d.due_at, who=who)
    body.lines += notices.describe(ticket, v, contact=False).lines
    body.button_row(open_button(ticket))  # the card: the reader's own actions on it
    if d.kind == "vacancy.approval":
        # The supervisor holds this step: the next level up is told.
        if await notices.to_role(session, Role.EXECUTIVE, ticket, v, body, now):
            return
    await notices.to_role(session, Role.SUPERVISOR, ticket, v, body, now)


for _kind in _STEP_STATE:
    on_due(_kind)(_step_due)


@on_due("vacancy.end_reminder")
async def _end_reminder(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _found(session, d, {St.SHUTOFF, St.VACANT})
    if found is None:
        return
    ticket, v = found
    ticket.record("reminded", None, now)
    body = msg(
        N_(
            "⏰ Your vacancy {ref} for unit {unit} ends on {end}; from then property fee and "
            "shared utilities are at 100 % again. To stay vacant you need a new application "
            "(with your original ID at the office again)."
        ),
        ref=ticket.ref,
        unit=ticket.unit.code if ticket.unit else "—",
        end=v.end_date,
    )
    body.button_row(
        (N_("Apply again"), notices.data("again", ticket)),
        (N_("Let it end"), notices.data("let", ticket)),
    )
    notices.to_owner(session, ticket, body, now)


@on_due("vacancy.end")
async def _end(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _found(session, d, {St.SHUTOFF, St.VACANT} | PENDING)
    if found is None:
        return
    ticket, v = found
    if ticket.state in PENDING:
        # Nobody decided before the period was over: there is nothing left to approve.
        await steps.lapse(session, ticket, now)
        notices.to_owner(
            session,
            ticket,
            msg(
                N_(
                    "Your vacancy application {ref} has lapsed: it was not decided before its "
                    "end date ({end}). Fees stayed at 100 %."
                ),
                ref=ticket.ref,
                end=v.end_date,
            ),
            now,
        )
        await notices.to_role(
            session,
            Role.SUPERVISOR,
            ticket,
            v,
            msg(N_("{ref} lapsed: it was not decided before its end date."), ref=ticket.ref),
            now,
        )
        return
    dropped = await steps.end_term(session, ticket, v, now, env)
    await notices.tell_dropped(session, ticket, dropped, now)
    successor = await steps.continued_by(session, ticket)
    if successor is not None:
        # (the renewal's own approval told the cashier its 50 % period)
        notices.to_owner(
            session,
            ticket,
            msg(
                N_(
                    "Your vacancy {ref} ended on {end}; {next} continues from that day: fees "
                    "stay at 50 %, water and electricity stay off."
                ),
                ref=ticket.ref,
                end=v.end_date,
                next=successor.ref,
            ),
            now,
        )
        return
    await notices.rate_change(
        session,
        ticket,
        v,
        msg(N_("vacancy period over; 100 % again from {day}."), day=v.half_until),
        now,
    )
    text = N_(
        "Your vacancy {ref} ended on {end}: property fee and shared utilities are at "
        "100 % as of that day."
    )
    body = msg(text, ref=ticket.ref, end=v.end_date)
    if ticket.state == St.RESTORE:
        body.add(N_("A technician will turn water and electricity back on and read the meters."))
        from models.vacancy_flow import step_due

        due = await step_due(session, ticket, "vacancy.restore")
        await notices.order_for_desk(session, ticket, v, due or now, now)
    notices.to_owner(session, ticket, body, now)
