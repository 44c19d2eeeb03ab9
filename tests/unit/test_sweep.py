"""The deadline sweep: fires what is due, once, even with two sweepers at the same time."""

import asyncio
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models.deadline import Deadline, Due, on_due, schedule, settle, sweep
from models.env import Env
from models.notification import Notification, enqueue, msg
from models.people import person_by_telegram, touch_person

FIRED: list[int] = []


@on_due("test.ping")
async def _ping(session: AsyncSession, deadline: Due, now: datetime, env: Env) -> None:
    FIRED.append(deadline.id)
    person = await person_by_telegram(session, deadline.data["tg"])
    assert person is not None
    enqueue(session, person, msg("Reminder {n}", n=deadline.id), now)


@on_due("test.broken")
async def _broken(session: AsyncSession, deadline: Due, now: datetime, env: Env) -> None:
    raise RuntimeError("boom")


async def test_due_deadline_fires_exactly_once_across_two_concurrent_sweeps(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    FIRED.clear()
    now = clock.now()
    async with sessions() as s, s.begin():
        await touch_person(s, 500, "Tech", None, now)
        for i in range(30):
            schedule(s, "test.ping", now + timedelta(minutes=i % 3), now, data={"tg": 500})
        schedule(s, "test.ping", now + timedelta(hours=5), now, data={"tg": 500})
    clock.advance(timedelta(minutes=2))
    results = await asyncio.gather(
        sweep(sessions, clock.now(), batch=7), sweep(sessions, clock.now(), batch=7)
    )
    assert sum(r.fired for r in results) == 30
    assert len(FIRED) == len(set(FIRED)) == 30
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Notification)) == 30
    again = await sweep(sessions, clock.now())
    assert again.fired == 0


async def test_settled_deadline_does_not_fire_and_a_broken_handler_does_not_block_others(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    FIRED.clear()
    now = clock.now()
    async with sessions() as s, s.begin():
        from models.ticket import Ticket

        t = Ticket(
            kind="R", ref="R-20261127-001", state="x", summary="", created_at=now, updated_at=now
        )
        s.add(t)
        await touch_person(s, 1, "A", None, now)
        await touch_person(s, 2, "B", None, now)
        schedule(s, "test.ping", now, now, ticket_id=t.id, data={"tg": 1})
        schedule(s, "test.broken", now, now)
        schedule(s, "test.ping", now, now, data={"tg": 2})
        await s.flush()
        assert await settle(s, now, ticket_id=t.id) == 1
    result = await sweep(sessions, now)
    assert (result.fired, result.failed) == (1, 1)
    async with sessions() as s:
        broken = (
            await s.execute(select(Deadline).where(Deadline.kind == "test.broken"))
        ).scalar_one()
        assert broken.fired_at is not None and "boom" in (broken.error or "")


async def test_a_kind_nobody_handles_is_recorded_and_does_not_stop_the_others(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    """A deadline left by a newer version (or a removed flow) fires once with its reason kept;
    the handlers in the same batch see their deadline's own values."""
    FIRED.clear()
    now = clock.now()
    async with sessions() as s, s.begin():
        await touch_person(s, 510, "Tech", None, now)
        ping = schedule(s, "test.ping", now - timedelta(minutes=1), now, data={"tg": 510})
        schedule(s, "test.retired", now - timedelta(minutes=2), now)
    result = await sweep(sessions, now)
    assert (result.fired, result.failed) == (1, 1)
    assert FIRED == [ping.id]
    async with sessions() as s:
        rows = {d.kind: d for d in (await s.scalars(select(Deadline))).all()}
        notices = (await s.scalars(select(Notification.body))).all()
    assert rows["test.retired"].fired_at is not None
    assert rows["test.retired"].error == "no handler registered for 'test.retired'"
    assert rows["test.ping"].error is None
    assert [b["lines"][0][1]["n"] for b in notices] == [ping.id]
    assert (await sweep(sessions, now)).fired == 0
