"""How updates are scheduled: several people at once, each person's updates in order.

python-telegram-bot handles one update at a time by default, so one slow Bot API call (a photo
upload, Telegram answering slowly) holds up every owner and every technician behind it. With
this processor, updates of different people run concurrently, while the updates of one person
(or of one chat, for updates without a person) still run strictly one after another, in the
order Telegram sent them: a form must see "Water supply" before the description that follows
it. Each person's turn is a FIFO lock; asyncio's Lock and Semaphore both wake waiters in
arrival order, and updates reach them in the order the updater fetched them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# Enough to keep Telegram round trips of many people in flight; the database work is bounded
# separately (the connection pool, and on SQLite the single-writer lock in Runtime.uow).
MAX_CONCURRENT_UPDATES = 64
WAITING_PER_SLOT = 64  # updates that may wait for their person's turn, per working slot


def _turn_key(update: object) -> int | None:
    if not isinstance(update, Update):
        return None
    if update.effective_user is not None:
        return update.effective_user.id
    if update.effective_chat is not None:
        return update.effective_chat.id
    return None


class PerPersonOrder(BaseUpdateProcessor):
    """Concurrent across people, sequential within one person's (or chat's) updates."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT_UPDATES) -> None:
        # python-telegram-bot's own semaphore is taken before `do_process_update`, so it only
        # bounds how many updates may wait; the real limit is `_slots`, taken after the turn.
        super().__init__(max_concurrent_updates * WAITING_PER_SLOT)
        self._slots = asyncio.Semaphore(max_concurrent_updates)
        # person -> (their lock, how many of their updates hold or wait for it)
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        """The person's turn first, then one of the working slots: a person's queued updates
        wait on their own lock without holding a slot, so a burst from one user (a flood, or
        a chat Telegram answers slowly) cannot take every slot from everyone else."""
        key = _turn_key(update)
        if key is None:
            async with self._slots:
                await coroutine
            return
        lock, users = self._turns.get(key) or (asyncio.Lock(), 0)
        self._turns[key] = (lock, users + 1)
        try:
            async with lock, self._slots:
                await coroutine
        finally:
            lock, users = self._turns[key]
            if users <= 1:
                del self._turns[key]  # nothing kept for people who are not writing
            else:
                self._turns[key] = (lock, users - 1)

    @property
    def people_in_flight(self) -> int:
        """How many people have an update being handled or waiting (for tests and health)."""
        return len(self._turns)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: the application waits for updates in flight before this."""
