"""What every handler and job needs, built once per process and kept in ``bot_data``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import Clock
from bot.config import Settings
from bot.delivery import Delivery
from bot.i18n import I18n
from models.calendar import BusinessCalendar
from models.env import Env
from models.notification import OUTBOX_TOUCHED


@dataclass
class Runtime:
    settings: Settings
    clock: Clock
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    calendar: BusinessCalendar
    env: Env
    i18n: I18n
    delivery: Delivery | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    # SQLite has one writer at a time; units of work that meet inside SQLite wait in its busy
    # handler (sleeps of up to 100 ms) or fail to upgrade a read to a write. Taking turns here
    # instead costs nothing: the database work is serial either way, and the Telegram calls
    # after the commit still overlap. None on PostgreSQL, which runs them concurrently.
    writer_turn: asyncio.Lock | None = None
    _turn_holder: asyncio.Task[Any] | None = None

    def __post_init__(self) -> None:
        if self.engine.dialect.name == "sqlite" and self.writer_turn is None:
            self.writer_turn = asyncio.Lock()

    @asynccontextmanager
    async def _turn(self) -> AsyncIterator[None]:
        """The SQLite writer's turn; a unit of work opened inside another one of the same task
        is already in it."""
        me = asyncio.current_task()
        if self.writer_turn is None or (me is not None and self._turn_holder is me):
            yield
            return
        async with self.writer_turn:
            self._turn_holder = me
            try:
                yield
            finally:
                self._turn_holder = None

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error, then wake delivery."""
        async with AsyncExitStack() as stack:
            await stack.enter_async_context(self._turn())
            session = await stack.enter_async_context(self.sessions())
            try:
                yield session
                await session.commit()
            except BaseException:
                await session.rollback()
                raise
            queued = session.info.pop(OUTBOX_TOUCHED, False)
        if queued and self.delivery is not None:
            self.delivery.kick()

    def now(self) -> datetime:
        return self.clock.now()
