"""The only place that reads the wall clock. Domain operations take `now` from a Clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real time, always timezone-aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that only moves when told to: tests and the sandbox use it."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 11, 27, 2, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("ManualClock needs an aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = moment.astimezone(UTC)


class OffsetClock:
    """Real time plus an offset that only grows: the sandbox's clock, which its page jumps
    forward to show reminders and escalations without waiting for them."""

    def __init__(self, base: Clock | None = None, start: datetime | None = None) -> None:
        self._base = base or SystemClock()
        if start is not None and start.tzinfo is None:
            raise ValueError("OffsetClock needs an aware start")
        self._offset = (start - self._base.now()) if start is not None else timedelta(0)

    def now(self) -> datetime:
        return self._base.now() + self._offset

    @property
    def offset(self) -> timedelta:
        return self._offset

    def jump(self, delta: timedelta) -> datetime:
        """Move forward by delta (never back: deadlines already fired stay fired)."""
        if delta < timedelta(0):
            raise ValueError("the clock only moves forward")
        self._offset += delta
        return self.now()
