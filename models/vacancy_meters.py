"""Water and electricity meter readings of a unit (水电表底数, seed 5.1.2, 5.2.4, 5.2.6).

Every reading is checked against the unit's last one: a meter does not run backwards, and a
jump beyond the configured limit is a typing mistake until proven otherwise. Consumption over
1 t of water or 5 kWh of electricity a month means the unit is in use.

A meter replaced between two visits is recorded as two readings taken together: the old
meter's final reading (``old_final``, checked like any reading) and the new meter's starting
reading (``replaced``), the baseline the next reading is checked against. The consumption
the next reading shows counts from the last reading before the replacement, old meter
included (`baseline`): a replacement neither hides what was used nor resets the month.
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
OLD_FINAL = "old_final"  # the replaced meter's last reading, as it was taken out
REPLACED = "replaced"  # the new meter's starting reading: the baseline from then on


class MeterReading(Base):
    """One visit's readings of both meters, by whom and why."""

    __tablename__ = "vacancy_reading"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("unit.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    inspection_id: Mapped[int | None] = mapped_column(ForeignKey("vacancy_inspection.id"))
    # shutoff | restore | inspection | old_final | replaced (a meter replaced, see above)
    kind: Mapped[str] = mapped_column(String(12))
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
class Baseline:
    """What the next reading is measured against: the latest values (after a replacement, the
    new meter's starting reading), the time consumption is counted from (the last reading
    before any replacement since), and what the replaced meters counted from then until they
    were taken out."""

    water: Decimal
    electricity: Decimal
    since: datetime
    carried_water: Decimal = Decimal(0)
    carried_electricity: Decimal = Decimal(0)


async def baseline(session: AsyncSession, unit_id: int) -> Baseline | None:
    rows = list(
        (
            await session.execute(
                select(MeterReading)
                .where(MeterReading.unit_id == unit_id)
                .order_by(MeterReading.taken_at.desc(), MeterReading.id.desc())
                .limit(40)
            )
        ).scalars()
    )
    if not rows:
        return None
    carried_water = carried_electricity = Decimal(0)
    i = 0
    while i + 2 < len(rows) and rows[i].kind == REPLACED and rows[i + 1].kind == OLD_FINAL:
        final, before = rows[i + 1], rows[i + 2]
        carried_water += final.water - before.water
        carried_electricity += final.electricity - before.electricity
        i += 2
    return Baseline(
        rows[0].water, rows[0].electricity, rows[i].taken_at, carried_water, carried_electricity
    )


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
    previous: Baseline | None, water: Decimal, electricity: Decimal, at: datetime, env: Env
) -> Usage:
    """The limits are per month (5.2.6), over the calendar months between the two readings
    (see `months_between`): 1.01 t from 1 Dec to 1 Jan is over; 1.9 t from 1 Dec to 31 Jan
    (1.96 months) is not. A meter replaced in between adds what the old one counted."""
    if previous is None:
        return Usage(Decimal(0), Decimal(0), Decimal(1), False, None)
    cal = env.calendar
    months = months_between(cal.local_date(previous.since), cal.local_date(at))
    used_water = previous.carried_water + water - previous.water
    used_electricity = previous.carried_electricity + electricity - previous.electricity
    occupied = (
        used_water > env.vacancy.water_limit * months
        or used_electricity > env.vacancy.electricity_limit * months
    )
    return Usage(used_water, used_electricity, months, occupied, previous.since)


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
) -> tuple[MeterReading, Baseline | None]:
    """Store a visit's readings after checking them again (another visit may have come
    first); returns the new reading and what it was measured against."""
    previous = await last_reading(session, unit_id)
    check_value(previous, "water", water, env)
    check_value(previous, "electricity", electricity, env)
    base = await baseline(session, unit_id)
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
    return row, base


def check_replacement(
    last: MeterReading | None, meter: str, old_final: Decimal, env: Env
) -> MeterReading:
    """The old meter's final reading, against the last one recorded: not lower (the old
    meter did not run backwards either), not implausibly higher. Returns that last reading;
    a unit never read needs no replacement recorded (the new meter's reading is its first)."""
    if meter not in METERS:
        raise DomainError("stale")
    if not 0 <= old_final <= READING_MAX:
        raise DomainError("vacancy_reading_range", high=READING_MAX)
    if last is None:
        raise DomainError("vacancy_no_reading")
    if old_final < getattr(last, meter):
        raise DomainError("vacancy_final_lower", last=getattr(last, meter), at=last.taken_at)
    check_value(last, meter, old_final, env)
    return last


def check_start(meter: str, new_start: Decimal, reading: Decimal, env: Env) -> None:
    """The new meter's starting reading against a reading just taken on it: not higher (it
    does not run backwards), not implausibly lower."""
    if not 0 <= new_start <= READING_MAX:
        raise DomainError("vacancy_reading_range", high=READING_MAX)
    if reading < new_start:
        raise DomainError("vacancy_start_above", new=new_start, reading=reading)
    limit = env.vacancy.water_jump_max if meter == "water" else env.vacancy.electricity_jump_max
    if reading - new_start > limit:
        raise DomainError("vacancy_start_jump", diff=reading - new_start, new=new_start)


async def replace(
    session: AsyncSession,
    *,
    unit_id: int,
    meter: str,
    old_final: Decimal,
    new_start: Decimal,
    actor: Person,
    now: datetime,
    env: Env,
    ticket_id: int | None = None,
) -> MeterReading:
    """A meter replaced: the old one's final reading and the new one's starting reading, as
    two readings taken now (the other meter's value carried over). Returns the reading the
    final one follows."""
    if not 0 <= new_start <= READING_MAX:
        raise DomainError("vacancy_reading_range", high=READING_MAX)
    last = check_replacement(await last_reading(session, unit_id), meter, old_final, env)
    values = {"water": last.water, "electricity": last.electricity}
    for kind, value in ((OLD_FINAL, old_final), (REPLACED, new_start)):
        session.add(
            MeterReading(
                unit_id=unit_id,
                ticket_id=ticket_id,
                kind=kind,
                **{**values, meter: value},
                taken_at=now,
                taken_by_id=actor.id,
            )
        )
        await session.flush()  # (one at a time: the starting reading is the later one)
    return last
