"""Engine, sessions and schema migrations (Alembic, run programmatically)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import NullPool

import models

MIGRATIONS = Path(models.__file__).parent / "migrations"


def make_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and enforced foreign keys."""
    # Every session ends its transaction itself (commit, or rollback on close), so the pool's
    # extra rollback when a connection is returned is a wasted round trip on each unit of work.
    kwargs.setdefault("pool_reset_on_return", None)
    # An error's message must not carry the statement's parameters (what people typed, names,
    # phone numbers) into the logs or a deadline's error column.
    kwargs.setdefault("hide_parameters", True)
    if url.startswith("sqlite"):
        engine = create_async_engine(url, connect_args={"timeout": 15}, **kwargs)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()

        return engine
    return create_async_engine(url, pool_pre_ping=True, **kwargs)


def make_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    """Bring the schema to `revision` (blocking; call outside a running event loop)."""
    command.upgrade(alembic_config(url), revision)


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()


def _current(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


async def current_revision(engine: AsyncEngine) -> str | None:
    async with engine.connect() as conn:
        return await conn.run_sync(_current)


async def schema_is_current(engine: AsyncEngine) -> bool:
    return await current_revision(engine) == head_revision()


def upgrade_in_thread(url: str) -> None:
    """Alembic's env runs its own event loop; keep it off the caller's loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        upgrade(url)
        return
    import threading

    errors: list[BaseException] = []

    def work() -> None:
        try:
            upgrade(url)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=work)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


# --- one bot per database ------------------------------------------------------------------
#
# Two `propdesk run` on one database (a second started by mistake, an old one not yet stopped
# during a deployment) would both deliver the outbox, and every message would go out twice.
# The first to start holds a lock for as long as it runs; the second refuses to start.

LOCK_KEY = 0x50_72_6F_70_44_65_73_6B  # "PropDesk": the PostgreSQL advisory lock's key


class AlreadyRunning(RuntimeError):
    """Another PropDesk process is running on this database."""


def lock_sqlite(url: str) -> Any:
    """Hold an exclusive lock on ``<database>.lock`` (released when the process ends);
    returns the open file to keep, or None for an in-memory database."""
    import fcntl

    path = url.split(":///", 1)[1] if ":///" in url else ""
    if not path or path.startswith(":memory:"):
        return None
    handle = open(path + ".lock", "a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise AlreadyRunning(path) from None
    return handle


async def lock_postgresql(url: str) -> Any:
    """Take PostgreSQL's session advisory lock on a connection of its own, held until the
    process ends (or its connection does); returns the connection to keep."""
    from sqlalchemy import text

    engine = make_engine(url, poolclass=NullPool)
    conn = await engine.connect()
    got = await conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": LOCK_KEY})
    await conn.commit()  # (the lock belongs to the session, not to a transaction left open)
    if not got:
        await conn.close()
        await engine.dispose()
        raise AlreadyRunning(url.rsplit("/", 1)[-1])
    return conn


async def keep_postgresql_lock(url: str, held: Any, on_lost: Any, every: float = 30.0) -> None:
    """Watch the advisory lock's connection: PostgreSQL restarting, a failover or a killed
    backend ends the session and releases the lock. It is taken again at once. If the old
    session still holds it on the server (only the client side of the connection broke), that
    session is ended first. If another PropDesk holds it, `on_lost()` is called (this one
    stops: two would send every notification twice) and the watch ends. `held` is a one-item
    list with the connection."""
    import logging

    from sqlalchemy import text

    log = logging.getLogger(__name__)
    holder = text(
        "SELECT l.pid FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1 "
        "AND d.datname = current_database() "
        "AND ((l.classid::bigint << 32) | l.objid::bigint) = :key"
    )
    ours = await asyncio.wait_for(held[0].scalar(text("SELECT pg_backend_pid()")), every)
    await held[0].commit()
    while True:
        await asyncio.sleep(every)
        try:
            await asyncio.wait_for(held[0].scalar(text("SELECT 1")), every)
            await held[0].commit()
            continue
        except Exception:  # the session is gone (and the lock with it), or does not answer
            log.warning("the single-instance lock's connection was lost; taking it again")
        try:
            await asyncio.wait_for(held[0].close(), every)
            await held[0].engine.dispose()
        except Exception:  # (already closed)
            pass
        try:
            held[0] = await lock_postgresql(url)
            ours = await held[0].scalar(text("SELECT pg_backend_pid()"))
            await held[0].commit()
        except AlreadyRunning:
            engine = make_engine(url, poolclass=NullPool)
            try:
                async with engine.connect() as conn:
                    pid = await conn.scalar(holder, {"key": LOCK_KEY})
                    if pid == ours:  # our own old session, lingering on the server
                        await conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
                        log.warning("ended this bot's old lock session %s; retaking", pid)
                        continue
                    if pid is None:  # released meanwhile: take it next round
                        continue
            finally:
                await engine.dispose()
            log.critical("another PropDesk took this database's lock: stopping this one")
            on_lost()
            return
        except Exception:  # the database is not back yet: try again next round
            log.warning("could not take the single-instance lock again yet")
