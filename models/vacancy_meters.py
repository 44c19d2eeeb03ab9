"""Water and electricity meter readings of a unit (水电表底数, seed 5.1.2, 5.2.4, 5.2.6).

Every reading is checked against the unit's last one: a meter does not run backwards, and a
jump beyond the configured limit is a typing mistake until proven otherwise. Consumption over
1 t of water or 5 kWh of electricity a month means the unit is in use.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import ForeignKey, Numeric, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, DomainError, UTCDateTime
from models.env import Env
from models.people import Person
from models.vacancy_dates import add_months

METERS = ("water", "electricity")
READING_MAX = Decimal("999999.99")  # six-digit meters


class MeterReading(Base):
    """One visit's readings of both meters, by whom and why."""

    __tablename__ = "vacancy_reading"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("vacancy_inspection.id"))
    kind: Mapped[str] = mapped_column(String(12))  # shutoff | restore | inspection
    water: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    electricity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    taken_at: Mapped[datetime] = mapped_column(UTCDateTime)
    taken_by_id: Mapped[int] = mapped_column(ForeignKey("person.id"))


async def last_reading(session: AsyncSession, unit_id: int) -> MeterReading | None:
    return (
        await session.execute(
            select(MeterReading)
            .where(MeterReading.unit_id == unit_id)
            .order_by(MeterReading.taken_at.desc(), MeterReading.id.desc())
            .limit(1)
        )
    ).scalar_one_or_none()


def check_value(last: MeterReading | None, meter: str, value: Decimal, env: Env) -> None:
    """Refuse a reading lower than the last one of the same meter, or implausibly higher."""
    if meter not in METERS:
        raise DomainError("stale")
    if value < 0 or value > READING_MAX:
        raise DomainError("vacancy_reading_range", high=READING_MAX)
    if last is None:
        return
    previous: Decimal = getattr(last, meter)
    if value < previous:
        raise DomainError("vacancy_reading_lower", last=previous, at=last.taken_at)
    limit = env.vacancy.water_jump_max if meter == "water" else env.vacancy.electricity_jump_max
    if value - previous > limit:
        raise DomainError(
            "vacancy_reading_jump", diff=value - previous, last=previous, at=last.taken_at
        )


async def check_reading(
    session: AsyncSession, unit_id: int, meter: str, value: Decimal, env: Env
) -> None:
    check_value(await last_reading(session, unit_id), meter, value, env)


@dataclass
class Usage:
    """Consumption since the previous reading and whether it means the unit is in use."""

    water: Decimal
    electricity: Decimal
    months: Decimal  # the time between the readings, in months (at least one)
    occupied: bool
    since: datetime | None


def months_between(start: date, end: date) -> Decimal:
    """The time from one reading to the next in calendar months, as 5.2.6 counts its limits
    (水消耗超过1吨/月): whole months first (1 Dec to 1 Jan is one month, whatever its length),
    then the days left as a fraction of the month they fall in (1 Jan to 16 Jan is 15/31).
    Never less than one month: a reading soon after the last one still allows a month's
    worth, so a second visit in the same month does not halve the allowance."""
    whole = 0
    while add_months(start, whole + 1) <= end:
        whole += 1
    begin, following = add_months(start, whole), add_months(start, whole + 1)
    part = Decimal((end - begin).days) / Decimal((following - begin).days)
    return max(Decimal(1), (whole + part).quantize(Decimal("0.01"), rounding=ROUND_DOWN))


def usage(
    previous: MeterReading | None, water: Decimal, electricity: Decimal, at: datetime, env: Env
) -> Usage:
    """The limits are per month (5.2.6), over the calendar months between the two readings
    (see `months_between`): 1.01 t from 1 Dec to 1 Jan is over; 1.9 t from 1 Dec to 31 Jan
    (1.96 months) is not."""
    if previous is None:
        return Usage(Decimal(0), Decimal(0), Decimal(1), False, None)
    cal = env.calendar
    months = months_between(cal.local_date(previous.taken_at), cal.local_date(at))
    used_water = water - previous.water
    used_electricity = electricity - previous.electricity
    occupied = (
        used_water > env.vacancy.water_limit * months
        or used_electricity > env.vacancy.electricity_limit * months
    )
    return Usage(used_water, used_electricity, months, occupied, previous.taken_at)


async def record(
    session: AsyncSession,
    *,
    unit_id: int,
    kind: str,
    water: Decimal,
    electricity: Decimal,
    actor: Person,
    now: datetime,
    env: Env,
    ticket_id: int | None = None,
    inspection_id: int | None = None,
) -> tuple[MeterReading, MeterReading | None]:
    """Store a visit's readings after checking them again (another visit may have come
    first); returns the new reading and the one before it."""
    previous = await last_reading(session, unit_id)
    check_value(previous, "water", water, env)
    check_value(previous, "electricity", electricity, env)
    row = MeterReading(
        unit_id=unit_id,
        ticket_id=ticket_id,
        inspection_id=inspection_id,
        kind=kind,
        water=water,
        electricity=electricity,
        taken_at=now,
        taken_by_id=actor.id,
    )
    session.add(row)
    await session.flush()
    return row, previous
