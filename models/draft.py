"""Conversation drafts: the step a user is at and the answers so far, saved before the next
prompt is sent, so a crash or restart loses nothing the bot acknowledged."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, String, delete
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base, JSONType, UTCDateTime


class Draft(Base):
    __tablename__ = "draft"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    flow: Mapped[str] = mapped_column(String(30))
    step: Mapped[str] = mapped_column(String(30))
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Telegram redelivers an update whose processing was cut short; it is answered only once.
    last_update_id: Mapped[int | None] = mapped_column(BigInteger)


async def get_draft(session: AsyncSession, telegram_id: int) -> Draft | None:
    # By primary key: a draft already loaded in this unit of work costs no second query.
    return await session.get(Draft, telegram_id)


async def save_draft(
    session: AsyncSession,
    telegram_id: int,
    flow: str,
    step: str,
    data: dict[str, Any],
    now: datetime,
    update_id: int | None = None,
) -> Draft:
    draft = await get_draft(session, telegram_id)
    if draft is None:
        draft = Draft(telegram_id=telegram_id, flow=flow, started_at=now)
        session.add(draft)
    draft.flow = flow
    draft.step = step
    draft.data = dict(data)
    draft.updated_at = now
    if update_id is not None:
        draft.last_update_id = update_id
    await session.flush()
    return draft


async def drop_draft(session: AsyncSession, telegram_id: int) -> bool:
    result = await session.execute(delete(Draft).where(Draft.telegram_id == telegram_id))
    return bool(result.rowcount)  # type: ignore[attr-defined]
