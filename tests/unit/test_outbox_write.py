"""Queued notifications are written as one multi-row INSERT at flush (models.notification).

What a user would notice if this went wrong: messages out of order in a chat, a reminder that
survives the rollback of the change that queued it, or a notice whose id is unknown to the
code that edits it later.
"""

import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models.notification import Notification, Status, enqueue, enqueue_chat, enqueue_edit, msg
from models.people import touch_person
from tests.conftest import sql_log


async def test_many_notifications_are_one_statement_in_queueing_order(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    statements = sql_log(sessions)
    now = clock.now()
    async with sessions() as s, s.begin():
        people = [await touch_person(s, 700 + i, f"P{i}", None, now) for i in range(3)]
        queued = [enqueue(s, people[i % 3], msg("n {i}", i=i), now) for i in range(150)]
        queued.append(enqueue_chat(s, -100_5, msg("to the group"), now))
    inserts = [q for q in statements if q.lstrip().upper().startswith("INSERT INTO NOTIFICATION")]
    assert len(inserts) == 1
    async with sessions() as s:
        rows = (await s.scalars(select(Notification).order_by(Notification.id))).all()
    assert [r.body["lines"][0][1].get("i") for r in rows[:150]] == list(range(150))
    assert rows[150].chat_id == -100_5 and rows[150].person_id is None
    assert {r.status for r in rows} == {Status.PENDING}
    assert [q.id for q in queued if q is not None] == [r.id for r in rows]


async def test_id_is_known_after_flush_and_an_edit_can_point_to_it(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        original = enqueue_chat(s, -100_6, msg("Notice of the week"), now)
        await s.flush()
        assert original.id is not None
        edit = enqueue_edit(s, original, msg("Expired"), now)
    async with sessions() as s:
        stored = await s.get(Notification, edit.id)
    assert stored is not None and stored.edit_of_id == original.id


async def test_direct_rows_get_the_column_defaults(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        row = Notification(chat_id=-100_7, body=msg("x").to_json(), created_at=now,
                           next_attempt_at=now)  # fmt: skip
        s.add(row)
    assert row.status == Status.PENDING and row.attempts == 0
    async with sessions() as s:
        stored = await s.get(Notification, row.id)
    assert stored is not None and stored.status == Status.PENDING and stored.attempts == 0


async def test_a_rolled_back_savepoint_takes_its_notifications_with_it(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        person = await touch_person(s, 710, "Owner", None, now)
        enqueue(s, person, msg("kept before"), now)
        try:
            async with s.begin_nested():
                enqueue(s, person, msg("flushed, then undone"), now)
                await s.flush()
                enqueue(s, person, msg("never flushed"), now)
                raise RuntimeError("the handler failed")
        except RuntimeError:
            pass
        enqueue(s, person, msg("kept after"), now)
    async with sessions() as s:
        texts = (await s.scalars(select(Notification.body).order_by(Notification.id))).all()
    assert [b["lines"][0][0] for b in texts] == ["kept before", "kept after"]


async def test_a_rolled_back_transaction_writes_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        await touch_person(s, 720, "Owner", None, now)
    try:
        async with sessions() as s, s.begin():
            person = await touch_person(s, 720, "Owner", None, now)
            enqueue(s, person, msg("a"), now)
            await s.flush()
            raise RuntimeError("refused")
    except RuntimeError:
        pass
    async with sessions() as s:
        assert (await s.scalars(select(Notification))).all() == []


async def test_queries_in_the_same_transaction_see_what_was_queued(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        person = await touch_person(s, 730, "Owner", None, now)
        enqueue(s, person, msg("a"), now)
        enqueue(s, person, msg("b"), now)
        seen = (
            await s.scalars(select(Notification).where(Notification.chat_id == 730))
        ).all()  # autoflush
        assert len(seen) == 2


def test_queueing_works_as_the_first_thing_a_fresh_process_does(tmp_path: Path) -> None:
    """The outbox builds its rows without the mapped constructor, which is what normally
    configures the mappers; a process whose first ORM act is queueing (a sweep right after
    start-up) must still get its rows written and their ids."""
    script = f"""
import asyncio
import models.all
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select
from bot.clock import SystemClock
from bot.db import make_engine, make_sessions
from models.base import Base
from models.notification import Notification, enqueue_chat, msg

async def main():
    engine = make_engine("sqlite+aiosqlite:///{tmp_path / "fresh.db"}")
    async with engine.begin() as conn:
        await conn.run_sync(Base.metadata.create_all)
    async with make_sessions(engine)() as s, s.begin():
        row = enqueue_chat(s, -100_9, msg("first"), SystemClock().now())
    async with make_sessions(engine)() as s:
        stored = await s.scalar(select(Notification.id))
    print(row.id, stored)
    await engine.dispose()

asyncio.run(main())
"""
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60,
        cwd=Path(__file__).resolve().parents[2],
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "1"]
