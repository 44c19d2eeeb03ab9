"""Vacancy applications (空置房申请, seed ch.6 §3 5.2): the 《空置房申请表》 and the fee rate.

id_check → opinion → approval → shutoff → vacant → (restore →) ended | occupied | cancelled;
rejected and lapsed end an application before approval. The fee rate follows the dates the
supervisor approved: 50 % from the start date until the day the vacancy ends (that day is at
100 % again), whichever way it ends (5.2.5, 5.2.6).
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import N_, Base, DomainError, UTCDateTime
from models.env import Env
from models.people import Person, Role
from models.property import OWNER_RELATIONS, Unit, UnitBinding
from models.queries import waiting_for_roles
from models.ticket import Kind, Ticket, new_ticket
from models.vacancy_dates import check_period


class St(StrEnum):
    ID_CHECK = "id_check"
    OPINION = "opinion"
    APPROVAL = "approval"
    SHUTOFF = "shutoff"
    VACANT = "vacant"
    RESTORE = "restore"
    ENDED = "ended"
    OCCUPIED = "occupied"
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    LAPSED = "lapsed"


PENDING = {St.ID_CHECK, St.OPINION, St.APPROVAL}
ACTIVE = PENDING | {St.SHUTOFF, St.VACANT}  # may still be cancelled by the owner
CLOSED = {St.ENDED, St.OCCUPIED, St.CANCELLED, St.REJECTED, St.LAPSED}

STATE_NAMES = {
    St.ID_CHECK: N_("waiting for the original ID at the office"),
    St.OPINION: N_("waiting for the service officer's opinion"),
    St.APPROVAL: N_("waiting for the supervisor's approval"),
    St.SHUTOFF: N_("approved, water and electricity to be shut off"),
    St.VACANT: N_("vacant, water and electricity off"),
    St.RESTORE: N_("water and electricity to be turned back on"),
    St.ENDED: N_("ended"),
    St.OCCUPIED: N_("ended: the unit is in use"),
    St.CANCELLED: N_("cancelled"),
    St.REJECTED: N_("rejected"),
    St.LAPSED: N_("lapsed: the ID was not shown in time"),
}
# The office ended the owner's link to the unit (``units unbind``): their application ends,
# or, when another owner stays linked, goes on under that owner's name.
UNLINKED = "unlinked"
PASSED = "passed_to_owner"
ACTION_NAMES = {
    "id_seen": N_("original ID seen at the office"),
    "opinion": N_("service officer's opinion signed"),
    "approved": N_("approved"),
    "rejected": N_("rejected"),
    "shutoff_dispatched": N_("shut-off order dispatched"),
    "shut_off": N_("water and electricity shut off, meters read"),
    "restore_dispatched": N_("restore order dispatched"),
    "restored": N_("water and electricity back on, meters read"),
    "withdrawn": N_("withdrawn by the owner"),
    "cancelled_early": N_("cancelled early by the owner"),
    UNLINKED: N_("ended: the office ended the owner's link to the unit"),
    PASSED: N_("passed to the unit's other owner (the office ended the applicant's link)"),
    "term_ended": N_("vacancy period ended"),
    "occupied": N_("consumption found: the unit is in use"),
    "occupied_before": N_("ended: the unit was found in use during the vacancy it continues"),
    "used_before_end": N_(
        "consumption found at the restore visit: counted as occupied from the previous reading"
    ),
    "lapsed": N_("lapsed"),
    "reminded": N_("owner reminded of the end date"),
    "will_end": N_("owner will let it end"),
    "renewed": N_("owner applied again"),
    "meter_replaced": N_(
        "a meter was replaced: the old one's final and the new one's first reading"
    ),
}


class Vacancy(Base):
    """The vacancy-specific part of a V- ticket: the 《空置房申请表》 and its signatures."""

    __tablename__ = "vacancy"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    building: Mapped[str] = mapped_column(String(20), index=True)
    start_date: Mapped[date] = mapped_column(Date)
    end_date: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    precautions_at: Mapped[datetime] = mapped_column(UTCDateTime)  # acknowledged by the owner
    renews_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    id_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    id_seen_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opinion_ok: Mapped[bool | None] = mapped_column(Boolean)
    opinion_note: Mapped[str | None] = mapped_column(Text)
    opinion_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    opinion_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    decision_note: Mapped[str | None] = mapped_column(Text)
    # The 50 % period in force: set on approval, shortened when the vacancy ends early.
    half_from: Mapped[date | None] = mapped_column(Date, index=True)
    half_until: Mapped[date | None] = mapped_column(Date, index=True)  # first day at 100 % again
    shut_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    restored_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # term | cancelled | occupied | unlinked
    end_reason: Mapped[str | None] = mapped_column(String(12))


async def vacancy_of(session: AsyncSession, ticket: Ticket) -> Vacancy:
    found = await session.get(Vacancy, ticket.id)
    if found is None:
        raise DomainError("stale")
    return found


async def load(session: AsyncSession, ticket_id: int) -> tuple[Ticket, Vacancy]:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.kind != Kind.VACANCY.value:
        raise DomainError("stale")
    return ticket, await vacancy_of(session, ticket)


async def owned_units(session: AsyncSession, person: Person) -> list[Unit]:
    """Units the person owns (a tenant's binding does not allow a vacancy application)."""
    rows = await session.execute(
        select(Unit)
        .join(UnitBinding, UnitBinding.unit_id == Unit.id)
        .where(UnitBinding.person_id == person.id, UnitBinding.relation.in_(OWNER_RELATIONS))
        .order_by(Unit.code)
    )
    return list(rows.scalars().all())


async def owned_unit(session: AsyncSession, person: Person, unit_id: int) -> Unit:
    unit = next((u for u in await owned_units(session, person) if u.id == unit_id), None)
    if unit is None:
        raise DomainError("vacancy_not_your_unit")
    return unit


def period_end(vacancy: Vacancy) -> date:
    """The end of the period an application holds: the approved one, else the requested."""
    return vacancy.half_until if vacancy.half_until is not None else vacancy.end_date


async def check_overlap(
    session: AsyncSession, unit: Unit, start: date, end: date, *, ignore: int | None = None
) -> None:
    """One application at a time per unit and day: refuse a period that overlaps one still
    open or approved. A new period may begin on the day another ends (re-application)."""
    rows = await session.execute(
        select(Ticket, Vacancy)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(
            Vacancy.unit_id == unit.id,
            Ticket.state.in_([s.value for s in ACTIVE]),
            Vacancy.start_date < end,
        )
    )
    for ticket, vacancy in rows.all():
        if ticket.id != ignore and period_end(vacancy) > start:
            raise DomainError("vacancy_overlap", ref=ticket.ref)


async def file_application(
    session: AsyncSession,
    *,
    owner: Person,
    unit_id: int,
    start: date,
    end: date,
    reason: str,
    renews: int | None,
    now: datetime,
    env: Env,
) -> tuple[Ticket, Vacancy]:
    """Create the 《空置房申请表》; it waits for the owner's original ID at the office."""
    unit = await owned_unit(session, owner, unit_id)
    policy = env.vacancy
    check_period(
        start,
        end,
        env.calendar.local_date(now),
        min_months=policy.min_months,
        max_months=policy.max_months,
        max_ahead_days=policy.max_start_ahead_days,
    )
    await check_overlap(session, unit, start, end)
    ticket = await new_ticket(
        session,
        Kind.VACANCY,
        state=St.ID_CHECK,
        owner=owner,
        unit=unit,
        created_by=owner,
        summary=reason[:500],
        now=now,
        calendar=env.calendar,
    )
    ticket.unit, ticket.owner = unit, owner  # loaded: the notices read them right away
    vacancy = Vacancy(
        ticket_id=ticket.id,
        unit_id=unit.id,
        building=unit.building.code,
        start_date=start,
        end_date=end,
        reason=reason,
        precautions_at=now,
        renews_id=renews,
    )
    session.add(vacancy)
    await session.flush()
    return ticket, vacancy


async def fee_rate(
    session: AsyncSession, unit_id: int, day: date, env: Env
) -> tuple[int, Ticket | None, Vacancy | None]:
    """The rate (percent) of property fee and shared utilities for a unit on a day, and the
    application that makes it 50 %. Overlapping approved periods still give 50 %, never less."""
    row = (
        await session.execute(
            select(Ticket, Vacancy)
            .join(Vacancy, Vacancy.ticket_id == Ticket.id)
            .where(
                Vacancy.unit_id == unit_id,
                Vacancy.half_from.is_not(None),
                Vacancy.half_from <= day,
                Vacancy.half_until > day,
            )
            .order_by(Vacancy.half_from, Ticket.id)
            .limit(1)
        )
    ).first()
    if row is None:
        return 100, None, None
    return env.vacancy.half_rate_percent, row[0], row[1]


async def work_for(session: AsyncSession, person: Person) -> list[Ticket]:
    """Applications waiting for one of the person's roles, for /queue (orders assigned to
    them are listed anyway): the officer's ID checks and opinions, the supervisor's
    approvals, the front desk's orders nobody has been sent on yet."""
    return await waiting_for_roles(session, person, Vacancy, [
        ({St.ID_CHECK, St.OPINION}, Role.SERVICE, None),
        ({St.APPROVAL}, Role.SUPERVISOR, None),
        ({St.SHUTOFF, St.RESTORE}, Role.RECEPTIONIST, Ticket.assignee_id.is_(None)),
    ])  # fmt: skip
