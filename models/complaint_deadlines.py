"""The complaint ladder (seed ch.6 §6 4.2.4, 4.3): what happens when a complaint or suggestion
deadline passes. Each level is a stored deadline the sweep fires once; a case that moved on
in time has had its deadlines settled, and a handler finding the case in another state does
nothing.

- complaint.classify 1: not recorded within an office hour of filing → the front desk reminded.
- complaint.classify 2: still not recorded two office hours after filing → the department head.
- complaint.relay 1 / 2: an answer not passed on to the owner within an office hour → the
  front desk reminded; within two → the department head.
- complaint.due 1: the order's deadline missed → front desk and department head told.
- complaint.due 2: no reply two days after the order → the executive told directly.
- complaint.followup 1 / 2: follow-up overdue → department head reminded, then the executive.

Every message names the case, its class, how late it is and who holds it, with a button to
open it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import complaint_notices as notices
from models.base import N_, DomainError
from models.complaint import Complaint, St, load
from models.deadline import Due, on_due
from models.env import Env
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.ticket import Ticket


async def _case(session: AsyncSession, d: Due, state: St) -> tuple[Ticket, Complaint] | None:
    if d.ticket_id is None:
        return None
    try:
        ticket, complaint = await load(session, d.ticket_id)
    except DomainError:
        return None
    return (ticket, complaint) if ticket.state == state else None


async def _tell(
    session: AsyncSession, role: Role, complaint: Complaint, body: Msg, now: datetime
) -> None:
    await notify_role(
        session, role, body, now, building=complaint.building, ticket_id=complaint.ticket_id
    )


async def _chase_desk(
    session: AsyncSession,
    d: Due,
    ticket: Ticket,
    complaint: Complaint,
    body: Msg,
    desk_buttons: Callable[[Msg], object],
    head_note: str,
    now: datetime,
) -> None:
    """A step waiting for the front desk: level 1 reminds the desk, with the buttons that do
    the step; level 2 tells the department head that the desk was reminded."""
    if d.level >= 2:
        body.add(head_note)
        body.button_row(notices.open_button(ticket))
        await _tell(session, Role.SUPERVISOR, complaint, body, now)
        return
    desk_buttons(body)
    body.button_row(notices.open_button(ticket))
    await _tell(session, Role.RECEPTIONIST, complaint, body, now)


@on_due("complaint.classify")
async def _classify_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _case(session, d, St.RECORDING)
    if found is None:
        return
    ticket, complaint = found
    body = msg(
        N_("⏰ {ref} ({what}) has been waiting {late} for the front desk to record it."),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        late=notices.duration(now - d.created_at),
    )
    body.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
    body.photos = []
    note = N_("The front desk has been reminded; please see that it is recorded.")
    await _chase_desk(
        session,
        d,
        ticket,
        complaint,
        body,
        lambda m: notices.classify_buttons(ticket, m),
        note,
        now,
    )


@on_due("complaint.relay")
async def _relay_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _case(session, d, St.ANSWERED)
    if found is None:
        return
    ticket, complaint = found
    body = msg(
        N_("⏰ The answer on {ref} ({what}) has been waiting {late} to be passed on to the owner."),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        late=notices.duration(now - d.created_at),
    )
    body.lines += notices.answer_lines(complaint).lines

    def buttons(m: Msg) -> Msg:
        return m.button_row(
            (N_("Confirm and tell the owner"), notices.data("res", ticket)),
            (N_("Send back"), notices.data("bak", ticket)),
        )

    note = N_("The front desk has been reminded; please see that the owner is told.")
    await _chase_desk(session, d, ticket, complaint, body, buttons, note, now)


@on_due("complaint.due")
async def _handling_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _case(session, d, St.IN_HAND)
    if found is None or found[1].due_at is None:
        return
    ticket, complaint = found
    due = complaint.due_at
    assert due is not None
    holder = notices.holder_name(ticket, complaint, None)
    if d.level == 1:
        body = msg(
            N_(
                "🚨 {ref} ({what}) missed its deadline of {due}: {late} late, held by {name}. "
                "Reported to the department head (4.2.4)."
            ),
            ref=ticket.ref,
            what=notices.what(ticket, complaint),
            due=due,
            late=notices.duration(now - due),
            name=holder,
        )
        body.button_row(notices.open_button(ticket))
        await _tell(session, Role.RECEPTIONIST, complaint, body, now)
        await _tell(session, Role.SUPERVISOR, complaint, body, now)
        if ticket.assignee is not None:
            nudge = msg(
                N_(
                    "⏰ {ref} is past its deadline of {due}. Please reply now: the department "
                    "head has been told."
                ),
                ref=ticket.ref,
                due=due,
            )
            nudge.button_row(
                (N_("Record handling and result"), notices.data("rep", ticket)),
                (N_("Ask my superior"), notices.data("sup", ticket)),
            )
            enqueue(session, ticket.assignee, nudge, now, ticket_id=ticket.id)
        return
    since = d.data.get("since")  # given to someone else meanwhile: the wait runs on
    if since is None:
        body = msg(
            N_(
                "🚨🚨 {ref} ({what}): still no reply {days} after the work-contact order was "
                "sent to {name}, {late} past its deadline. Reported to the executive directly "
                "(4.2.4)."
            ),
            ref=ticket.ref,
            what=notices.what(ticket, complaint),
            days=notices.duration(now - (complaint.order_sent_at or d.created_at)),
            name=holder,
            late=notices.duration(now - due),
        )
    else:
        body = msg(
            N_(
                "🚨🚨 {ref} ({what}): still no reply {days} after the first work-contact order; "
                "given to {name} on {time}, due by {due}. Reported to the executive directly "
                "(4.2.4)."
            ),
            ref=ticket.ref,
            what=notices.what(ticket, complaint),
            days=notices.duration(now - datetime.fromisoformat(since)),
            name=holder,
            time=complaint.order_sent_at or d.created_at,
            due=due,
        )
    body.button_row(notices.open_button(ticket))
    await _tell(session, Role.EXECUTIVE, complaint, body, now)
    await _tell(session, Role.RECEPTIONIST, complaint, body, now)


@on_due("complaint.feedback")
async def _feedback_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """ch.4 四: asked their superior, and 24 office hours after the order the front desk has
    heard nothing from the person responsible."""
    found = await _case(session, d, St.IN_HAND)
    if found is None or found[0].assignee is None:
        return
    ticket, complaint = found
    holder = ticket.assignee
    assert holder is not None
    nudge = msg(
        N_(
            "⏰ {ref}: you asked your superior for instructions. Please tell the front desk "
            "how it is being handled: within 24 office hours of the order (ch.4 四), that was "
            "{due}."
        ),
        ref=ticket.ref,
        due=d.due_at,
    )
    nudge.button_row(
        (N_("Report progress"), notices.data("prg", ticket)),
        (N_("Record handling and result"), notices.data("rep", ticket)),
    )
    enqueue(session, holder, nudge, now, ticket_id=ticket.id)
    body = msg(
        N_(
            "⏰ {ref} ({what}): no word from {name} 24 office hours after the order; they "
            "asked their superior on {asked}. The order is due by {due}."
        ),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        name=holder.name,
        asked=complaint.asked_superior_at or d.created_at,
        due=complaint.due_at,
    )
    body.button_row(notices.open_button(ticket))
    await _tell(session, Role.RECEPTIONIST, complaint, body, now)


FOLLOWUP_OVERDUE = N_(
    "⏰ The follow-up (回访) of {ref} ({what}) is overdue by {late}; held by {name}."
)


@on_due("complaint.followup")
async def _followup_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _case(session, d, St.RESOLVED)
    if found is None:
        return
    ticket, complaint = found
    resolved = complaint.resolved_at or d.created_at
    late = notices.duration(now - (resolved + env.complaint.followup_limit))
    holder = (
        await session.get(Person, complaint.followup_holder_id)
        if complaint.followup_holder_id
        else None
    )
    name = notices.holder_name(ticket, complaint, holder)
    what = notices.what(ticket, complaint)
    if d.level == 1:
        for head in (True, False):
            body = msg(
                FOLLOWUP_OVERDUE,
                ref=ticket.ref,
                what=what,
                late=late,
                name=name,
            )
            notices.followup_buttons(ticket, complaint, body, head=head)
            body.button_row(notices.open_button(ticket))
            if head:
                await _tell(session, Role.SUPERVISOR, complaint, body, now)
            elif holder is not None and not holder.has_role(Role.SUPERVISOR, complaint.building):
                enqueue(session, holder, body, now, ticket_id=ticket.id)
        return
    body = msg(
        N_(
            "🚨 The follow-up (回访) of {ref} ({what}) is still not done, {late} after it was "
            "due; held by {name}."
        ),
        ref=ticket.ref,
        what=what,
        late=late,
        name=name,
    )
    body.button_row(notices.open_button(ticket))
    await _tell(session, Role.EXECUTIVE, complaint, body, now)
