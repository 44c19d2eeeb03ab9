"""What every handler and job needs, built once per process and kept in ``bot_data``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
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

    @asynccontextmanager
    async def uow(self) -> AsyncIterator[AsyncSession]:
        """One unit of work: commit on success, roll back on error, then wake delivery."""
        async with self.sessions() as session:
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
