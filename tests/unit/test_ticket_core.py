"""The ticket core: references, the signed event trail, invite codes (SQLite and PostgreSQL)."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload

from bot.clock import ManualClock
from models.base import DomainError
from models.calendar import default_calendar
from models.invite import issue_unit_code, redeem
from models.people import Person, touch_person
from models.property import Building, Unit, units_of
from models.ticket import (
    Kind,
    Ticket,
    TicketEvent,
    history,
    new_ticket,
    parse_reference,
    ticket_by_id,
)
from tests.conftest import sql_log

CAL = default_calendar()


async def _unit(session: AsyncSession, now: datetime, code: str = "1-2-301") -> Unit:
    building = Building(code=code.split("-")[0])
    session.add(building)
    await session.flush()
    unit = Unit(code=code, building_id=building.id, created_at=now, updated_at=now)
    session.add(unit)
    await session.flush()
    return unit


async def test_fifty_tickets_created_concurrently_get_unique_sequential_references(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()

    async def create(i: int) -> str:
        for attempt in range(20):
            try:
                async with sessions() as s, s.begin():
                    t = await new_ticket(
                        s,
                        Kind.REPAIR,
                        state="new",
                        owner=None,
                        unit=None,
                        created_by=None,
                        summary=f"#{i}",
                        now=now,
                        calendar=CAL,
                    )
                    return t.ref
            except Exception:
                if attempt == 19:
                    raise
                await asyncio.sleep(0.01 * (attempt + 1))
        raise AssertionError("unreachable")

    refs = await asyncio.gather(*(create(i) for i in range(50)))
    assert len(set(refs)) == 50
    assert sorted(refs) == [f"R-20261127-{n:03d}" for n in range(1, 51)]


async def test_reference_uses_office_date_and_kind_letter(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    late = datetime(2026, 11, 27, 16, 30, tzinfo=UTC)  # 00:30 on the 28th in Shanghai
    async with sessions() as s, s.begin():
        c = await new_ticket(
            s,
            Kind.COMPLAINT,
            state="new",
            owner=None,
            unit=None,
            created_by=None,
            summary="",
            now=late,
            calendar=CAL,
        )
        v = await new_ticket(
            s,
            Kind.VACANCY,
            state="new",
            owner=None,
            unit=None,
            created_by=None,
            summary="",
            now=late,
            calendar=CAL,
        )
    assert c.ref == "C-20261128-001" and v.ref == "V-20261128-001"
    assert parse_reference(" c-20261128-001 ") == "C-20261128-001"
    assert parse_reference("X-1-2") is None


async def test_events_record_who_and_when_and_cannot_be_rewritten(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        actor = await touch_person(s, 42, "Wang", "zh-hans", now)
        t = await new_ticket(
            s,
            Kind.REPAIR,
            state="new",
            owner=actor,
            unit=None,
            created_by=actor,
            summary="",
            now=now,
            calendar=CAL,
        )
        t.transition({"new"}, "dispatched", "dispatched", actor, now + timedelta(minutes=5))
        with pytest.raises(DomainError) as refused:
            t.transition({"new"}, "done", "done", actor, now)
        assert refused.value.code == "ticket_state"
    async with sessions() as s:
        t2 = (await s.execute(select(Ticket).options(selectinload(Ticket.events)))).scalar_one()
        assert [(e.action, e.actor_id, e.at) for e in t2.events] == [
            ("created", actor.id, now),
            ("dispatched", actor.id, now + timedelta(minutes=5)),
        ]
        t2.events[0].note = "forged"
        with pytest.raises(DomainError):
            await s.flush()
    async with sessions() as s:
        t3 = (await s.execute(select(Ticket).options(selectinload(Ticket.events)))).scalar_one()
        await s.delete(t3.events[0])
        with pytest.raises(DomainError):
            await s.flush()
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(TicketEvent)) == 2


async def test_invite_code_binds_once_and_is_stored_hashed(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        unit = await _unit(s, now)
        code = await issue_unit_code(s, unit, now, valid_days=30)
    async with sessions() as s, s.begin():
        from models.invite import InviteCode

        stored = (await s.execute(select(InviteCode))).scalar_one()
        assert code not in stored.code_hash
        owner = await touch_person(s, 1001, "Li", "zh-hans", now)
        await redeem(s, code.lower(), owner, now)
        assert [u.code for u in await units_of(s, owner)] == ["1-2-301"]
    async with sessions() as s, s.begin():
        other = await touch_person(s, 1002, "Zhao", "en", now)
        with pytest.raises(DomainError) as used:
            await redeem(s, code, other, now)
        assert used.value.code == "code_used"
        assert await units_of(s, other) == []


async def test_expired_and_unknown_codes_are_refused(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        unit = await _unit(s, now)
        code = await issue_unit_code(s, unit, now, valid_days=1)
        person = await touch_person(s, 7, "P", None, now)
    async with sessions() as s, s.begin():
        p = await s.get(Person, person.id)
        assert p is not None
        with pytest.raises(DomainError) as expired:
            await redeem(s, code, p, now + timedelta(days=1, seconds=1))
        assert expired.value.code == "code_expired"
        with pytest.raises(DomainError) as unknown:
            await redeem(s, "ABCDEFGHJK", p, now)
        assert unknown.value.code == "code_unknown"


async def test_working_on_a_ticket_does_not_read_its_history(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """A button or a reminder on a long-lived ticket loads the ticket, not every line of its
    history; the new line is still written after the others, and the history reads in order."""
    now = clock.now()
    async with sessions() as s, s.begin():
        actor = await touch_person(s, 1, "Wang", None, now)
        t = await new_ticket(s, Kind.REPAIR, owner=actor, unit=None, created_by=actor,
                             state="new", summary="", now=now, calendar=CAL)  # fmt: skip
        for i in range(20):
            t.record("urged", actor, now + timedelta(minutes=i))
        ticket_id = t.id
    statements = sql_log(sessions)
    async with sessions() as s, s.begin():
        loaded = await ticket_by_id(s, ticket_id)
        assert loaded is not None
        loaded.transition({"new"}, "dispatched", "dispatched", None, now + timedelta(hours=1))
    assert not [q for q in statements if "FROM ticket_event" in q]
    async with sessions() as s:
        events = await history(s, ticket_id)
        with pytest.raises(InvalidRequestError):  # an unplanned read says so, never lazy-loads
            _ = (await ticket_by_id(s, ticket_id)).events  # type: ignore[union-attr]
    assert [e.action for e in events] == ["created"] + ["urged"] * 20 + ["dispatched"]
    assert events[-1].actor is None and events[-1].from_state == "new"
