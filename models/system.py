"""Small process-wide records: key/value facts and attempt counters for throttling."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, UTCDateTime


class Meta(Base):
    """Facts the process learns at run time, such as the bot's username."""

    __tablename__ = "meta"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Throttle(Base):
    """Failed attempts per key within a window (e.g. wrong binding codes per user)."""

    __tablename__ = "throttle"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime)
    count: Mapped[int] = mapped_column(Integer, default=0)


async def get_meta(session: AsyncSession, key: str) -> str | None:
    row = await session.get(Meta, key)
    return row.value if row else None


async def set_meta(session: AsyncSession, key: str, value: str) -> None:
    row = await session.get(Meta, key)
    if row is None:
        session.add(Meta(key=key, value=value))
    else:
        row.value = value


async def blocked_until(
    session: AsyncSession, key: str, now: datetime, limit: int, window: timedelta
) -> datetime | None:
    """When `key` has used up its attempts in the current window, the window's end."""
    row = await session.get(Throttle, key)
    if row is None or row.window_start + window <= now or row.count < limit:
        return None
    return row.window_start + window


async def count_failure(session: AsyncSession, key: str, now: datetime, window: timedelta) -> int:
    row = await session.get(Throttle, key)
    if row is None:
        row = Throttle(key=key, window_start=now, count=0)
        session.add(row)
    elif row.window_start + window <= now:
        row.window_start = now
        row.count = 0
    row.count += 1
    await session.flush()
    return row.count


async def clear(session: AsyncSession, key: str) -> None:
    row = (await session.execute(select(Throttle).where(Throttle.key == key))).scalar_one_or_none()
    if row is not None:
        await session.delete(row)
