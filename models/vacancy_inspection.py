"""Inspections of vacant units (空置房检查, seed 5.1, 5.3-5.5): rounds of tasks, the
officer's record, the supervisor's spot check, and the units the admin marks as unsold,
basement (《地下室检查记录表》) or not yet renovated, kept here so the unit directory itself is
not touched.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models.base import N_, Base, BigId, DomainError, UTCDateTime
from models.deadline import Deadline
from models.people import Person, Role
from models.property import Unit
from models.ticket import Ticket
from models.vacancy import ACTIVE, St, Vacancy

# 空置房 (seed, 解释) covers a home its owner has taken over but not renovated: it is vacant
# without an application (5.2.1: 未装修的不用申请) and inspected monthly like the others (5.3).
UNRENOVATED = "unfinished"
MARKS = {"unsold": N_("unsold"), "basement": N_("basement"), UNRENOVATED: N_("not yet renovated")}
REASONS = {"vacant": N_("vacant"), **MARKS}
ROUNDS = {"monthly": N_("monthly inspection"), "weather": N_("severe-weather inspection")}


class UnitMark(Base):
    """A unit inspected like a vacant one although nobody applied: unsold (5.1), a basement
    (5.4) or not yet renovated (5.2.1). Keyed by the unit, so the directory import never
    overwrites it."""

    __tablename__ = "vacancy_mark"

    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    marked_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime)

    unit: Mapped[Unit] = relationship(lazy="joined")


class Round(Base):
    """One inspection round: the month's (due by month end) or a severe-weather one (5.1.3)."""

    __tablename__ = "vacancy_round"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    month: Mapped[str | None] = mapped_column(String(7), unique=True)  # YYYY-MM, monthly only
    note: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    deadline_id: Mapped[int | None] = mapped_column(ForeignKey("deadline.id"))


class Inspection(Base):
    """A unit to inspect in a round: readings and condition (《空置房检查记录表》)."""

    __tablename__ = "vacancy_inspection"
    __table_args__ = (UniqueConstraint("round_id", "unit_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("vacancy_round.id"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    building: Mapped[str] = mapped_column(String(20), index=True)
    reason: Mapped[str] = mapped_column(String(10))  # vacant | unsold | basement | unfinished
    vacancy_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    water: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    electricity: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    condition: Mapped[str | None] = mapped_column(Text)
    problem: Mapped[bool | None] = mapped_column(Boolean)
    spot_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    spot_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    spot_ok: Mapped[bool | None] = mapped_column(Boolean)
    spot_note: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)

    unit: Mapped[Unit] = relationship(lazy="joined")
    round: Mapped[Round] = relationship(lazy="joined")

    # Two officers recording the same unit at once: only the first one wins.
    __mapper_args__ = {"version_id_col": version}


async def set_mark(
    session: AsyncSession, unit: Unit, kind: str | None, actor: Person, now: datetime
) -> UnitMark | None:
    """The admin marks a unit unsold, basement or not yet renovated, or clears the mark (kind
    None)."""
    if not actor.has_role(Role.ADMIN):
        raise DomainError("not_allowed")
    if kind is not None and kind not in MARKS:
        raise DomainError("vacancy_mark_kind")
    mark = await session.get(UnitMark, unit.id)
    if kind is None:
        if mark is not None:
            await session.delete(mark)
        return None
    if mark is None:
        mark = UnitMark(unit_id=unit.id, kind=kind, marked_by_id=actor.id, marked_at=now)
        session.add(mark)
    mark.kind, mark.marked_by_id, mark.marked_at = kind, actor.id, now
    await session.flush()
    return mark


async def unrenovated(session: AsyncSession, unit_ids: list[int]) -> set[int]:
    """Those of the units the office has marked as not yet renovated."""
    rows = await session.execute(
        select(UnitMark.unit_id).where(UnitMark.unit_id.in_(unit_ids), UnitMark.kind == UNRENOVATED)
    )
    return set(rows.scalars())


async def running_vacancies(session: AsyncSession, unit_id: int) -> list[Ticket]:
    """Vacancy applications on the unit not yet over (pending, or at 50 %)."""
    rows = await session.execute(
        select(Ticket)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(Vacancy.unit_id == unit_id, Ticket.state.in_([s.value for s in ACTIVE]))
        .order_by(Ticket.id)
    )
    return list(rows.scalars())


async def marked_units(session: AsyncSession) -> list[UnitMark]:
    rows = await session.execute(select(UnitMark).join(Unit).order_by(Unit.code))
    return list(rows.scalars().all())


async def units_to_inspect(
    session: AsyncSession, today: date, *, all_shut_off: bool
) -> list[tuple[Unit, str, int | None]]:
    """Every unit a round covers, once: (unit, reason, vacancy ticket id). A vacancy counts
    from its start date (the weather round: as soon as its water and electricity are off),
    also while its shut-off visit is still to be made: the flat stands empty (5.3: 100 %)."""
    out: dict[int, tuple[Unit, str, int | None]] = {}
    rows = await session.execute(
        select(Ticket, Vacancy)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(Ticket.state.in_([St.VACANT.value, St.SHUTOFF.value]))
        .order_by(Ticket.id)
    )
    for ticket, vacancy in rows.all():
        shut_off = ticket.state == St.VACANT.value
        if ticket.unit is not None and (vacancy.start_date <= today or (all_shut_off and shut_off)):
            out.setdefault(ticket.unit.id, (ticket.unit, "vacant", ticket.id))
    for mark in await marked_units(session):
        out.setdefault(mark.unit_id, (mark.unit, mark.kind, None))
    return sorted(out.values(), key=lambda item: item[0].code)


def _tasks(rnd: Round, found: list[tuple[Unit, str, int | None]]) -> list[Inspection]:
    # The unit objects go in as loaded relationships: the announcement reads them at once.
    return [
        Inspection(
            round_id=rnd.id,
            unit_id=unit.id,
            unit=unit,
            round=rnd,
            building=unit.building.code,
            reason=reason,
            vacancy_id=vacancy_id,
        )
        for unit, reason, vacancy_id in found
    ]


async def create_round(
    session: AsyncSession,
    kind: str,
    *,
    due_at: datetime,
    today: date,
    now: datetime,
    actor: Person | None = None,
    note: str | None = None,
    month: str | None = None,
) -> tuple[Round, list[Inspection]]:
    """A round with one task per unit to inspect, and its overdue deadline (→ supervisor)."""
    from models.deadline import schedule

    rnd = Round(
        kind=kind,
        month=month,
        note=note,
        started_at=now,
        started_by_id=actor.id if actor else None,
        due_at=due_at,
    )
    session.add(rnd)
    await session.flush()
    tasks = _tasks(rnd, await units_to_inspect(session, today, all_shut_off=kind == "weather"))
    session.add_all(tasks)
    deadline = schedule(session, "vacancy.round_due", due_at, now, data={"round": rnd.id})
    await session.flush()
    rnd.deadline_id = deadline.id
    if not tasks:
        deadline.done_at = now
    return rnd, tasks


async def add_to_round(
    session: AsyncSession, rnd: Round, today: date, now: datetime
) -> list[Inspection]:
    """Units that came to need inspecting after the round was handed out (a vacancy starting
    mid-month, a unit marked unsold): a task each in the round, so the month still covers
    every one of them (5.3: 每月检查率为100%). The round's overdue notice applies to them."""
    have = set(
        (await session.execute(select(Inspection.unit_id).where(Inspection.round_id == rnd.id)))
        .scalars()
        .all()
    )
    found = await units_to_inspect(session, today, all_shut_off=rnd.kind == "weather")
    tasks = _tasks(rnd, [item for item in found if item[0].id not in have])
    if not tasks:
        return []
    session.add_all(tasks)
    if rnd.deadline_id is not None:
        # A round everyone had finished was settled: the new tasks make it due again.
        await session.execute(
            update(Deadline)
            .where(Deadline.id == rnd.deadline_id, Deadline.fired_at.is_(None))
            .values(done_at=None)
            .execution_options(synchronize_session=False)
        )
    await session.flush()
    return tasks


async def hand_over(session: AsyncSession, old_id: int, new_id: int) -> None:
    """A renewal (5.2.7) takes the unit over from the application `old_id`, which ends: the
    unit's inspections not yet recorded now belong to the renewal, so that the month's visit
    is still asked for and what it finds (consumption, a problem) concerns the application
    running now, not the one that has ended."""
    await session.execute(
        update(Inspection)
        .where(Inspection.vacancy_id == old_id, Inspection.done_at.is_(None))
        .values(vacancy_id=new_id, version=Inspection.version + 1)
        .execution_options(synchronize_session=False)
    )


async def task(session: AsyncSession, task_id: int) -> Inspection:
    found = await session.get(Inspection, task_id)
    if found is None:
        raise DomainError("stale")
    return found


def check_inspector(found: Inspection, actor: Person) -> None:
    """Only a service officer of the unit's building records it, and only once."""
    if not actor.has_role(Role.SERVICE, found.building):
        raise DomainError("not_allowed")
    if found.done_at is not None:
        raise DomainError("vacancy_inspection_done", unit=found.unit.code)


async def complete(
    session: AsyncSession,
    found: Inspection,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    condition: str,
    problem: bool,
    now: datetime,
) -> None:
    """The officer's visit to a unit, recorded on the task pressed and on every other open
    task of the same unit: one visit inspects the unit for each round waiting for it (a task
    missed last month, this month's, a severe-weather one), so pressing last month's button
    does not leave this month's open and reported as not inspected."""
    check_inspector(found, actor)
    others = await session.execute(
        select(Inspection).where(
            Inspection.unit_id == found.unit_id,
            Inspection.done_at.is_(None),
            Inspection.id != found.id,
        )
    )
    tasks = [found, *others.scalars().all()]
    for one in tasks:
        one.done_at, one.done_by_id = now, actor.id
        one.water, one.electricity = water, electricity
        one.condition, one.problem = condition, problem
    await session.flush()
    for one in tasks:
        if await open_tasks_of_round(session, one.round_id) == []:
            # Everything inspected in time: the overdue notice must not fire.
            await session.execute(
                update(Deadline)
                .where(Deadline.id == one.round.deadline_id, Deadline.fired_at.is_(None))
                .values(done_at=now)
                .execution_options(synchronize_session=False)
            )


async def open_tasks_of_round(session: AsyncSession, round_id: int) -> list[Inspection]:
    rows = await session.execute(
        select(Inspection)
        .where(Inspection.round_id == round_id, Inspection.done_at.is_(None))
        .order_by(Inspection.building, Inspection.id)
    )
    return await _still_needed(session, list(rows.scalars().all()))


async def _still_needed(session: AsyncSession, tasks: list[Inspection]) -> list[Inspection]:
    """Tasks whose unit still stands empty: a vacancy that has ended since the round was handed
    out (the owner moved back, cancelled) or a mark the admin cleared needs no inspection."""
    vacancy_ids = {t.vacancy_id for t in tasks if t.vacancy_id is not None}
    running: set[int] = set()
    if vacancy_ids:
        found = await session.execute(
            select(Ticket.id).where(
                Ticket.id.in_(vacancy_ids),
                Ticket.state.in_([St.VACANT.value, St.SHUTOFF.value]),
            )
        )
        running = set(found.scalars())
    marked: set[tuple[int, str]] = set()
    unit_ids = {t.unit_id for t in tasks if t.vacancy_id is None}
    if unit_ids:
        found_marks = await session.execute(
            select(UnitMark.unit_id, UnitMark.kind).where(UnitMark.unit_id.in_(unit_ids))
        )
        marked = {(u, k) for u, k in found_marks.all()}
    return [
        t
        for t in tasks
        if (
            t.vacancy_id in running if t.vacancy_id is not None else (t.unit_id, t.reason) in marked
        )
    ]


async def done_tasks_of_round(session: AsyncSession, round_id: int) -> list[Inspection]:
    rows = await session.execute(
        select(Inspection)
        .where(Inspection.round_id == round_id, Inspection.done_at.is_not(None))
        .order_by(Inspection.building, Inspection.id)
    )
    return list(rows.scalars().all())


async def open_tasks_for(session: AsyncSession, officer: Person) -> list[Inspection]:
    """Every open task in the officer's buildings, oldest round first. Filtered by building
    in the query: a cut taken before it would hide one building's work behind another's
    (many unsold units, 5.1); the caller shows the first ones and counts the rest."""
    query = select(Inspection).where(Inspection.done_at.is_(None))
    buildings = officer.role_buildings(Role.SERVICE)
    if buildings is not None:
        query = query.where(Inspection.building.in_(sorted(buildings)))
    rows = await session.execute(query.order_by(Inspection.round_id, Inspection.id))
    return await _still_needed(session, list(rows.scalars().all()))


async def to_spot_check(
    session: AsyncSession, since: datetime, buildings: set[str] | None = None
) -> list[Inspection]:
    """Done inspections not yet spot-checked (5.5), the latest first; only in `buildings`
    (the supervisor's) unless None (all)."""
    query = select(Inspection).where(Inspection.done_at >= since, Inspection.spot_at.is_(None))
    if buildings is not None:
        query = query.where(Inspection.building.in_(sorted(buildings)))
    rows = await session.execute(query.order_by(Inspection.done_at.desc()).limit(12))
    return list(rows.scalars().all())


def spot_check(found: Inspection, actor: Person, ok: bool, note: str, now: datetime) -> None:
    """5.5: the supervisor re-checks an officer's inspection and records the result."""
    if not actor.has_role(Role.SUPERVISOR, found.building):
        raise DomainError("not_allowed")
    if found.done_at is None or found.spot_at is not None:
        raise DomainError("vacancy_spot_not_open", unit=found.unit.code)
    found.spot_at, found.spot_by_id, found.spot_ok, found.spot_note = now, actor.id, ok, note
