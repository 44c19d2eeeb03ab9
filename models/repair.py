"""Repair requests (报修, seed ch.3): the 维修单 and its state machine.

new → dispatched → accepted → on_site ⇄ review / paused → done → confirmed | unconfirmed
→ closed (follow-up 回访); "not fixed" and an unhappy follow-up reopen it (back to new).
Every operation checks who acts and from which state, appends a signed event, moves the
deadlines and queues the notifications it causes, all in the caller's transaction.
"""

from __future__ import annotations

import difflib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, Numeric, String, Text, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import N_, Base, BigId, DomainError, JSONType, UTCDateTime
from models.deadline import Deadline, schedule, settle
from models.env import Env
from models.people import Person, Role
from models.property import Building, Unit, own_case
from models.queries import BUILDING_OF, waiting_for_roles
from models.ticket import Kind, Ticket, TicketEvent, new_ticket


class St(StrEnum):
    NEW = "new"
    DISPATCHED = "dispatched"
    ACCEPTED = "accepted"
    ON_SITE = "on_site"
    REVIEW = "review"
    PAUSED = "paused"
    DONE = "done"
    CONFIRMED = "confirmed"
    UNCONFIRMED = "unconfirmed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


OPEN = {St.NEW, St.DISPATCHED, St.ACCEPTED, St.ON_SITE, St.REVIEW, St.PAUSED}
WORKING = {St.ON_SITE, St.REVIEW, St.PAUSED}
# The front desk may give a job to another technician until it is done.
REASSIGNABLE = {St.DISPATCHED, St.ACCEPTED} | WORKING
STATE_NAMES = {
    St.NEW: N_("waiting for dispatch"),
    St.DISPATCHED: N_("dispatched"),
    St.ACCEPTED: N_("accepted by the technician"),
    St.ON_SITE: N_("technician on site"),
    St.REVIEW: N_("technical review"),
    St.PAUSED: N_("waiting for parts"),
    St.DONE: N_("done, waiting for confirmation"),
    St.CONFIRMED: N_("confirmed"),
    St.UNCONFIRMED: N_("closed without confirmation"),
    St.CLOSED: N_("closed"),
    St.CANCELLED: N_("cancelled"),
}
ACTION_NAMES = {
    "linked_complaint": N_("filed from a complaint"),  # (a class-2 complaint's warranty repair)
    "dispatched": N_("dispatched"),
    "reassigned": N_("reassigned"),
    "returned": N_("returned to the queue"),
    "accepted": N_("accepted"),
    "arrived": N_("arrived"),
    "review_requested": N_("sent for technical review"),
    "review_done": N_("technical review concluded"),
    "paused": N_("paused: waiting for parts"),
    "resumed": N_("resumed"),
    "material": N_("material recorded"),
    "material_verified": N_("materials verified by the owner"),
    "fee": N_("fee recorded"),
    "invoice_delivered": N_("invoice delivered"),
    "done": N_("marked done"),
    "confirmed": N_("confirmed and rated"),
    "commented": N_("comment added"),
    "not_fixed": N_("reported not fixed"),
    "unconfirmed": N_("closed without confirmation"),
    "followed_up": N_("follow-up recorded"),
    "reopened": N_("reopened"),
    "urged": N_("urged by the owner"),
    "cancelled": N_("cancelled by the owner"),
    "cancelled_by_office": N_("cancelled by the office"),
}
DEADLINES = {
    "repair.dispatch",
    "repair.arrival",
    "repair.review",
    "repair.reply",
    "repair.confirm",
    "repair.followup",
}


PAUSE_REASON_MAX = 300  # characters: which parts a paused job waits for


class Repair(Base):
    """The repair-specific part of a ticket (one row per R- ticket)."""

    __tablename__ = "repair"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(10))  # home | public
    category: Mapped[str] = mapped_column(String(32))
    description: Mapped[str] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(200))
    building: Mapped[str] = mapped_column(String(20), index=True)
    photos: Mapped[list[str]] = mapped_column(JSONType, default=list)
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    fees_accepted: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    dispatched_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    arrived_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    rating: Mapped[int | None] = mapped_column(Integer)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    followup_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_satisfied: Mapped[bool | None] = mapped_column()
    followup_note: Mapped[str | None] = mapped_column(Text)
    pause_reason: Mapped[str | None] = mapped_column(String(PAUSE_REASON_MAX))
    reply_left_s: Mapped[int | None] = mapped_column(Integer)  # office seconds left at pause
    last_urged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)


class Material(Base):
    """A part used (seed ch.3 step 3: 名称、规格、型号、数量、单价)."""

    __tablename__ = "repair_material"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    spec: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(100))
    quantity: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    unit_price: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    added_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime)

    @property
    def total(self) -> Decimal:
        return (self.quantity * self.unit_price).quantize(Decimal("0.01"))


class Fee(Base):
    """A fee collected on the spot (seed ch.3 step 5), for the cashier."""

    __tablename__ = "repair_fee"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(10, 2))
    note: Mapped[str] = mapped_column(String(200))
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    invoice_delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def repair_of(session: AsyncSession, ticket: Ticket) -> Repair:
    found = await session.get(Repair, ticket.id)
    if found is None:
        raise DomainError("stale")
    return found


async def open_jobs(session: AsyncSession, technician: Person) -> int:
    return int(
        await session.scalar(
            select(func.count())
            .select_from(Ticket)
            .where(
                Ticket.kind == Kind.REPAIR.value,
                Ticket.assignee_id == technician.id,
                Ticket.state.in_([s.value for s in OPEN]),
            )
        )
        or 0
    )


def similar(a: str, b: str) -> bool:
    """Near-identical descriptions (whitespace and case ignored)."""
    x, y = " ".join(a.lower().split()), " ".join(b.lower().split())
    return x == y or difflib.SequenceMatcher(None, x, y).ratio() >= 0.85


async def check_limits(
    session: AsyncSession,
    owner: Person,
    unit: Unit,
    category: str,
    description: str,
    now: datetime,
    env: Env,
) -> None:
    """Refuse the 11th request of a day and a duplicate of an open one."""
    day_start = datetime.combine(env.calendar.local_date(now), datetime.min.time(), env.calendar.tz)
    filed_today = await session.scalar(
        select(func.count())
        .select_from(Ticket)
        .where(
            Ticket.kind == Kind.REPAIR.value,
            Ticket.owner_id == owner.id,
            Ticket.created_at >= day_start,
        )
    )
    if (filed_today or 0) >= env.repair.daily_limit:
        raise DomainError("repair_daily_limit", limit=env.repair.daily_limit)
    rows = await session.execute(
        select(Ticket, Repair)
        .join(Repair, Repair.ticket_id == Ticket.id)
        .where(
            Ticket.unit_id == unit.id,
            Repair.category == category,
            Ticket.state.in_([s.value for s in OPEN]),
        )
    )
    for ticket, repair in rows.all():
        if similar(repair.description, description):
            raise DomainError("repair_duplicate", ref=ticket.ref)


async def file_repair(
    session: AsyncSession,
    *,
    owner: Person,
    unit: Unit,
    scope: str,
    category: str,
    description: str,
    location: str | None,
    photos: list[str],
    building: str | None = None,
    appointment_at: datetime | None,
    fees_accepted: list[dict[str, Any]],
    now: datetime,
    env: Env,
) -> tuple[Ticket, Repair]:
    """Create the 维修单 and the 业主报修纪录表 row; receptionists are told by the caller."""
    if scope not in ("home", "public"):
        raise DomainError("stale")
    cat = env.repair.category(category)
    if cat is None:
        raise DomainError("stale")
    if cat.chargeable and not fees_accepted:
        raise DomainError("repair_fees_not_accepted")
    await check_limits(session, owner, unit, category, description, now, env)
    where = await route_building(session, scope, building, unit)
    ticket = await new_ticket(
        session,
        Kind.REPAIR,
        state=St.NEW,
        owner=owner,
        unit=unit,
        created_by=owner,
        summary=description[:500],
        now=now,
        calendar=env.calendar,
    )
    repair = Repair(
        ticket_id=ticket.id,
        scope=scope,
        category=category,
        description=description,
        location=location,
        building=where,
        photos=photos[:5],
        appointment_at=appointment_at if scope == "home" else None,
        fees_accepted=fees_accepted,
        reopen_count=0,
    )
    session.add(repair)
    schedule_dispatch_deadlines(session, ticket, now, env)
    await session.flush()
    return ticket, repair


async def building_codes(session: AsyncSession) -> list[str]:
    """The buildings in the register, for the reporter of a public repair to choose from."""
    codes = (await session.execute(select(Building.code))).scalars().all()
    return sorted(codes, key=lambda c: (len(c), c))


async def route_building(
    session: AsyncSession, scope: str, building: str | None, unit: Unit
) -> str:
    """The building whose staff get the repair: the reporter's own for an in-home one; for a
    public one the building the reporter named. A shared area (no building, or a draft from
    before the question was asked) goes to the reporter's building, whose staff and the
    estate-wide staff (roles without a building) see it: a pseudo-building only estate-wide
    staff hold would leave it to nobody where technicians are per building."""
    if scope != "public" or not building:
        return unit.building.code
    if building not in await building_codes(session):
        raise DomainError("stale")
    return building


def schedule_dispatch_deadlines(
    session: AsyncSession, ticket: Ticket, now: datetime, env: Env
) -> None:
    cal, policy = env.calendar, env.repair
    schedule(
        session,
        "repair.dispatch",
        cal.add_business_time(now, policy.dispatch_remind),
        now,
        ticket_id=ticket.id,
        level=1,
    )
    schedule(
        session,
        "repair.dispatch",
        cal.add_business_time(now, policy.dispatch_escalate),
        now,
        ticket_id=ticket.id,
        level=2,
    )


def require(person: Person, role: Role, building: str | None = None) -> None:
    if not person.has_role(role, building):
        raise DomainError("not_allowed")


def require_assignee(ticket: Ticket, person: Person) -> None:
    if ticket.assignee_id != person.id:
        raise DomainError("not_allowed")


async def dispatch(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    technician: Person,
    actor: Person,
    now: datetime,
    env: Env,
    *,
    reassign: bool = False,
    expected_assignee_id: int | None = None,
) -> str:
    """派单 from the queue, or reassign (`reassign=True`) a job not yet done; returns the action.

    The two are separate buttons so that a stale dispatch button on another receptionist's
    copy of the new-repair message cannot silently take a job from the technician who has it.
    A reassignment names the technician it takes the job from (`expected_assignee_id`, the
    one who had it when the list was made): if a colleague has moved it since, it is refused.
    """
    require(actor, Role.RECEPTIONIST, repair.building)
    if reassign and ticket.assignee is not None and ticket.assignee_id != expected_assignee_id:
        raise DomainError("repair_assignee_changed", ref=ticket.ref, name=ticket.assignee.name)
    if not technician.has_role(Role.TECHNICIAN, repair.building):
        raise DomainError("repair_not_technician", name=technician.name)
    if technician.id == ticket.assignee_id:
        raise DomainError("repair_same_technician", name=technician.name, ref=ticket.ref)
    if await open_jobs(session, technician) >= env.repair.max_open_per_technician:
        raise DomainError(
            "repair_technician_full", name=technician.name, limit=env.repair.max_open_per_technician
        )
    action = "reassigned" if reassign else "dispatched"
    if reassign and ticket.state in WORKING:
        # Taken from a technician already at work (ill, left, parts on order): the new one
        # is dispatched afresh; the first visit, its materials and its pause stay in the
        # history and on the 维修单.
        repair.arrived_at = None
        repair.pause_reason = None
        repair.reply_left_s = None
    ticket.transition(
        REASSIGNABLE if reassign else {St.NEW},
        St.DISPATCHED,
        action,
        actor,
        now,
        data={"technician_id": technician.id, "technician": technician.name},
    )
    ticket.assignee_id = technician.id
    ticket.assignee = technician
    repair.dispatched_at = now
    await settle(
        session,
        now,
        ticket_id=ticket.id,
        kinds={"repair.dispatch", "repair.arrival", "repair.review", "repair.reply"},
    )
    schedule_arrival(session, ticket, arrival_start(repair, now), now, env)
    # Seed ch.4 四.1 (24 hours for a result): a visit the owner booked days ahead cannot
    # have a result before it, so the hours count from the appointment when it is later.
    schedule(
        session,
        "repair.reply",
        env.calendar.add_business_time(reply_start(repair, now), env.repair.reply_limit),
        now,
        ticket_id=ticket.id,
    )
    return action


def reply_start(repair: Repair, now: datetime) -> datetime:
    """What the 24 hours for a result count from: the dispatch, or the booked visit if later."""
    return max(now, repair.appointment_at) if repair.appointment_at else now


def arrival_start(repair: Repair, now: datetime) -> datetime:
    """What the 15 minutes count from: the owner's appointment while it is still to come (seed
    ch.3 step 2: 按照维修预约时间), else now."""
    return repair.appointment_at if repair.appointment_at and repair.appointment_at > now else now


def schedule_arrival(
    session: AsyncSession, ticket: Ticket, start: datetime, now: datetime, env: Env
) -> datetime:
    """On site within 15 minutes of `start` (the dispatch, the appointment, or the moment a
    job paused before arrival resumes), else the technician and then the team lead are told."""
    due = start + env.repair.arrival_grace
    schedule(session, "repair.arrival", due, now, ticket_id=ticket.id, level=1)
    schedule(
        session,
        "repair.arrival",
        due + env.repair.escalate_after,
        now,
        ticket_id=ticket.id,
        level=2,
    )
    return due


async def return_to_queue(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, now: datetime, env: Env
) -> Person | None:
    require(actor, Role.RECEPTIONIST, repair.building)
    previous = ticket.assignee
    ticket.transition({St.DISPATCHED, St.ACCEPTED}, St.NEW, "returned", actor, now)
    ticket.assignee_id = None
    ticket.assignee = None
    await settle(session, now, ticket_id=ticket.id)
    schedule_dispatch_deadlines(session, ticket, now, env)
    return previous


def accept(ticket: Ticket, actor: Person, now: datetime) -> None:
    require_assignee(ticket, actor)
    ticket.transition({St.DISPATCHED}, St.ACCEPTED, "accepted", actor, now)


async def arrive(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, now: datetime
) -> None:
    require_assignee(ticket, actor)
    ticket.transition({St.DISPATCHED, St.ACCEPTED}, St.ON_SITE, "arrived", actor, now)
    repair.arrived_at = now
    await settle(session, now, ticket_id=ticket.id, kinds={"repair.arrival"})


async def request_review(
    session: AsyncSession, ticket: Ticket, actor: Person, note: str, now: datetime, env: Env
) -> None:
    require_assignee(ticket, actor)
    ticket.transition({St.ON_SITE}, St.REVIEW, "review_requested", actor, now, note=note)
    # Seed ch.3 step 4 (评审至返回现场维修不能超过30分钟): the technician is waiting at the
    # door, so like the 15 minutes to arrive it is clock time, not office hours (SPEC §4
    # counts minutes in business time; the seed wins here).
    due = now + env.repair.review_limit
    schedule(session, "repair.review", due, now, ticket_id=ticket.id, level=1)
    schedule(
        session, "repair.review", due + env.repair.escalate_after, now, ticket_id=ticket.id, level=2
    )


async def conclude_review(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, note: str, now: datetime
) -> None:
    require(actor, Role.TEAM_LEAD, repair.building)
    ticket.transition({St.REVIEW}, St.ON_SITE, "review_done", actor, now, note=note)
    await settle(session, now, ticket_id=ticket.id, kinds={"repair.review"})


async def pause(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    actor: Person,
    reason: str,
    now: datetime,
    env: Env,
) -> None:
    """Waiting for parts: the reply clock stops; no reminder or escalation while paused."""
    require_assignee(ticket, actor)
    ticket.transition(
        {St.ON_SITE, St.ACCEPTED, St.DISPATCHED}, St.PAUSED, "paused", actor, now, note=reason
    )
    repair.pause_reason = reason
    left = await _reply_time_left(session, ticket, now, env)
    repair.reply_left_s = int(left.total_seconds())
    await settle(session, now, ticket_id=ticket.id)


async def _reply_time_left(
    session: AsyncSession, ticket: Ticket, now: datetime, env: Env
) -> timedelta:
    """What is left of the 24 office hours of the current dispatch (its latest reply deadline):
    nothing when it has already fired (the office was told once; a pause does not start the
    clock again), the whole limit when there is none."""
    latest = (
        await session.execute(
            select(Deadline.due_at, Deadline.fired_at, Deadline.done_at)
            .where(Deadline.ticket_id == ticket.id, Deadline.kind == "repair.reply")
            .order_by(Deadline.id.desc())
            .limit(1)
        )
    ).first()
    if latest is None or (latest.fired_at is None and latest.done_at is not None):
        return env.repair.reply_limit
    if latest.fired_at is not None:
        return timedelta(0)
    return max(env.calendar.business_time_between(now, latest.due_at), timedelta(minutes=30))


async def resume(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, now: datetime, env: Env
) -> datetime | None:
    """The parts are here. A job paused before the technician arrived goes back to waiting for
    them, with 15 minutes to be on site (returned); one paused on site carries on there."""
    require_assignee(ticket, actor)
    arrive_by = None
    if repair.arrived_at is None:
        ticket.transition({St.PAUSED}, St.ACCEPTED, "resumed", actor, now)
        arrive_by = schedule_arrival(session, ticket, arrival_start(repair, now), now, env)
    else:
        ticket.transition({St.PAUSED}, St.ON_SITE, "resumed", actor, now)
    if repair.reply_left_s != 0:  # (0: overdue already, and the office was told)
        left = timedelta(seconds=repair.reply_left_s or env.repair.reply_limit.total_seconds())
        due = env.calendar.add_business_time(now, left)
        schedule(session, "repair.reply", due, now, ticket_id=ticket.id)
    repair.pause_reason = None
    return arrive_by


def add_material(
    session: AsyncSession, ticket: Ticket, actor: Person, values: dict[str, Any], now: datetime
) -> Material:
    require_assignee(ticket, actor)
    # Also after Done, like a fee: a part remembered late (or a form finished after the
    # Done button) belongs on the 维修单 the owner signs; the caller asks them again.
    if ticket.state not in WORKING | {St.DONE}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    material = Material(
        ticket_id=ticket.id,
        name=values["name"],
        spec=values["spec"],
        model=values["model"],
        quantity=Decimal(values["quantity"]),
        unit_price=Decimal(values["unit_price"]),
        added_by_id=actor.id,
        added_at=now,
    )
    session.add(material)
    ticket.record("material", actor, now, data={k: str(v) for k, v in values.items()})
    return material


def record_fee(
    session: AsyncSession,
    ticket: Ticket,
    actor: Person,
    amount: Decimal,
    note: str,
    now: datetime,
) -> Fee:
    require_assignee(ticket, actor)
    if ticket.state not in WORKING | {St.DONE}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    fee = Fee(
        ticket_id=ticket.id, amount=amount, note=note, recorded_by_id=actor.id, recorded_at=now
    )
    session.add(fee)
    ticket.record("fee", actor, now, note=note, data={"amount": str(amount)})
    return fee


async def invoice_delivered(
    session: AsyncSession, ticket: Ticket, repair: Repair, fee_id: int, actor: Person, now: datetime
) -> Fee:
    """The cashier has handed the owner the invoice for a fee (seed ch.3 step 5); once."""
    require(actor, Role.CASHIER, repair.building)
    fee = await session.get(Fee, fee_id)
    if fee is None or fee.ticket_id != ticket.id or fee.invoice_delivered_at is not None:
        raise DomainError("stale")
    fee.invoice_delivered_at = now
    ticket.record("invoice_delivered", actor, now, data={"amount": str(fee.amount)})
    return fee


async def materials_of(session: AsyncSession, ticket: Ticket) -> list[Material]:
    rows = await session.execute(
        select(Material).where(Material.ticket_id == ticket.id).order_by(Material.id)
    )
    return list(rows.scalars().all())


async def fees_of(session: AsyncSession, ticket: Ticket) -> list[Fee]:
    rows = await session.execute(select(Fee).where(Fee.ticket_id == ticket.id).order_by(Fee.id))
    return list(rows.scalars().all())


async def complete(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, now: datetime, env: Env
) -> None:
    require_assignee(ticket, actor)
    ticket.transition({St.ON_SITE}, St.DONE, "done", actor, now)
    repair.done_at = now
    await settle(session, now, ticket_id=ticket.id)
    schedule(
        session,
        "repair.confirm",
        now + env.repair.confirm_remind,
        now,
        ticket_id=ticket.id,
        level=1,
    )
    schedule(
        session, "repair.confirm", now + env.repair.confirm_close, now, ticket_id=ticket.id, level=2
    )


def may_confirm(ticket: Ticket, repair: Repair, person: Person) -> bool:
    """The owner signs an in-home repair; the area's service officer a public one."""
    if repair.scope == "public":
        return person.has_role(Role.SERVICE, repair.building)
    return ticket.owner_id == person.id


# Other flows that care when a repair ends (a complaint waiting on its warranty repair).
EndedHook = Callable[[AsyncSession, Ticket, datetime], Awaitable[None]]
_ENDED: list[EndedHook] = []


def on_repair_ended(fn: EndedHook) -> EndedHook:
    _ENDED.append(fn)
    return fn


async def _ended(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    for hook in _ENDED:
        await hook(session, ticket, now)


async def confirm(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    actor: Person,
    rating: int,
    now: datetime,
    env: Env,
) -> None:
    if not may_confirm(ticket, repair, actor):
        raise DomainError("not_allowed")
    if not 1 <= rating <= 5:
        raise DomainError("stale")
    # Seed ch.3 step 7: the follow-up call (回访) is for in-home repairs; a public repair is
    # signed off by the area's service officer on site (step 6 note 1), which closes it.
    public = repair.scope == "public"
    ticket.transition({St.DONE}, St.CLOSED if public else St.CONFIRMED, "confirmed", actor, now,
                      data={"rating": rating})  # fmt: skip
    repair.confirmed_at = now
    repair.confirmed_by_id = actor.id
    repair.rating = rating
    await settle(session, now, ticket_id=ticket.id)
    if public:
        ticket.closed_at = now
        await _ended(session, ticket, now)
    else:
        schedule_followup(session, ticket, now, env)


def schedule_followup(session: AsyncSession, ticket: Ticket, now: datetime, env: Env) -> None:
    due = env.calendar.add_business_time(now, env.repair.followup_limit)
    schedule(session, "repair.followup", due, now, ticket_id=ticket.id)


def comment(ticket: Ticket, repair: Repair, actor: Person, text: str, now: datetime) -> None:
    if repair.confirmed_by_id != actor.id or repair.rating_comment:
        raise DomainError("stale")
    repair.rating_comment = text
    ticket.record("commented", actor, now, note=text)


async def not_fixed(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    actor: Person,
    note: str,
    now: datetime,
    env: Env,
) -> None:
    if not may_confirm(ticket, repair, actor):
        raise DomainError("not_allowed")
    ticket.transition({St.DONE}, St.NEW, "not_fixed", actor, now, note=note)
    await _reopen(session, ticket, repair, now, env)


async def _reopen(
    session: AsyncSession, ticket: Ticket, repair: Repair, now: datetime, env: Env
) -> None:
    """Back to the queue for a new visit: what belonged to the last visit (its arrival, its
    signature, rating and comment, a pause) is cleared; the history keeps it."""
    repair.reopen_count += 1
    repair.dispatched_at = repair.arrived_at = repair.done_at = None
    repair.confirmed_at = repair.confirmed_by_id = None
    repair.rating = None
    repair.rating_comment = None
    repair.pause_reason = None
    repair.reply_left_s = None
    await settle(session, now, ticket_id=ticket.id)
    schedule_dispatch_deadlines(session, ticket, now, env)


async def last_reopening(session: AsyncSession, ticket: Ticket) -> TicketEvent | None:
    """The latest event that sent the repair back for another visit ("Not fixed" at the
    signature, or an unhappy follow-up call), with what is still wrong as its note."""
    return (
        await session.execute(
            select(TicketEvent)
            .where(
                TicketEvent.ticket_id == ticket.id,
                TicketEvent.action.in_(["not_fixed", "followed_up"]),
                TicketEvent.to_state == St.NEW.value,
            )
            .order_by(TicketEvent.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


async def close_unconfirmed(
    session: AsyncSession, ticket: Ticket, repair: Repair, now: datetime, env: Env
) -> None:
    """Nobody signed within the limit: in-home repairs go to the follow-up call; a public
    repair (no owner to call) is closed and the supervisor is told by the caller."""
    ticket.transition({St.DONE}, St.UNCONFIRMED, "unconfirmed", None, now)
    await settle(session, now, ticket_id=ticket.id)
    if repair.scope == "public":
        ticket.closed_at = now
        await _ended(session, ticket, now)
    else:
        schedule_followup(session, ticket, now, env)


async def follow_up(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    actor: Person,
    satisfied: bool,
    note: str,
    now: datetime,
    env: Env,
) -> None:
    """回访: satisfied closes the ticket; not satisfied reopens it to the maintenance team.
    Only for an in-home repair still waiting for its call: a public one closed unsigned has no
    owner to call (seed ch.3 step 7) and stays closed."""
    require(actor, Role.RECEPTIONIST, repair.building)
    await require_not_own_home(session, ticket, actor)
    if ticket.closed_at is not None:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    repair.followup_at = now
    repair.followup_satisfied = satisfied
    repair.followup_note = note
    allowed = {St.CONFIRMED, St.UNCONFIRMED}
    if satisfied:
        ticket.transition(
            allowed, St.CLOSED, "followed_up", actor, now, note=note, data={"satisfied": True}
        )
        ticket.closed_at = now
        await settle(session, now, ticket_id=ticket.id)
        await _ended(session, ticket, now)
        return
    ticket.transition(
        allowed, St.NEW, "followed_up", actor, now, note=note, data={"satisfied": False}
    )
    ticket.record("reopened", actor, now)
    await _reopen(session, ticket, repair, now, env)


async def require_not_own_home(session: AsyncSession, ticket: Ticket, actor: Person) -> None:
    """The 回访 asks the household that reported it: a receptionist who filed the request,
    or who lives in the flat, leaves the call to a colleague."""
    if await own_case(session, actor, ticket):
        raise DomainError("repair_own_followup")


def urge(ticket: Ticket, repair: Repair, actor: Person, now: datetime, env: Env) -> None:
    """催单: at most once per hour, only for open tickets of the owner's own."""
    if ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    if ticket.state not in OPEN:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    if repair.last_urged_at and now - repair.last_urged_at < env.repair.urge_interval:
        raise DomainError(
            "repair_urged_recently", time=repair.last_urged_at + env.repair.urge_interval
        )
    repair.last_urged_at = now
    ticket.record("urged", actor, now)


def cancellable_states(repair: Repair) -> set[St]:
    """Where the owner may still withdraw: before the technician has arrived, a job paused
    for parts before anyone came included."""
    before = {St.NEW, St.DISPATCHED, St.ACCEPTED}
    return before | {St.PAUSED} if repair.arrived_at is None else before


async def cancel(
    session: AsyncSession, ticket: Ticket, repair: Repair, actor: Person, now: datetime
) -> Person | None:
    """The owner withdraws the request before the technician has arrived."""
    if ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    technician = ticket.assignee
    ticket.transition(cancellable_states(repair), St.CANCELLED, "cancelled", actor, now)
    ticket.closed_at = now
    await settle(session, now, ticket_id=ticket.id)
    await _ended(session, ticket, now)
    return technician


def may_cancel_for_owner(person: Person, repair: Repair) -> bool:
    """The front desk, or a supervisor, of the repair's building."""
    return person.has_role(Role.RECEPTIONIST, repair.building) or person.has_role(
        Role.SUPERVISOR, repair.building
    )


async def cancel_by_office(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    actor: Person,
    reason: str,
    now: datetime,
) -> Person | None:
    """The front desk (or a supervisor) withdraws a request: the owner phoned to withdraw it,
    or it repeats another report. Only while nobody has started work, as for the owner; the
    reason goes on the signed event. Returns the technician who had the job, if any."""
    if not may_cancel_for_owner(actor, repair):
        raise DomainError("not_allowed")
    reason = reason.strip()
    if not reason:
        raise DomainError("stale")
    if ticket.state not in cancellable_states(repair) or ticket.closed_at is not None:
        raise DomainError("repair_cancel_started", ref=ticket.ref, state=ticket.state)
    technician = ticket.assignee
    ticket.transition(
        cancellable_states(repair), St.CANCELLED, "cancelled_by_office", actor, now, note=reason
    )
    ticket.closed_at = now
    await settle(session, now, ticket_id=ticket.id)
    await _ended(session, ticket, now)
    return technician


async def office_cancel_reason(session: AsyncSession, ticket: Ticket) -> str | None:
    """Why the office cancelled the request, as signed on the event (None otherwise)."""
    return (
        await session.execute(
            select(TicketEvent.note)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.action == "cancelled_by_office")
            .order_by(TicketEvent.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def appointment_slots(now: datetime, env: Env, limit: int = 9) -> list[datetime]:
    """Bookable appointment times: office hours of today and the next days, on the hour grid."""
    cal, policy = env.calendar, env.repair
    earliest = now + policy.slot_lead
    out: list[datetime] = []
    day = cal.local_date(now)
    for offset in range(policy.slot_days):
        for start, end in cal.slots_on(day + timedelta(days=offset)):
            t = start
            while t < end and len(out) < limit:
                if t >= earliest:
                    out.append(t.astimezone(earliest.tzinfo))
                t += policy.slot_step
    return out


def slot_ok(moment: datetime, now: datetime, env: Env) -> bool:
    """An appointment is bookable if it is still in the offered grid."""
    return any(abs((s - moment).total_seconds()) < 60 for s in appointment_slots(now, env, 100))


async def _building_of(session: AsyncSession, ticket: Ticket) -> str | None:
    """Where the repair is: its unit's building, or the building a public repair is in."""
    return await session.scalar(select(Repair.building).where(Repair.ticket_id == ticket.id))


BUILDING_OF[Kind.REPAIR.value] = _building_of


async def work_for(session: AsyncSession, person: Person) -> list[Ticket]:
    """Repairs waiting for one of the person's roles (assigned jobs are listed anyway)."""
    still_open = Ticket.closed_at.is_(None)
    return await waiting_for_roles(session, person, Repair, [
        ({St.NEW, St.CONFIRMED, St.UNCONFIRMED}, Role.RECEPTIONIST, still_open),
        ({St.REVIEW}, Role.TEAM_LEAD, still_open),
        ({St.DONE}, Role.SERVICE, still_open & (Repair.scope == "public")),
    ])  # fmt: skip


async def open_jobs_of(session: AsyncSession, technician_ids: list[int]) -> dict[int, int]:
    """Open repair jobs per technician, in one query."""
    if not technician_ids:
        return {}
    rows = await session.execute(
        select(Ticket.assignee_id, func.count())
        .where(
            Ticket.kind == Kind.REPAIR.value,
            Ticket.assignee_id.in_(technician_ids),
            Ticket.state.in_([s.value for s in OPEN]),
        )
        .group_by(Ticket.assignee_id)
    )
    return {int(tech_id): int(n) for tech_id, n in rows.all() if tech_id is not None}
