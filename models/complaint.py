"""Complaints and suggestions (投诉/建议, seed ch.6 §6 and ch.4): the 业主投诉/建议处理记录表 row,
its deadlines and who may act on it.

recording → in_hand (工作联系单 sent to the responsible person) → answered (their handling
opinion and result) → resolved (the owner is told) → closed (回访 done). The front desk can send
an answer back (answered → in_hand); an unhappy follow-up reopens the case (→ recording).
The state changes live in :mod:`models.complaint_ops` and :mod:`models.complaint_followup`.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import N_, Base, DomainError, JSONType, UTCDateTime
from models.env import Env
from models.people import Person, Role
from models.property import OWNER_RELATIONS, Unit, UnitBinding
from models.queries import VIEW_CHECKS, waiting_for_roles
from models.ticket import Kind, Ticket, TicketEvent


class St(StrEnum):
    RECORDING = "recording"
    IN_HAND = "in_hand"
    ANSWERED = "answered"
    RESOLVED = "resolved"
    CLOSED = "closed"


OPEN = {St.RECORDING, St.IN_HAND, St.ANSWERED}
KINDS = {Kind.COMPLAINT.value, Kind.SUGGESTION.value}
STATE_NAMES = {
    St.RECORDING: N_("waiting to be recorded by the front desk"),
    St.IN_HAND: N_("with the person responsible"),
    St.ANSWERED: N_("answered, being checked by the front desk"),
    St.RESOLVED: N_("resolved, follow-up pending"),
    St.CLOSED: N_("closed"),
}
ACTION_NAMES = {
    "classified": N_("recorded and classified; work-contact order sent"),
    "routed": N_("recorded; passed to the person responsible"),
    "linked_repair": N_("warranty repair linked"),
    "asked_superior": N_("superior asked for instructions"),
    "progress": N_("progress reported to the front desk"),
    "reassigned": N_("given to another person responsible"),
    "opinion": N_("opinion of a superior"),
    "replied": N_("handling opinion and result recorded"),
    "sent_back": N_("sent back to the person responsible"),
    "resolved": N_("result confirmed; owner told"),
    "followup_delegated": N_("follow-up delegated"),
    "followup_asked": N_("owner asked for their opinion"),
    "follow_up_done": N_("follow-up (回访) recorded"),
    "logged_for_owner": N_("logged by staff on the owner's behalf"),
    "case_analysis": N_("case analysis written"),
}
CLASS_NAMES = {
    1: N_("class 1 (our management or service)"),
    2: N_("class 2 (house quality)"),
    3: N_("class 3 (outside the planning red line)"),
}
CHANNELS = {
    "bot": N_("the bot"),
    "face": N_("face to face"),
    "phone": N_("phone"),
    "letter": N_("letter"),
    "email": N_("e-mail"),
}
RAISED_WITH = {
    "company": N_("the company"),
    "group": N_("the group"),
    "government": N_("a government office"),
}
DEADLINES = {"complaint.classify", "complaint.due", "complaint.relay", "complaint.followup"}
MAX_PHOTOS = 5


class Complaint(Base):
    """The complaint- or suggestion-specific part of a C- or S- ticket.

    The unit is kept here rather than on the ticket: the person responsible sees it only when
    the front desk chooses to share it, and generic ticket views show a ticket's unit.
    """

    __tablename__ = "complaint"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    building: Mapped[str] = mapped_column(String(20), index=True)
    channel: Mapped[str] = mapped_column(String(10))
    # When the person who heard it received it (4.2.3: passed to the front desk within an
    # hour); None for a case filed in the bot, received when filed.
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # 4.2.1: a face-to-face complaint the person who heard it resolved there and then: what
    # they did. The front desk still records and classifies it, then tells the owner.
    on_the_spot: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    photos: Mapped[list[str]] = mapped_column(JSONType, default=list)
    raised_with: Mapped[str | None] = mapped_column(String(12))
    major: Mapped[bool] = mapped_column(default=False)
    klass: Mapped[int | None] = mapped_column(Integer)
    share_unit: Mapped[bool] = mapped_column(default=False)
    responsible_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    order_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answer_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    asked_superior_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    opinion: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str | None] = mapped_column(Text)
    replied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    explanation: Mapped[str | None] = mapped_column(Text)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    linked_ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    case_study: Mapped[bool] = mapped_column(default=False, index=True)
    followup_holder_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    followup_asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_satisfied: Mapped[bool | None] = mapped_column()
    followup_opinion: Mapped[str | None] = mapped_column(Text)
    followup_prevention: Mapped[str | None] = mapped_column(Text)


# --- deadlines (SPEC §4: hours count office time, "the same day" is the close, days are days) ---


RECEIVED_WITHIN = timedelta(days=7)  # a case logged later than this was not "received just now"


def passed_on_late(complaint: Complaint, logged_at: datetime, env: Env) -> bool:
    """Whether the case reached the front desk later than the seed allows: a letter, call or
    e-mail within an office hour of receiving it (4.2.3); a complaint made face to face is
    dealt with first and recorded the same day (4.2.2)."""
    received = complaint.received_at
    if received is None:
        return False
    if complaint.channel == "face":
        return logged_at > env.calendar.end_of_business_day(received)
    return logged_at > env.calendar.add_business_time(received, env.complaint.pass_on_limit)


def answer_due(filed: datetime, env: Env, *, major: bool) -> datetime:
    """When a suggestion must be answered (ch.4 五: 24 hours, a major issue 48)."""
    policy = env.complaint
    limit = policy.major_answer_limit if major else policy.answer_limit
    return env.calendar.add_business_time(filed, limit)


def handling_due(klass: int | None, sent: datetime, env: Env) -> datetime:
    """The deadline of a work-contact order sent at `sent` (4.2.3): class 1 within 4 hours,
    class 2 the same day, class 3 within 3 days; a suggestion within its answer time."""
    cal, policy = env.calendar, env.complaint
    if klass == 1:
        return cal.add_business_time(sent, policy.class1_limit)
    if klass == 2:
        return cal.end_of_business_day(sent)
    if klass == 3:
        return sent + policy.class3_limit
    return cal.add_business_time(sent, policy.answer_limit)


def executive_due(sent: datetime, due: datetime, env: Env) -> datetime:
    """4.2.4: no reply two days after the order was sent goes to the executive. The ladder
    must climb in order, so when the case's own deadline is later than that (class 3, a
    suggestion) the two days count from the deadline instead."""
    at = sent + env.complaint.executive_after
    return at if at > due else due + env.complaint.executive_after


def class_label(complaint: Complaint, kind: str) -> str:
    if kind == Kind.SUGGESTION.value:
        return N_("suggestion")
    if complaint.klass in CLASS_NAMES:
        return CLASS_NAMES[complaint.klass]
    return N_("complaint, not yet classified")


# --- who may do what ---------------------------------------------------------------------------


def is_desk(person: Person, complaint: Complaint) -> bool:
    return person.has_role(Role.RECEPTIONIST, complaint.building)


def is_head(person: Person, complaint: Complaint) -> bool:
    """The department head (supervisor) of the case's building."""
    return person.has_role(Role.SUPERVISOR, complaint.building)


def sees_everything(person: Person, complaint: Complaint) -> bool:
    """Front desk, supervisors, executives and the follow-up delegate see contact details."""
    return (
        is_desk(person, complaint)
        or is_head(person, complaint)
        or person.has_role(Role.EXECUTIVE, complaint.building)
        or (complaint.followup_holder_id is not None and complaint.followup_holder_id == person.id)
    )


def may_see(person: Person, ticket: Ticket, complaint: Complaint) -> bool:
    return sees_everything(person, complaint) or person.id in {
        ticket.assignee_id,
        complaint.responsible_id,
    }


async def _may_view_case(session: AsyncSession, viewer: Person, ticket: Ticket) -> bool:
    """/ticket and the ticket buttons follow the case's own rule (`may_see`)."""
    complaint = await session.get(Complaint, ticket.id)
    return complaint is not None and may_see(viewer, ticket, complaint)


VIEW_CHECKS[Kind.COMPLAINT] = VIEW_CHECKS[Kind.SUGGESTION] = _may_view_case


def require(allowed: bool) -> None:
    if not allowed:
        raise DomainError("not_allowed")


def require_state(ticket: Ticket, states: set[St]) -> None:
    if ticket.state not in states:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)


def may_be_responsible(person: Person, building: str, env: Env) -> bool:
    return any(person.has_role(Role(r), building) for r in env.complaint.responsible_roles)


def asked_on_this_order(complaint: Complaint) -> bool:
    """Whether the person responsible asked their superior about the current order (a new
    order, sent back or given to someone else, starts without; the history keeps the ask)."""
    return complaint.asked_superior_at is not None


def may_follow_up(person: Person, complaint: Complaint) -> bool:
    """The department head or the person they delegated the follow-up to (4.3)."""
    return is_head(person, complaint) or complaint.followup_holder_id == person.id


# --- reading -----------------------------------------------------------------------------------


async def load(session: AsyncSession, ticket_id: int) -> tuple[Ticket, Complaint]:
    """The ticket and its complaint row; a missing or foreign id is a stale button."""
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.kind not in KINDS:
        raise DomainError("stale")
    complaint = await session.get(Complaint, ticket.id)
    if complaint is None:
        raise DomainError("stale")
    return ticket, complaint


async def unit_of(session: AsyncSession, complaint: Complaint) -> Unit | None:
    return await session.get(Unit, complaint.unit_id)


async def bindings_of_unit(session: AsyncSession, unit_id: int) -> list[UnitBinding]:
    """The people who use the bot for the unit (owners before tenants, oldest first): whom a
    complaint logged by staff may come from. Never guessed: the person logging it chooses."""
    rows = await session.execute(
        select(UnitBinding).where(UnitBinding.unit_id == unit_id).order_by(UnitBinding.id)
    )
    bindings = list(rows.scalars().all())
    return sorted(bindings, key=lambda b: b.relation not in OWNER_RELATIONS)


async def complainant_of(session: AsyncSession, unit: Unit, person_id: int | None) -> Person | None:
    """The person chosen as the one who raised a logged complaint, if still bound to the unit
    (a binding removed in the meantime leaves the case without one: nobody else is told)."""
    if not person_id:
        return None
    bound = {b.person_id: b.person for b in await bindings_of_unit(session, unit.id)}
    return bound.get(person_id)


async def case_studies(
    session: AsyncSession, limit: int = 20
) -> list[tuple[Ticket, Complaint, str | None]]:
    """Closed class-1 complaints kept for case analysis and training (4.2.6), each with its
    latest written analysis (None while nobody has written one)."""
    rows = await session.execute(
        select(Ticket, Complaint)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Complaint.case_study.is_(True))
        .order_by(Ticket.closed_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    found = [(t, c) for t, c in rows.all()]
    analyses: dict[int, str | None] = {}
    if found:
        events = await session.execute(
            select(TicketEvent.ticket_id, TicketEvent.note)
            .where(
                TicketEvent.ticket_id.in_([t.id for t, _ in found]),
                TicketEvent.action == "case_analysis",
            )
            .order_by(TicketEvent.id)
        )
        analyses = {ticket_id: note for ticket_id, note in events.all()}  # the latest wins
    return [(t, c, analyses.get(t.id)) for t, c in found]


async def work_for(session: AsyncSession, person: Person) -> list[Ticket]:
    """Cases waiting for one of the person's roles, for /queue (assigned ones come anyway)."""
    out = await waiting_for_roles(session, person, Complaint, [
        ({St.RECORDING, St.ANSWERED}, Role.RECEPTIONIST, None),
        ({St.RESOLVED}, Role.SUPERVISOR, None),
    ])  # fmt: skip
    rows = await session.execute(
        select(Ticket)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Ticket.state == St.RESOLVED.value, Complaint.followup_holder_id == person.id)
    )
    out += list(rows.scalars().all())
    return out
