"""Database trouble is absorbed: killed PostgreSQL connections and a busy SQLite writer."""

import asyncio
import sqlite3
import threading
import time

import asyncpg
import pytest

from bot.clock import ManualClock
from tests.conftest import PG_SERVER
from tests.flows.harness import Desk

OWNER = 1001


async def test_killed_postgresql_connections_are_replaced_without_losing_the_update(
    database_url: str, clock: ManualClock
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only: kills server backends")
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        dbname = database_url.rsplit("/", 1)[1]
        admin = await asyncpg.connect(
            PG_SERVER.replace("postgresql+asyncpg://", "postgresql://") + "/test"
        )
        try:
            killed = await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                dbname,
            )
        finally:
            await admin.close()
        assert killed >= 1  # the bot's pooled connections are gone
        assert await desk.send(OWNER, "/cancel") == ["There is nothing to cancel."]
        assert await desk.send(OWNER, "/my") != []


async def test_a_busy_sqlite_writer_makes_the_update_wait_not_fail(
    database_url: str, clock: ManualClock
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite-only: holds the database's single writer lock")
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        path = database_url.split(":///", 1)[1]
        blocker = sqlite3.connect(path, check_same_thread=False)
        blocker.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        released = threading.Event()

        def release_later() -> None:
            time.sleep(0.5)
            blocker.rollback()
            released.set()

        thread = threading.Thread(target=release_later)
        thread.start()
        replies = await desk.send(OWNER, "/cancel")
        await asyncio.to_thread(thread.join)
        blocker.close()
        assert released.is_set()
        assert replies == ["There is nothing to cancel."]


async def test_a_database_away_for_several_tries_is_waited_for_not_reported_as_an_error(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    # PostgreSQL restarting: connections refused for a few seconds. The update was already
    # confirmed to Telegram, so it is handled once the database is back, not dropped.
    import handlers.base as base

    real = base.touch_person
    calls = {"n": 0}

    async def refused_five_times(*a: object, **kw: object) -> object:
        calls["n"] += 1
        if calls["n"] <= 5:
            raise ConnectionRefusedError(111, "Connect call failed")
        return await real(*a, **kw)  # type: ignore[arg-type]

    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        monkeypatch.setattr(base, "touch_person", refused_five_times)
        monkeypatch.setattr(base, "OUTAGE_WAIT_MAX", 0.01)  # (the waits, not their length)
        replies = await desk.send(OWNER, "/cancel")
        assert replies == ["There is nothing to cancel."] and calls["n"] == 6
