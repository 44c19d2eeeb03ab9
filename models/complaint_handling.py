"""Complaint and suggestion operations after the work-contact order: asking a superior (ch.4
四), their opinion (4.2.1, 4.2.5), the handler's answer (4.2.7), the front desk sending it back
or confirming it to the owner. Load, change, tell; DomainError when the actor or the state does
not allow it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload

from models import complaint_notices as notices
from models import complaint_ops as ops
from models.base import N_, DomainError
from models.complaint import (
    Complaint,
    St,
    asked_on_this_order,
    load,
    unit_of,
)
from models.deadline import schedule, settle
from models.env import Env
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.property import reporter_for
from models.ticket import Ticket, TicketEvent


async def to_role(
    session: AsyncSession,
    role: Role,
    ticket: Ticket,
    complaint: Complaint,
    body: Msg,
    now: datetime,
) -> None:
    await notify_role(session, role, body, now, building=complaint.building, ticket_id=ticket.id)


async def ask_superior(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime, env: Env
) -> tuple[Ticket, bool]:
    ticket, complaint = await load(session, ticket_id)
    first = not asked_on_this_order(complaint)
    late = ops.ask_superior(ticket, complaint, actor, note, now, env)
    due = ops.feedback_due(complaint, now, env)
    if first and due is not None and due > now:
        schedule(session, "complaint.feedback", due, now, ticket_id=ticket.id)
    body = msg(
        N_("🙋 {name} asks for your instructions on {ref} ({what}): {note}"),
        name=actor.name,
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        note=note,
    )
    if late:
        body.add(
            N_("This comes {late} after the order; the rule is within 2 office hours."),
            late=notices.duration(now - (complaint.order_sent_at or now)),
        )
    body.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
    body.photos = []
    body.button_row((N_("Give an opinion"), notices.data("opn", ticket)))
    await to_role(session, Role.SUPERVISOR, ticket, complaint, body, now)
    return ticket, late


async def report_progress(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime
) -> Ticket:
    """ch.4 四: the handler's report to the front desk on a case still in hand."""
    ticket, complaint = await load(session, ticket_id)
    ops.report_progress(ticket, complaint, actor, note, now)
    await settle(session, now, ticket_id=ticket.id, kinds={"complaint.feedback"})
    body = msg(
        N_("📨 {name} reports on {ref} ({what}): {note}"),
        name=actor.name,
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        note=note,
    )
    body.add(N_("The order is due by {time}."), time=complaint.due_at)
    body.button_row(notices.open_button(ticket))
    await to_role(session, Role.RECEPTIONIST, ticket, complaint, body, now)
    return ticket


async def give_opinion(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime
) -> Ticket:
    """The superior's opinion goes to whoever handles the case and the front desk; for a
    major case also to the executive (4.2.5: 再报公司分管领导)."""
    ticket, complaint = await load(session, ticket_id)
    ops.give_opinion(ticket, complaint, actor, note, now)
    body = msg(
        N_("📝 Opinion of {name} on {ref}: {note}"), name=actor.name, ref=ticket.ref, note=note
    )
    if ticket.state == St.IN_HAND and ticket.assignee is not None:
        enqueue(session, ticket.assignee, body, now, ticket_id=ticket.id)
    await to_role(session, Role.RECEPTIONIST, ticket, complaint, body, now)
    if complaint.major and not actor.has_role(Role.EXECUTIVE, complaint.building):
        copy = msg(
            N_("📝 Opinion of {name} on {ref}: {note}"), name=actor.name, ref=ticket.ref, note=note
        )
        copy.button_row(notices.open_button(ticket))
        await to_role(session, Role.EXECUTIVE, ticket, complaint, copy, now)
    return ticket


async def reply(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    opinion: str,
    result: str,
    now: datetime,
    env: Env,
) -> Ticket:
    ticket, complaint = await load(session, ticket_id)
    await ops.reply(session, ticket, complaint, actor, opinion, result, now, env)
    body = msg(
        N_("📨 {name} answered {ref} ({what}):"),
        name=actor.name,
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
    )
    body.lines += notices.answer_lines(complaint).lines
    if complaint.due_at is not None and now > complaint.due_at:
        body.add(
            N_("Answered {late} after the deadline."), late=notices.duration(now - complaint.due_at)
        )
    body.button_row(
        (N_("Confirm and tell the owner"), notices.data("res", ticket)),
        (N_("Send back"), notices.data("bak", ticket)),
    )
    await to_role(session, Role.RECEPTIONIST, ticket, complaint, body, now)
    return ticket


async def send_back(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime, env: Env
) -> Ticket:
    ticket, complaint = await load(session, ticket_id)
    responsible = await ops.send_back(session, ticket, complaint, actor, note, now, env)
    order = await order_for(session, ticket, complaint, sent_back=note)
    enqueue(session, responsible, order, now, ticket_id=ticket.id)
    return ticket


async def opinions(session: AsyncSession, ticket: Ticket) -> list[tuple[str, str]]:
    """The handling opinions superiors gave on the case, oldest first: (name, note)."""
    rows = await session.execute(
        select(TicketEvent)
        .options(joinedload(TicketEvent.actor))
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "opinion")
        .order_by(TicketEvent.id)
    )
    return [(e.actor.name if e.actor else "—", e.note or "") for e in rows.scalars()]


async def order_for(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    *,
    linked: str | None = None,
    sent_back: str | None = None,
) -> Msg:
    """The work-contact order as it goes out now (new, given to someone else, sent back)."""
    unit = await unit_of(session, complaint)
    return notices.order(
        ticket,
        complaint,
        unit,
        linked if linked is not None else await linked_ref(session, complaint),
        reporter=await reporter_for(session, ticket.owner, unit),
        sent_back=sent_back,
        opinions=await opinions(session, ticket),
    )


async def linked_ref(session: AsyncSession, complaint: Complaint) -> str | None:
    if complaint.linked_ticket_id is None:
        return None
    linked = await session.get(Ticket, complaint.linked_ticket_id)
    return linked.ref if linked else None


async def resolve(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    explanation: str,
    now: datetime,
    env: Env,
) -> Ticket:
    """Confirmed: the owner gets the explanation (class 3 must have one written for them,
    4.2.6); the department head gets the follow-up task."""
    ticket, complaint = await load(session, ticket_id)
    if not explanation:
        if complaint.klass == 3:
            raise DomainError("complaint_explanation_needed")
        explanation = complaint.result or ""
    await ops.resolve(session, ticket, complaint, actor, explanation, now, env)
    suggestion = notices.is_suggestion(ticket)
    if ticket.owner is not None:
        told = msg(
            N_("✅ Answer to your suggestion {ref}:")
            if suggestion
            else N_("✅ Your complaint {ref} has been resolved:"),
            ref=ticket.ref,
        )
        told.lines.append(("{text}", {"text": explanation}))  # the owner's own words
        if not suggestion:
            told.add(
                N_(
                    "The department head or a colleague will ask you within 3 days how it "
                    "was handled."
                )
            )
        enqueue(session, ticket.owner, told, now, ticket_id=ticket.id)
    responsible = (
        await session.get(Person, complaint.responsible_id) if complaint.responsible_id else None
    )
    if responsible is not None and responsible.id != actor.id:
        enqueue(
            session,
            responsible,
            msg(
                N_("{ref} has been confirmed by the front desk and the owner told.")
                if ticket.owner is not None
                else N_("{ref} has been confirmed by the front desk, who will tell the owner."),
                ref=ticket.ref,
            ),
            now,
        )
    if not suggestion:
        unit = await unit_of(session, complaint)
        task = notices.followup_task(
            ticket,
            complaint,
            unit,
            now + env.complaint.followup_limit,
            reporter=await reporter_for(session, ticket.owner, unit),
        )
        await to_role(session, Role.SUPERVISOR, ticket, complaint, task, now)
    return ticket
