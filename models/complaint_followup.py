"""The follow-up (回访, seed ch.6 §6 4.3): within 3 days of resolution the department head, or
the colleague they delegate it to, asks the owner's opinion of the handling and what would
prevent a repeat, by phone or in the bot. Satisfied closes the case (class 1 then joins the
case list, 4.2.6); not satisfied reopens it for the front desk."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import complaint_notices as notices
from models.base import N_, DomainError
from models.complaint import (
    Complaint,
    St,
    is_head,
    load,
    may_follow_up,
    require,
    require_state,
    unit_of,
)
from models.complaint_handling import to_role
from models.complaint_ops import schedule_classify
from models.deadline import settle
from models.env import Env
from models.notification import Msg, enqueue, msg
from models.people import Person, Role, staff_with_role
from models.property import reporter_for
from models.ticket import Ticket

DELEGATE_ROLES = (Role.SUPERVISOR, Role.RECEPTIONIST, Role.SERVICE)


def assign_delegate(
    ticket: Ticket, complaint: Complaint, actor: Person, delegate: Person, now: datetime
) -> None:
    """The department head hands the follow-up to a colleague (4.3: 或其委托人)."""
    require(is_head(actor, complaint))
    require_state(ticket, {St.RESOLVED})
    if not any(delegate.has_role(r, complaint.building) for r in DELEGATE_ROLES):
        raise DomainError("stale")
    complaint.followup_holder_id = delegate.id
    ticket.record(
        "followup_delegated",
        actor,
        now,
        data={"delegate_id": delegate.id, "delegate": delegate.name},
    )


def mark_owner_asked(ticket: Ticket, complaint: Complaint, actor: Person, now: datetime) -> Person:
    """The follow-up asks the owner in the bot instead of by phone; returns the owner."""
    require(may_follow_up(actor, complaint))
    require_state(ticket, {St.RESOLVED})
    owner = ticket.owner
    if owner is None or owner.telegram_id is None:
        raise DomainError("complaint_owner_not_in_bot", ref=ticket.ref)
    complaint.followup_asked_at = now
    ticket.record("followup_asked", actor, now)
    return owner


async def record_followup(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    *,
    satisfied: bool,
    opinion: str,
    prevention: str,
    now: datetime,
    env: Env,
    explained: bool = False,
) -> None:
    """The 回访 (4.3): the owner's opinion of the handling and of how to prevent a repeat,
    recorded by the head or delegate after a call, or given by the owner when asked in the bot.
    Satisfied closes the case (class 1 then goes to the case list, 4.2.6); not satisfied
    reopens it for the front desk, except a class-3 case closed as explained (`explained`,
    4.2.6: the office cannot solve it; the owner's dissatisfaction stays on the record)."""
    by_owner = actor.id == ticket.owner_id and complaint.followup_asked_at is not None
    require(by_owner or may_follow_up(actor, complaint))
    if explained and (satisfied or by_owner or complaint.klass != 3):
        raise DomainError("stale")
    to_state = St.CLOSED if satisfied or explained else St.RECORDING
    ticket.transition(
        {St.RESOLVED},
        to_state,
        "follow_up_done",
        actor,
        now,
        note=opinion or None,
        data={
            "satisfied": satisfied,
            "by_owner": by_owner,
            "prevention": prevention,
            **({"explained": True} if explained else {}),
        },
    )
    complaint.followup_at, complaint.followup_satisfied = now, satisfied
    complaint.followup_opinion, complaint.followup_prevention = opinion, prevention
    await settle(session, now, ticket_id=ticket.id)
    if satisfied:
        ticket.closed_at = now
        complaint.case_study = complaint.klass == 1
        return
    if explained:
        ticket.closed_at = now
        return
    ticket.record("reopened", actor, now)
    complaint.followup_holder_id = None
    complaint.followup_asked_at = None
    # What was done on the spot did not satisfy the owner: this time it is handled in full,
    # with a work-contact order (the history keeps what was done then).
    complaint.on_the_spot = None
    schedule_classify(session, ticket, now, env)


async def delegate_menu(session: AsyncSession, ticket_id: int, actor: Person) -> Msg:
    ticket, complaint = await load(session, ticket_id)
    require(is_head(actor, complaint))
    require_state(ticket, {St.RESOLVED})
    out = msg(N_("Who should make the follow-up call for {ref}?"), ref=ticket.ref)
    seen: set[int] = set()
    for role in DELEGATE_ROLES:
        for person in await staff_with_role(session, role, complaint.building):
            if person.id not in seen and person.id != actor.id and len(seen) < 10:
                seen.add(person.id)
                out.button_row(
                    ("{name}", {"name": person.name}, notices.data("fdp", ticket, person.id))
                )
    return out


async def delegate(
    session: AsyncSession, ticket_id: int, actor: Person, raw_id: str, now: datetime, env: Env
) -> Person:
    ticket, complaint = await load(session, ticket_id)
    person = (
        await session.get(Person, int(raw_id)) if raw_id.isdigit() and len(raw_id) < 19 else None
    )
    if person is None:
        raise DomainError("stale")
    assign_delegate(ticket, complaint, actor, person, now)
    unit = await unit_of(session, complaint)
    task = notices.followup_task(
        ticket,
        complaint,
        unit,
        (complaint.resolved_at or now) + env.complaint.followup_limit,
        reporter=await reporter_for(session, ticket.owner, unit),
        head=False,
    )
    task.lines.insert(0, (N_("{name} asks you to make this follow-up call."), {"name": actor.name}))
    enqueue(session, person, task, now, ticket_id=ticket.id)
    return person


async def ask_owner(session: AsyncSession, ticket_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, complaint = await load(session, ticket_id)
    owner = mark_owner_asked(ticket, complaint, actor, now)
    question = msg(
        N_("📞 About your complaint {ref}: are you satisfied with how it was handled?"),
        ref=ticket.ref,
    )
    question.button_row(
        (N_("Satisfied"), notices.data("ofu", ticket, "y")),
        (N_("Not satisfied"), notices.data("ofu", ticket, "n")),
    )
    enqueue(session, owner, question, now, ticket_id=ticket.id)
    return ticket


async def follow_up(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    *,
    satisfied: bool,
    opinion: str,
    prevention: str,
    now: datetime,
    env: Env,
    explained: bool = False,
) -> Ticket:
    ticket, complaint = await load(session, ticket_id)
    await record_followup(
        session,
        ticket,
        complaint,
        actor,
        satisfied=satisfied,
        opinion=opinion,
        prevention=prevention,
        now=now,
        env=env,
        explained=explained,
    )
    if satisfied:
        head = N_("📞 Follow-up of {ref} recorded by {name}: the owner is satisfied.")
    elif explained:
        head = N_(
            "📞 Follow-up of {ref} recorded by {name}: the owner is NOT satisfied. Outside the "
            "planning red line (class 3), it has been explained to them and the case is closed."
        )
    else:
        head = N_("📞 Follow-up of {ref} recorded by {name}: the owner is NOT satisfied.")
    body = msg(head, ref=ticket.ref, name=actor.name)
    if opinion:
        body.add(N_("Opinion of the handling: {text}"), text=opinion)
    if prevention:
        body.add(N_("To prevent it happening again: {text}"), text=prevention)
    await to_role(session, Role.SUPERVISOR, ticket, complaint, body, now)
    if complaint.case_study:
        await to_role(session, Role.SUPERVISOR, ticket, complaint, analysis_task(ticket), now)
    if satisfied or explained:
        return ticket
    reopened = msg(N_("🔁 Reopened after the follow-up: {ref}"), ref=ticket.ref)
    reopened.lines += body.lines[1:]
    reopened.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
    notices.classify_buttons(ticket, reopened)
    await to_role(session, Role.RECEPTIONIST, ticket, complaint, reopened, now)
    return ticket


# --- case analysis (案例分析, 4.2.6) --------------------------------------------------------------


def may_analyse(person: Person, complaint: Complaint) -> bool:
    """The department head or an executive writes the analysis the departments learn from."""
    return is_head(person, complaint) or person.has_role(Role.EXECUTIVE, complaint.building)


async def write_analysis(
    session: AsyncSession, ticket_id: int, actor: Person, text: str, now: datetime
) -> Ticket:
    """The case analysis of a closed class-1 complaint (一类投诉处理完毕后要形成案例分析), kept
    on the case's record; a later one replaces it in /cases, the history keeps both."""
    ticket, complaint = await load(session, ticket_id)
    require(may_analyse(actor, complaint))
    if not complaint.case_study:
        raise DomainError("stale")
    ticket.record("case_analysis", actor, now, note=text)
    return ticket


def analysis_task(ticket: Ticket) -> Msg:
    out = msg(
        N_(
            "📚 {ref} (class 1) is closed. Please write its case analysis for the departments' "
            "training (4.2.6): the cause, what was done, and how to prevent it."
        ),
        ref=ticket.ref,
    )
    return out.button_row(
        (N_("Write the case analysis"), notices.data("ana", ticket)), notices.open_button(ticket)
    )
