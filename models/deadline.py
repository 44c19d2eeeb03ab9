"""Deadlines as rows (SPEC §4): stored when work is created, fired once by the sweep.

A flow registers what happens when a kind of deadline comes due with :func:`on_due`. The
sweep claims due rows with a conditional UPDATE in the same transaction as their effects
(notifications, escalations), so a deadline fires exactly once even with several sweepers,
and a crash before commit leaves it to the next sweep.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import ForeignKey, Index, Integer, String, Table, Text, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, BigId, JSONType, UTCDateTime, insert_order, trace
from models.env import Env

log = logging.getLogger(__name__)


class Deadline(Base):
    __tablename__ = "deadline"
    __table_args__ = (
        # (due_at, id) is the claim's ORDER BY: the index is read in that order and the scan
        # stops at the batch size. With due_at alone, every due deadline was read and sorted
        # (ties broken by id) before the first batch could be taken: a backlog cost all of it
        # on every batch.
        Index(
            "ix_deadline_due_open",
            "due_at",
            "id",
            sqlite_where=text("fired_at IS NULL AND done_at IS NULL"),
            postgresql_where=text("fired_at IS NULL AND done_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    _insert_order: Mapped[int | None] = insert_order()
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    level: Mapped[int] = mapped_column(Integer, default=1)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    fired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # met or no longer relevant
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


@dataclass(frozen=True, slots=True)
class Due:
    """A deadline as its handler sees it: claimed (already marked fired) and read-only.

    The sweep reads claimed rows as plain values, not as ORM objects: a handler only reads
    them, and building a thousand tracked objects cost more than the claim itself.
    """

    id: int
    ticket_id: int | None
    kind: str
    level: int
    due_at: datetime
    created_at: datetime
    data: dict[str, Any]


_TABLE = cast(Table, Deadline.__table__)
_DUE_COLUMNS = [_TABLE.c[name] for name in Due.__slots__]
DueHandler = Callable[[AsyncSession, Due, datetime, Env], Awaitable[None]]
_HANDLERS: dict[str, DueHandler] = {}


def on_due(kind: str) -> Callable[[DueHandler], DueHandler]:
    """Register the effect of a deadline kind coming due."""

    def register(fn: DueHandler) -> DueHandler:
        _HANDLERS[kind] = fn
        return fn

    return register


def registered_kinds() -> set[str]:
    return set(_HANDLERS)


def schedule(
    session: AsyncSession,
    kind: str,
    due_at: datetime,
    now: datetime,
    *,
    ticket_id: int | None = None,
    level: int = 1,
    data: dict[str, Any] | None = None,
) -> Deadline:
    row = Deadline(
        ticket_id=ticket_id, kind=kind, level=level, due_at=due_at, created_at=now, data=data or {}
    )
    session.add(row)
    return row


async def settle(
    session: AsyncSession, now: datetime, *, ticket_id: int, kinds: set[str] | None = None
) -> int:
    """Mark a ticket's open deadlines (of `kinds`) as met: they will not fire."""
    stmt = (
        update(Deadline)
        .where(
            Deadline.ticket_id == ticket_id,
            Deadline.fired_at.is_(None),
            Deadline.done_at.is_(None),
        )
        .values(done_at=now)
        .execution_options(synchronize_session=False)
    )
    if kinds:
        stmt = stmt.where(Deadline.kind.in_(kinds))
    return int((await session.execute(stmt)).rowcount)  # type: ignore[attr-defined]


@dataclass
class SweepResult:
    fired: int = 0
    failed: int = 0


async def _claim(session: AsyncSession, now: datetime, batch: int) -> list[Due]:
    """Mark up to `batch` due deadlines as fired (in the caller's transaction) and read them."""
    table = _TABLE  # (Core, not the mapped class: the rows are read as `Due`, not as objects)
    due_ids = (
        select(table.c.id)
        .where(table.c.fired_at.is_(None), table.c.done_at.is_(None), table.c.due_at <= now)
        .order_by(table.c.due_at, table.c.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    if session.get_bind().dialect.name == "postgresql":
        # `id = ANY(ARRAY(subquery))`, not `id IN (subquery)`: for IN, the planner joined the
        # batch to a sequential scan of every open deadline once statistics were fresh (10 ms
        # at 100,000 open); an array of ids can only be looked up by primary key.
        chosen = table.c.id == func.any(func.array(due_ids.scalar_subquery()))
    else:
        chosen = table.c.id.in_(due_ids.scalar_subquery())
    claimed = await session.execute(
        update(table)
        .where(chosen, table.c.fired_at.is_(None))
        .values(fired_at=now)
        .returning(*_DUE_COLUMNS)
    )
    # RETURNING gives no order: fire them in the order they fell due
    return sorted((Due(*row) for row in claimed), key=lambda due: (due.due_at, due.id))


async def _failed(session: AsyncSession, due: Due, error: str) -> None:
    """Keep why a deadline could not take effect (it stays fired: it is not retried)."""
    await session.execute(update(_TABLE).where(_TABLE.c.id == due.id).values(error=error[:500]))


async def _fire(
    session: AsyncSession, due: Due, now: datetime, env: Env, result: SweepResult
) -> None:
    handler = _HANDLERS.get(due.kind)
    if handler is None:
        error = f"no handler registered for {due.kind!r}"
        log.error("deadline %s: %s", due.id, error)
        await _failed(session, due, error)
        result.failed += 1
        return
    await handler(session, due, now, env)
    result.fired += 1


async def sweep(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    env: Env | None = None,
    batch: int = 500,
) -> SweepResult:
    """Fire every due deadline once; returns how many fired. Cost grows with what is due.

    A batch runs in one transaction with its claim. Should a handler fail, the batch is rolled
    back (nothing of it happened) and redone one deadline at a time, each in a savepoint, so
    one broken handler costs only its own deadline. Savepoints are not used on the common path:
    they cost more than the handlers themselves.
    """
    result = SweepResult()
    env = env or Env()
    while True:
        fast = SweepResult()
        try:
            async with sessions() as session, session.begin():
                rows = await _claim(session, now, batch)
                for row in rows:
                    await _fire(session, row, now, env, fast)
        except Exception:
            log.warning("a deadline handler failed; redoing the batch one at a time")
            async with sessions() as session, session.begin():
                rows = await _claim(session, now, batch)
                for row in rows:
                    try:
                        async with session.begin_nested():
                            await _fire(session, row, now, env, result)
                    except Exception as exc:  # one broken handler must not block the others
                        log.error("deadline %s (%s) failed\n%s", row.id, row.kind, trace(exc))
                        await _failed(session, row, f"{type(exc).__name__}: {exc}")
                        result.failed += 1
        else:
            result.fired += fast.fired
            result.failed += fast.failed
        if len(rows) < batch:
            return result


# --- recurring work (daily report, weekly notices, monthly inspections) ---------------------
#
# A recurring job is a deadline row that schedules its successor when it fires, so it survives
# restarts and fires once per period. At start-up every registered hook makes sure the next
# occurrence exists (the first run of a new installation, or a kind added by an upgrade).

StartupHook = Callable[[AsyncSession, datetime, Env], Awaitable[None]]
_STARTUP: list[StartupHook] = []


def at_startup(fn: StartupHook) -> StartupHook:
    """Register a hook run once at process start, in one transaction, before the sweep."""
    _STARTUP.append(fn)
    return fn


async def run_startup_hooks(session: AsyncSession, now: datetime, env: Env) -> None:
    for hook in _STARTUP:
        await hook(session, now, env)


async def ensure_pending(
    session: AsyncSession,
    kind: str,
    due_at: datetime,
    now: datetime,
    data: dict[str, Any] | None = None,
) -> bool:
    """Schedule a ticket-less deadline of `kind` unless one is already waiting; True if added."""
    waiting = await session.scalar(
        select(func.count())
        .select_from(Deadline)
        .where(
            Deadline.kind == kind,
            Deadline.ticket_id.is_(None),
            Deadline.fired_at.is_(None),
            Deadline.done_at.is_(None),
        )
    )
    if waiting:
        return False
    schedule(session, kind, due_at, now, data=data)
    return True
