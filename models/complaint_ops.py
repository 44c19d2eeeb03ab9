"""The state changes of a complaint or suggestion (states in :mod:`models.complaint`).

Each operation checks who acts and from which state, appends a signed event (4.2.7: every step
has a name and a date) and moves the deadlines, all in the caller's transaction. Who is told
what is the business of the *_flow, *_classify, *_handling and *_followup modules; the
follow-up's own changes are in :mod:`models.complaint_followup`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import DomainError
from models.complaint import (
    CHANNELS,
    CLASS_NAMES,
    MAX_PHOTOS,
    RAISED_WITH,
    RECEIVED_WITHIN,
    Complaint,
    St,
    answer_due,
    executive_due,
    handling_due,
    is_desk,
    is_head,
    may_be_responsible,
    passed_on_late,
    require,
    require_state,
)
from models.deadline import Deadline, schedule, settle
from models.env import Env
from models.people import Person, Role
from models.property import Unit
from models.ticket import Kind, Ticket, new_ticket


def _desk_ladder(session: AsyncSession, kind: str, ticket: Ticket, now: datetime, env: Env) -> None:
    """A step that waits for the front desk: reminded after an office hour; still waiting
    after two, the department head is told."""
    cal, policy = env.calendar, env.complaint
    remind, escalate = policy.classify_remind, max(policy.classify_escalate, policy.classify_remind)
    schedule(session, kind, cal.add_business_time(now, remind), now, ticket_id=ticket.id, level=1)
    schedule(session, kind, cal.add_business_time(now, escalate), now, ticket_id=ticket.id, level=2)


def schedule_classify(session: AsyncSession, ticket: Ticket, now: datetime, env: Env) -> None:
    """The front desk records the case (a case nobody records is answered by nobody)."""
    _desk_ladder(session, "complaint.classify", ticket, now, env)


async def file_case(
    session: AsyncSession,
    *,
    kind: Kind,
    owner: Person | None,
    unit: Unit,
    filer: Person,
    channel: str,
    description: str,
    location: str | None,
    photos: list[str],
    raised_with: str | None,
    now: datetime,
    env: Env,
    received_at: datetime | None = None,
    on_the_spot: str | None = None,
) -> tuple[Ticket, Complaint]:
    """The 业主投诉/建议处理记录表 row. Owners file through the bot; any staff member who hears
    a complaint logs it for the unit with the channel it came through (4.2.1, 4.2.3)."""
    if kind not in (Kind.COMPLAINT, Kind.SUGGESTION) or channel not in CHANNELS:
        raise DomainError("stale")
    if channel == "bot":
        require(owner is not None and owner.id == filer.id and received_at is None)
    else:
        require(filer.is_staff)
        received_at = received_at or now
        if not now - RECEIVED_WITHIN <= received_at <= now:
            raise DomainError("stale")
    if raised_with is not None and (raised_with not in RAISED_WITH or kind != Kind.COMPLAINT):
        raise DomainError("stale")
    if not 1 <= len(description.strip()) <= 1000 or len(location or "") > 200:
        raise DomainError("stale")
    if on_the_spot is not None and (
        channel != "face" or kind != Kind.COMPLAINT or not 1 <= len(on_the_spot.strip()) <= 1000
    ):
        raise DomainError("stale")
    ticket = await new_ticket(
        session,
        kind,
        state=St.RECORDING,
        owner=owner,
        unit=None,  # kept on the complaint row: see Complaint's docstring
        created_by=filer,
        summary=description[:500],
        now=now,
        calendar=env.calendar,
    )
    major = raised_with is not None
    complaint = Complaint(
        ticket_id=ticket.id,
        unit_id=unit.id,
        building=unit.building.code,
        channel=channel,
        description=description,
        location=location,
        photos=list(photos)[:MAX_PHOTOS],
        raised_with=raised_with,
        major=major,
        share_unit=False,
        case_study=False,
        answer_due_at=answer_due(now, env, major=major) if kind == Kind.SUGGESTION else None,
        received_at=received_at,
        on_the_spot=on_the_spot,
    )
    session.add(complaint)
    if received_at is not None:
        ticket.record(
            "logged_for_owner",
            filer,
            now,
            data={
                "channel": channel,
                "unit": unit.code,
                "received_at": received_at.isoformat(),
                "late": passed_on_late(complaint, now, env),
                "on_the_spot": on_the_spot is not None,
            },
        )
    schedule_classify(session, ticket, now, env)
    await session.flush()
    return ticket, complaint


def _send_order(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    responsible: Person,
    due: datetime,
    now: datetime,
    env: Env,
    *,
    waiting: tuple[datetime, datetime] | bool | None = None,
) -> None:
    """Issue the 工作联系单: the responsible person holds the case until they reply.
    `waiting` (reassignment without a reply, see `_unanswered`): the case's executive
    deadline and the moment its wait began, kept as they were, as 4.2.4 counts two days
    without any reply; False when the executive has already been told."""
    complaint.responsible_id = responsible.id
    complaint.order_sent_at = now
    complaint.asked_superior_at = None  # (asked about this order: see asked_on_this_order)
    complaint.due_at = due
    ticket.assignee_id = responsible.id
    ticket.assignee = responsible
    schedule(session, "complaint.due", due, now, ticket_id=ticket.id, level=1)
    if waiting is False:
        return
    if isinstance(waiting, tuple):
        at, since = waiting
        data = {"since": since.isoformat()}
        schedule(session, "complaint.due", at, now, ticket_id=ticket.id, level=2, data=data)
        return
    schedule(
        session, "complaint.due", executive_due(now, due, env), now, ticket_id=ticket.id, level=2
    )


async def _unanswered(
    session: AsyncSession, ticket: Ticket, complaint: Complaint
) -> tuple[datetime, datetime] | bool | None:
    """The executive deadline of the order in hand and when the wait began: (due, since);
    False when the executive has already been told of this order; None when there is no
    such deadline (kept: a new one is set)."""
    row = await session.scalar(
        select(Deadline)
        .where(
            Deadline.ticket_id == ticket.id,
            Deadline.kind == "complaint.due",
            Deadline.level == 2,
        )
        .order_by(Deadline.id.desc())
        .limit(1)
    )
    if row is None or row.done_at is not None:
        return None
    if row.fired_at is not None:
        return False
    since = row.data.get("since")
    began = datetime.fromisoformat(since) if since else complaint.order_sent_at or row.created_at
    return row.due_at, began


async def classify(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    *,
    klass: int | None,
    major: bool,
    responsible: Person,
    share_unit: bool,
    now: datetime,
    env: Env,
) -> bool:
    """The front desk records the case: class (complaints), major or not, the responsible
    person and whether they may see the unit. Returns True when it has just become major."""
    require(is_desk(actor, complaint))
    suggestion = ticket.kind == Kind.SUGGESTION.value
    if (klass is not None) if suggestion else (klass not in CLASS_NAMES):
        raise DomainError("stale")
    if complaint.major and not major:
        raise DomainError("stale")  # what the owner took elsewhere stays major
    if not may_be_responsible(responsible, complaint.building, env):
        raise DomainError("complaint_not_responsible", name=responsible.name)
    ticket.transition(
        {St.RECORDING},
        St.IN_HAND,
        "routed" if suggestion else "classified",
        actor,
        now,
        data={
            "class": klass,
            "major": major,
            "responsible_id": responsible.id,
            "responsible": responsible.name,
            "share_unit": share_unit,
        },
    )
    newly_major = major and not complaint.major
    complaint.klass, complaint.major, complaint.share_unit = klass, major, share_unit
    await settle(session, now, ticket_id=ticket.id, kinds={"complaint.classify"})
    if suggestion:
        complaint.answer_due_at = answer_due(ticket.created_at, env, major=major)
        due = complaint.answer_due_at
    else:
        due = handling_due(klass, now, env)
        complaint.answer_due_at = due
    _send_order(session, ticket, complaint, responsible, due, now, env)
    return newly_major


def ask_superior(
    ticket: Ticket, complaint: Complaint, actor: Person, note: str, now: datetime, env: Env
) -> bool:
    """The handler cannot deal with it alone (4.2.1, ch.4 四): must ask within 2 office hours
    of the order. Returns True when the request is late."""
    require(ticket.assignee_id == actor.id)
    require_state(ticket, {St.IN_HAND})
    sent = complaint.order_sent_at or now
    late = now > env.calendar.add_business_time(sent, env.complaint.ask_superior_limit)
    complaint.asked_superior_at = now
    ticket.record("asked_superior", actor, now, note=note, data={"late": late})
    return late


def feedback_due(complaint: Complaint, now: datetime, env: Env) -> datetime | None:
    """ch.4 四: a handler who has to ask a superior reports to the front desk how it is being
    handled within 24 office hours of the order; None when the case is due before that anyway
    (class 1 and 2), as its reply is the report."""
    due = env.calendar.add_business_time(
        complaint.order_sent_at or now, env.complaint.feedback_limit
    )
    return due if complaint.due_at is None or due < complaint.due_at else None


def report_progress(
    ticket: Ticket, complaint: Complaint, actor: Person, note: str, now: datetime
) -> None:
    """The person responsible tells the front desk how the case is being handled."""
    require(ticket.assignee_id == actor.id)
    require_state(ticket, {St.IN_HAND})
    ticket.record("progress", actor, now, note=note)


def give_opinion(
    ticket: Ticket, complaint: Complaint, actor: Person, note: str, now: datetime
) -> None:
    """A department head (or executive) gives a handling opinion (4.2.1, 4.2.5)."""
    require(is_head(actor, complaint) or actor.has_role(Role.EXECUTIVE, complaint.building))
    require_state(ticket, {St.RECORDING, St.IN_HAND, St.ANSWERED})
    ticket.record("opinion", actor, now, note=note)


async def reply(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    opinion: str,
    result: str,
    now: datetime,
    env: Env,
) -> None:
    """The responsible person records the handling opinion and the result (4.2.7); the front
    desk then passes it on to the owner (ch.4 五), and is reminded if it does not."""
    require(ticket.assignee_id == actor.id)
    late = complaint.due_at is not None and now > complaint.due_at
    ticket.transition(
        {St.IN_HAND},
        St.ANSWERED,
        "replied",
        actor,
        now,
        note=result,
        data={"opinion": opinion, "late": late},
    )
    complaint.opinion, complaint.result, complaint.replied_at = opinion, result, now
    await _answered(session, ticket, now, env)


async def _answered(session: AsyncSession, ticket: Ticket, now: datetime, env: Env) -> None:
    """The answer is with the front desk: off the handler's /queue, their deadlines met, and
    the desk reminded until it passes the answer on (ch.4 五)."""
    ticket.assignee_id = None
    ticket.assignee = None
    await settle(session, now, ticket_id=ticket.id, kinds={"complaint.due", "complaint.feedback"})
    _desk_ladder(session, "complaint.relay", ticket, now, env)


async def answered_on_the_spot(
    session: AsyncSession, ticket: Ticket, complaint: Complaint, now: datetime, env: Env
) -> None:
    """4.2.1-4.2.2: resolved on the spot by the person who heard it: once recorded, the case
    is answered with what they did; the front desk confirms it and tells the owner."""
    assert complaint.on_the_spot is not None
    heard_by = await session.get(Person, ticket.created_by_id) if ticket.created_by_id else None
    ticket.transition(
        {St.IN_HAND},
        St.ANSWERED,
        "replied",
        heard_by,
        now,
        note=complaint.on_the_spot,
        data={"on_the_spot": True, "late": False},
    )
    complaint.result, complaint.replied_at = complaint.on_the_spot, now
    await _answered(session, ticket, now, env)


async def reassign(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    responsible: Person,
    now: datetime,
    env: Env,
) -> Person | None:
    """The front desk gives the case to someone else (the person responsible left, is away,
    or is the wrong one): a new work-contact order, due when the old one was, or by the
    class's limit from now if that has passed. Returns who held it before."""
    require(is_desk(actor, complaint))
    require_state(ticket, {St.IN_HAND, St.ANSWERED})
    if not may_be_responsible(responsible, complaint.building, env):
        raise DomainError("complaint_not_responsible", name=responsible.name)
    if ticket.state == St.IN_HAND.value and responsible.id == complaint.responsible_id:
        raise DomainError("complaint_already_responsible", name=responsible.name)
    previous = (
        await session.get(Person, complaint.responsible_id) if complaint.responsible_id else None
    )
    # Still no reply: the two days to the executive run on (4.2.4). After a reply, the new
    # order starts its own.
    waiting = await _unanswered(session, ticket, complaint) if ticket.state == St.IN_HAND else None
    ticket.transition(
        {St.IN_HAND, St.ANSWERED},
        St.IN_HAND,
        "reassigned",
        actor,
        now,
        data={"responsible_id": responsible.id, "responsible": responsible.name},
    )
    await settle(
        session,
        now,
        ticket_id=ticket.id,
        kinds={"complaint.due", "complaint.feedback", "complaint.relay"},
    )
    due = complaint.due_at
    if due is None or due <= now:
        due = handling_due(complaint.klass, now, env)
    _send_order(session, ticket, complaint, responsible, due, now, env, waiting=waiting)
    return previous


async def send_back(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    note: str,
    now: datetime,
    env: Env,
) -> Person:
    """The front desk does not accept the answer: a new order to the same person."""
    require(is_desk(actor, complaint))
    responsible = (
        await session.get(Person, complaint.responsible_id) if complaint.responsible_id else None
    )
    if responsible is None:
        raise DomainError("stale")
    if not may_be_responsible(responsible, complaint.building, env):
        # They left the staff or changed post since they answered (`propdesk staff remove`).
        raise DomainError("complaint_not_responsible", name=responsible.name)
    ticket.transition({St.ANSWERED}, St.IN_HAND, "sent_back", actor, now, note=note)
    await settle(session, now, ticket_id=ticket.id, kinds={"complaint.relay"})
    _send_order(
        session, ticket, complaint, responsible, handling_due(complaint.klass, now, env), now, env
    )
    return responsible


async def resolve(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    actor: Person,
    explanation: str,
    now: datetime,
    env: Env,
) -> None:
    """The front desk confirms the result and tells the owner. A complaint then waits for its
    follow-up (4.3, within 3 days); a suggestion is closed with its answer."""
    require(is_desk(actor, complaint))
    suggestion = ticket.kind == Kind.SUGGESTION.value
    to_state = St.CLOSED if suggestion else St.RESOLVED
    ticket.transition({St.ANSWERED}, to_state, "resolved", actor, now, note=explanation)
    complaint.explanation, complaint.resolved_at = explanation, now
    await settle(session, now, ticket_id=ticket.id)
    if suggestion:
        ticket.closed_at = now
        return
    due = now + env.complaint.followup_limit
    schedule(session, "complaint.followup", due, now, ticket_id=ticket.id, level=1)
    schedule(
        session,
        "complaint.followup",
        due + env.complaint.followup_escalate,
        now,
        ticket_id=ticket.id,
        level=2,
    )
