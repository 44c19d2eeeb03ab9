"""Shared fixtures: databases on SQLite and PostgreSQL, a movable clock.

Database-facing tests take `database_url` (schema ready) or `empty_database_url` and run once
per backend. When no PostgreSQL answers, the PostgreSQL variants are skipped with the reason
shown in the summary (pytest -ra), never silently.
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from bot.db import make_engine, make_sessions

PG_SERVER = os.environ.get("PROPDESK_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
PG_ADMIN_DB = os.environ.get("PROPDESK_TEST_PG_DB", "test")
BACKENDS = ["sqlite", "postgresql"]

_pg_state: dict[str, str | None] = {}


def _pg_admin_dsn() -> str:
    return PG_SERVER.replace("postgresql+asyncpg://", "postgresql://") + "/" + PG_ADMIN_DB


async def _pg_exec(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_dsn(), timeout=5)
    try:
        for stmt in statements:
            await conn.execute(stmt)
    finally:
        await conn.close()


def _run(coro: object) -> None:
    asyncio.run(coro)  # type: ignore[arg-type]


def pg_unavailable() -> str | None:
    """Why PostgreSQL cannot be used, or None when it answers (checked once per session)."""
    if "reason" not in _pg_state:
        try:
            _run(_pg_exec("SELECT 1"))
            _pg_state["reason"] = None
        except Exception as exc:
            _pg_state["reason"] = f"PostgreSQL not reachable at {_pg_admin_dsn()}: {exc!r}"
    return _pg_state["reason"]


def _pg_template() -> str:
    """A database holding the current schema, cloned per test (fast: CREATE ... TEMPLATE)."""
    if "template" not in _pg_state:
        name = f"propdesk_tpl_{os.getpid()}"
        _run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}"', f'CREATE DATABASE "{name}"'))
        from bot.db import upgrade

        upgrade(f"{PG_SERVER}/{name}")
        _pg_state["template"] = name
    return str(_pg_state["template"])


def _new_pg_database(template: str | None) -> str:
    name = f"propdesk_t_{uuid.uuid4().hex[:12]}"
    tpl = f' TEMPLATE "{template}"' if template else ""
    _run(_pg_exec(f'CREATE DATABASE "{name}"{tpl}'))
    return name


def _drop_pg_database(name: str) -> None:
    _run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


_sqlite_template: dict[str, bytes] = {}


def _sqlite_url_with_schema(path: str) -> str:
    url = f"sqlite+aiosqlite:///{path}"
    if "schema" not in _sqlite_template:
        from bot.db import upgrade

        upgrade(url)
        with open(path, "rb") as fh:
            _sqlite_template["schema"] = fh.read()
    else:
        with open(path, "wb") as fh:
            fh.write(_sqlite_template["schema"])
    return url


@pytest.fixture(scope="session", autouse=True)
def _drop_pg_template() -> Iterator[None]:
    yield
    name = _pg_state.get("template")
    if name:
        _drop_pg_database(name)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgresql":
        reason = pg_unavailable()
        if reason:
            pytest.skip(reason)
    return str(request.param)


@pytest.fixture
def database_url(backend: str, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A database at the current schema (migrated with Alembic), fresh for this test."""
    if backend == "sqlite":
        yield _sqlite_url_with_schema(os.path.join(tmp_path, "propdesk.db"))
        return
    name = _new_pg_database(_pg_template())
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _drop_pg_database(name)


@pytest.fixture
def empty_database_url(backend: str, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """A database with no tables yet."""
    if backend == "sqlite":
        yield f"sqlite+aiosqlite:///{os.path.join(tmp_path, 'empty.db')}"
        return
    name = _new_pg_database(None)
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        _drop_pg_database(name)


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = make_engine(database_url)
    try:
        yield make_sessions(engine)
    finally:
        await engine.dispose()


@pytest.fixture
def clock() -> ManualClock:
    """Friday 2026-11-27 10:00 office time (Asia/Shanghai)."""
    return ManualClock(datetime(2026, 11, 27, 2, 0, tzinfo=UTC))


def sql_log(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every SQL statement the sessions' engine sends from now on, in order (for tests that
    count round trips)."""
    seen: list[str] = []
    engine = sessions.kw["bind"].sync_engine
    event.listen(engine, "before_cursor_execute", lambda _c, _cur, sql, *_: seen.append(sql))
    return seen
