"""Per-user flood control, checked before any handler and without touching the database.

A token bucket per Telegram user: a burst of `capacity` updates, then `per_second` a second.
Updates beyond it are dropped (the user is told once per burst; every dropped button press is
answered with a short toast), so one user's flood costs
the bot almost nothing and does not delay anyone else.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ApplicationHandlerStop, ContextTypes

from handlers.base import log_update

log = logging.getLogger(__name__)


@dataclass
class _Bucket:
    tokens: float
    stamp: float
    warned: bool = False


class FloodGuard:
    def __init__(
        self,
        monotonic: Callable[[], float],
        *,
        capacity: int = 20,
        per_second: float = 1.0,
        notice: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]] | None = None,
        toast: Callable[[Update, ContextTypes.DEFAULT_TYPE], Awaitable[None]] | None = None,
        max_users: int = 100_000,
    ) -> None:
        self.monotonic = monotonic
        self.capacity = capacity
        self.per_second = per_second
        self.notice = notice
        self.toast = toast
        self.max_users = max_users
        self._buckets: dict[int, _Bucket] = {}
        self.dropped = 0

    def allow(self, user_id: int) -> tuple[bool, bool]:
        """(allowed, first refusal of this burst)."""
        now = self.monotonic()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) >= self.max_users:
                self._buckets.clear()  # bounded memory; a reset only forgives
            bucket = self._buckets[user_id] = _Bucket(float(self.capacity), now)
        bucket.tokens = min(
            float(self.capacity), bucket.tokens + (now - bucket.stamp) * self.per_second
        )
        bucket.stamp = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            bucket.warned = False
            return True, False
        first = not bucket.warned
        bucket.warned = True
        return False, first

    async def __call__(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if user is None:
            return
        started = time.perf_counter()
        allowed, first = self.allow(user.id)
        if allowed:
            return
        self.dropped += 1
        log_update(update, "flood_guard", "flooded", started)
        if first:
            log.warning("flood: dropping updates from user %s", user.id)
        if update.callback_query is not None:
            # Every dropped press is answered (a toast, not a message): otherwise the button's
            # spinner runs until Telegram gives up and the user cannot tell it was not taken.
            if self.toast is not None:
                await self.toast(update, context)
        elif first and self.notice is not None:
            await self.notice(update, context)
        raise ApplicationHandlerStop
