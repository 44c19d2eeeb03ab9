"""The vacancy domain without Telegram: the fee-rate query, the state machine (every step by
its actor and from its state only), filing refusals that store nothing, meter readings."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models import vacancy_steps as steps
from models.base import DomainError
from models.env import Env
from models.people import Person, add_staff, touch_person
from models.property import UnitRow, bind, import_units, unit_by_code
from models.ticket import Ticket
from models.vacancy import Vacancy, fee_rate, file_application
from models.vacancy_meters import Baseline, MeterReading, check_value, months_between, usage

ENV = Env()
D = date


@dataclass
class World:
    s: AsyncSession
    now: datetime
    owner: Person
    other: Person
    unit_id: int
    staff: dict[str, Person]

    async def file(self, start: date, end: date, owner: Person | None = None) -> Ticket:
        ticket, _ = await file_application(
            self.s,
            owner=owner or self.owner,
            unit_id=self.unit_id,
            start=start,
            end=end,
            reason="abroad",
            renews=None,
            now=self.now,
            env=ENV,
        )
        return ticket

    async def approved(self, start: date, end: date) -> tuple[Ticket, Vacancy]:
        ticket = await self.file(start, end)
        v = await self.s.get(Vacancy, ticket.id)
        assert v is not None
        st = self.staff
        await steps.confirm_id(self.s, ticket, v, st["service"], self.now, ENV)
        await steps.sign_opinion(self.s, ticket, v, st["service"], True, "ok", self.now, ENV)
        await steps.approve(self.s, ticket, v, st["supervisor"], self.now, ENV)
        return ticket, v

    async def rate(self, day: date) -> tuple[int, str | None]:
        rate, ticket, _ = await fee_rate(self.s, self.unit_id, day, ENV)
        return rate, ticket.ref if ticket else None


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Any:
    now = clock.now()
    async with sessions() as s:
        await import_units(
            s,
            [
                UnitRow(1, "1-2-301", "1", None, "Li", "13800000000"),
                UnitRow(2, "2-1-101", "2", None, "Wu", None),
            ],
            now,
        )
        unit = await unit_by_code(s, "1-2-301")
        other_unit = await unit_by_code(s, "2-1-101")
        assert unit is not None and other_unit is not None
        owner = await touch_person(s, 1, "Owner", "en", now)
        other = await touch_person(s, 2, "Other", "en", now)
        await bind(s, owner, unit, "owner", now)
        await bind(s, other, other_unit, "owner", now)
        staff: dict[str, Person] = {}
        for tg, (key, role, buildings) in enumerate(
            [
                ("service", "service", ["1"]),
                ("service2", "service", ["2"]),
                ("supervisor", "supervisor", []),
                ("receptionist", "receptionist", ["1"]),
                ("tech", "technician", ["1"]),
                ("tech2", "technician", ["2"]),
            ],
            start=10,
        ):
            staff[key] = await add_staff(
                s, name=key, roles=[role], buildings=buildings, telegram_id=tg, now=now
            )
        yield World(s, now, owner, other, unit.id, staff)


async def test_fee_rate_follows_consecutive_applications(world: World) -> None:
    a, _ = await world.approved(D(2026, 12, 1), D(2027, 3, 2))
    b, _ = await world.approved(D(2027, 3, 2), D(2027, 7, 1))
    assert await world.rate(D(2026, 11, 30)) == (100, None)
    assert await world.rate(D(2026, 12, 1)) == (50, a.ref)
    assert await world.rate(D(2027, 3, 1)) == (50, a.ref)
    assert await world.rate(D(2027, 3, 2)) == (50, b.ref)
    assert await world.rate(D(2027, 6, 30)) == (50, b.ref)
    assert await world.rate(D(2027, 7, 1)) == (100, None)


async def test_fee_rate_with_overlapping_periods_is_50_never_less(world: World) -> None:
    a, va = await world.approved(D(2026, 12, 1), D(2027, 4, 1))
    b = await world.file(D(2027, 4, 1), D(2027, 9, 1))
    vb = await world.s.get(Vacancy, b.id)
    assert vb is not None
    vb.half_from, vb.half_until = D(2027, 1, 1), D(2027, 9, 1)  # overlaps a by three months
    await world.s.flush()
    assert await world.rate(D(2027, 2, 1)) == (50, a.ref)
    assert await world.rate(D(2027, 5, 1)) == (50, b.ref)
    # The owner ends a early on 15 Dec: 100 % as of that day until b's period begins.
    world.now = world.now + timedelta(days=18)  # 15 Dec
    await steps.cancel(world.s, a, va, world.owner, world.now, ENV)
    assert va.half_until == D(2026, 12, 15)
    assert await world.rate(D(2026, 12, 14)) == (50, a.ref)
    assert await world.rate(D(2026, 12, 15)) == (100, None)
    assert await world.rate(D(2027, 1, 1)) == (50, b.ref)


async def test_pending_rejected_and_cancelled_before_start_give_100(world: World) -> None:
    pending = await world.file(D(2026, 12, 1), D(2027, 3, 2))
    assert await world.rate(D(2027, 1, 1)) == (100, None)
    v = await world.s.get(Vacancy, pending.id)
    assert v is not None
    st = world.staff
    await steps.confirm_id(world.s, pending, v, st["service"], world.now, ENV)
    await steps.sign_opinion(world.s, pending, v, st["service"], False, "no", world.now, ENV)
    await steps.reject(world.s, pending, v, st["supervisor"], "let", world.now)
    assert await world.rate(D(2027, 1, 1)) == (100, None)
    t, v2 = await world.approved(D(2026, 12, 1), D(2027, 3, 2))
    await steps.cancel(world.s, t, v2, world.owner, world.now, ENV)  # before the start
    assert (v2.half_from, v2.half_until) == (D(2026, 12, 1), D(2026, 12, 1))
    assert await world.rate(D(2026, 12, 1)) == (100, None)


async def test_refused_filing_stores_nothing(world: World) -> None:
    for start, end, code in [
        (D(2026, 12, 1), D(2027, 3, 1), "vacancy_too_short"),
        (D(2026, 11, 1), D(2027, 6, 1), "vacancy_start_past"),
    ]:
        with pytest.raises(DomainError) as caught:
            await world.file(start, end)
        assert caught.value.code == code
    with pytest.raises(DomainError) as caught:
        await world.file(D(2026, 12, 1), D(2027, 6, 1), owner=world.other)
    assert caught.value.code == "vacancy_not_your_unit"
    count = await world.s.scalar(select(func.count()).select_from(Ticket))
    assert count == 0
    first = await world.file(D(2026, 12, 1), D(2027, 6, 1))
    with pytest.raises(DomainError) as caught:
        await world.file(D(2027, 5, 31), D(2027, 10, 1))
    assert (caught.value.code, caught.value.params) == ("vacancy_overlap", {"ref": first.ref})


async def test_each_step_only_by_its_actor_and_from_its_state(world: World) -> None:
    t = await world.file(D(2026, 12, 1), D(2027, 3, 2))
    v = await world.s.get(Vacancy, t.id)
    assert v is not None
    s, now, st = world.s, world.now, world.staff

    async def refused(code: str, op: Any) -> None:
        with pytest.raises(DomainError) as caught:
            await op
        assert caught.value.code == code

    await refused("not_allowed", steps.confirm_id(s, t, v, st["service2"], now, ENV))
    await refused("not_allowed", steps.confirm_id(s, t, v, world.owner, now, ENV))
    await refused("ticket_state", steps.sign_opinion(s, t, v, st["service"], True, "x", now, ENV))
    await refused("ticket_state", steps.approve(s, t, v, st["supervisor"], now, ENV))
    await steps.confirm_id(s, t, v, st["service"], now, ENV)
    await refused("ticket_state", steps.confirm_id(s, t, v, st["service"], now, ENV))
    await refused("not_allowed", steps.sign_opinion(s, t, v, st["supervisor"], True, "x", now, ENV))
    await steps.sign_opinion(s, t, v, st["service"], True, "x", now, ENV)
    await refused("not_allowed", steps.approve(s, t, v, st["service"], now, ENV))
    await refused("ticket_state", steps.dispatch(s, t, v, st["tech"], st["receptionist"], now))
    await steps.approve(s, t, v, st["supervisor"], now, ENV)
    await refused("not_allowed", steps.dispatch(s, t, v, st["tech"], st["service"], now))
    await refused(
        "vacancy_not_technician", steps.dispatch(s, t, v, st["tech2"], st["receptionist"], now)
    )
    await refused(
        "not_allowed", steps.shut_off(s, t, v, st["tech"], Decimal(1), Decimal(1), now, ENV)
    )
    await steps.dispatch(s, t, v, st["tech"], st["receptionist"], now)
    await refused(
        "vacancy_same_technician", steps.dispatch(s, t, v, st["tech"], st["receptionist"], now)
    )
    await refused("not_allowed", steps.cancel(s, t, v, world.other, now, ENV))
    await refused("ticket_state", steps.restore(s, t, v, st["tech"], Decimal(1), Decimal(1), now))
    await refused(
        "vacancy_not_started", steps.shut_off(s, t, v, st["tech"], Decimal(1), Decimal(1), now, ENV)
    )
    starts = now + timedelta(days=4)  # 1 Dec: water and electricity go off from the start
    await steps.shut_off(s, t, v, st["tech"], Decimal(1), Decimal(1), starts, ENV)
    assert (t.state, t.assignee_id) == ("vacant", None)
    await refused("ticket_state", steps.reject(s, t, v, st["supervisor"], "late", now))
    await steps.cancel(s, t, v, world.owner, now, ENV)
    assert t.state == "restore" and v.end_reason == "cancelled"
    await refused("ticket_state", steps.cancel(s, t, v, world.owner, now, ENV))


async def test_approval_after_the_end_date_is_refused(world: World) -> None:
    t = await world.file(D(2026, 12, 1), D(2027, 3, 2))
    v = await world.s.get(Vacancy, t.id)
    assert v is not None
    st = world.staff
    await steps.confirm_id(world.s, t, v, st["service"], world.now, ENV)
    await steps.sign_opinion(world.s, t, v, st["service"], True, "x", world.now, ENV)
    late = world.now + timedelta(days=100)  # 7 Mar 2027
    with pytest.raises(DomainError) as caught:
        await steps.approve(world.s, t, v, st["supervisor"], late, ENV)
    assert caught.value.code == "vacancy_period_over"


def _reading(water: str, electricity: str, at: datetime) -> MeterReading:
    return MeterReading(water=Decimal(water), electricity=Decimal(electricity), taken_at=at)


def test_readings_never_go_back_and_big_jumps_are_refused(clock: ManualClock) -> None:
    last = _reading("120.50", "3050.20", clock.now())
    for meter, value, code in [
        ("water", "120.49", "vacancy_reading_lower"),
        ("electricity", "3050.19", "vacancy_reading_lower"),
        ("water", "420.51", "vacancy_reading_jump"),
        ("electricity", "13050.21", "vacancy_reading_jump"),
        ("water", "-1", "vacancy_reading_range"),
        ("water", "1000000", "vacancy_reading_range"),
    ]:
        with pytest.raises(DomainError) as caught:
            check_value(last, meter, Decimal(value), ENV)
        assert caught.value.code == code, (meter, value)
    check_value(last, "water", Decimal("120.50"), ENV)  # unchanged is fine
    check_value(last, "water", Decimal("420.50"), ENV)
    check_value(None, "water", Decimal("0"), ENV)


def test_usage_above_1_ton_or_5_kwh_a_month_means_occupied(clock: ManualClock) -> None:
    start = clock.now()  # 27 Nov
    later = start + timedelta(days=5)  # 2 Dec: less than a month, a month's allowance
    last = Baseline(Decimal("100"), Decimal("2000"), start)
    assert not usage(last, Decimal("101.0"), Decimal("2005.0"), later, ENV).occupied
    assert not usage(last, Decimal("100.8"), Decimal("2004.9"), later, ENV).occupied
    assert usage(last, Decimal("101.2"), Decimal("2000"), later, ENV).occupied
    assert usage(last, Decimal("100"), Decimal("2005.1"), later, ENV).occupied
    # Two months since the last reading (a missed inspection): twice the limits, counted by
    # the days between the readings, not by how often the calendar month changed.
    two_months = start + timedelta(days=61)
    assert usage(last, Decimal("101.9"), Decimal("2009.9"), two_months, ENV).months == 2
    assert not usage(last, Decimal("101.9"), Decimal("2009.9"), two_months, ENV).occupied
    assert usage(last, Decimal("102.1"), Decimal("2000"), two_months, ENV).occupied
    # 40 days (27 Nov to 6 Jan: two calendar months changed, 1.32 months elapsed)
    forty_days = start + timedelta(days=40)
    assert not usage(last, Decimal("101.3"), Decimal("2006.5"), forty_days, ENV).occupied
    assert usage(last, Decimal("101.9"), Decimal("2000"), forty_days, ENV).occupied
    assert not usage(None, Decimal("500"), Decimal("500"), later, ENV).occupied


def test_usage_across_a_meter_replacement_adds_what_the_old_meter_counted(
    clock: ManualClock,
) -> None:
    start = clock.now()
    later = start + timedelta(days=5)
    # 0.6 t on the old meter until it was taken out; the new one started at 0
    replaced = Baseline(Decimal("0"), Decimal("2000"), start, Decimal("0.6"), Decimal("0"))
    used = usage(replaced, Decimal("0.3"), Decimal("2000"), later, ENV)
    assert used.water == Decimal("0.9") and not used.occupied and used.since == start
    assert usage(replaced, Decimal("0.5"), Decimal("2000"), later, ENV).occupied


def test_the_monthly_limit_counts_calendar_months_between_readings() -> None:
    # 5.2.6 超过1吨/月: whole calendar months, then the rest by the days of its month
    assert months_between(D(2026, 12, 1), D(2027, 1, 1)) == 1  # 31 days, one month
    assert months_between(D(2027, 2, 1), D(2027, 3, 1)) == 1  # 28 days, one month
    assert months_between(D(2026, 12, 1), D(2026, 12, 10)) == 1  # at least one
    assert months_between(D(2026, 12, 1), D(2027, 1, 31)) == Decimal("1.96")  # + 30/31
    assert months_between(D(2027, 1, 31), D(2027, 2, 28)) == 1  # clamped to the month's end
    assert months_between(D(2026, 11, 27), D(2027, 1, 27)) == 2


def test_vacancy_settings_reach_the_domain_policy() -> None:
    from bot.config import load_settings

    env = load_settings(vacancy={"step_days": 3, "shutoff_days": 2, "end_reminder_days": 30}).env()
    assert (env.vacancy.step_days, env.vacancy.shutoff_days) == (3, 2)
    assert env.vacancy.end_reminder_days == 30
    assert (env.vacancy.min_months, env.vacancy.half_rate_percent) == (3, 50)
