"""The office's business calendar: opening hours per weekday, holidays, and deadline arithmetic.

All inputs and outputs are timezone-aware datetimes; the calendar works in office time and
returns UTC.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

_MAX_DAYS = 800


@dataclass(frozen=True)
class BusinessCalendar:
    """Office hours as slots per weekday (0 = Monday); holidays are closed all day."""

    tz: ZoneInfo
    hours: dict[int, list[tuple[time, time]]]
    holidays: set[date] = field(default_factory=set)

    def __post_init__(self) -> None:
        if not any(self.hours.get(d) for d in range(7)):
            raise ValueError("the business calendar has no opening hours at all")

    def slots_on(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open intervals of a local date, as aware datetimes in office time."""
        if day in self.holidays:
            return []
        return [
            (datetime.combine(day, a, self.tz), datetime.combine(day, b, self.tz))
            for a, b in self.hours.get(day.weekday(), [])
        ]

    def is_business_day(self, day: date) -> bool:
        return bool(self.slots_on(day))

    def is_open(self, moment: datetime) -> bool:
        local = moment.astimezone(self.tz)
        return any(a <= local < b for a, b in self.slots_on(local.date()))

    def add_business_time(self, start: datetime, duration: timedelta) -> datetime:
        """The moment when `duration` of open office time has passed after `start` (UTC)."""
        if duration < timedelta(0):
            raise ValueError("duration must not be negative")
        local = start.astimezone(self.tz)
        remaining = duration
        day = local.date()
        for _ in range(_MAX_DAYS):
            for a, b in self.slots_on(day):
                if b <= local:
                    continue
                begin = max(a, local)
                available = b - begin
                if remaining <= available:
                    if remaining == timedelta(0) and begin != local:
                        return begin.astimezone(UTC)
                    return (begin + remaining).astimezone(UTC)
                remaining -= available
            day += timedelta(days=1)
        raise ValueError("no business time found within the calendar's horizon")

    def business_time_between(self, start: datetime, end: datetime) -> timedelta:
        """Open office time between two moments (zero if `end` is not after `start`)."""
        total = timedelta(0)
        if end <= start:
            return total
        day = start.astimezone(self.tz).date()
        last = end.astimezone(self.tz).date()
        while day <= last:
            for a, b in self.slots_on(day):
                overlap = min(b, end) - max(a, start)
                if overlap > timedelta(0):
                    total += overlap
            day += timedelta(days=1)
        return total

    def end_of_business_day(self, moment: datetime) -> datetime:
        """Close of business on the day of `moment`; after closing (or on a closed day), the
        close of the next business day. This is the seed's "the same day" (当天)."""
        local = moment.astimezone(self.tz)
        day = local.date()
        for _ in range(_MAX_DAYS):
            slots = self.slots_on(day)
            if slots and slots[-1][1] > local:
                return slots[-1][1].astimezone(UTC)
            day += timedelta(days=1)
        raise ValueError("no business day found within the calendar's horizon")

    def local_date(self, moment: datetime) -> date:
        return moment.astimezone(self.tz).date()


def default_calendar(tz: str = "Asia/Shanghai") -> BusinessCalendar:
    """Every day 08:30-17:30, no holidays: SPEC §4's default."""
    slot = [(time(8, 30), time(17, 30))]
    return BusinessCalendar(tz=ZoneInfo(tz), hours={d: list(slot) for d in range(7)})


# --- a moment typed by a person ------------------------------------------------------------------

_DATE_TIME = re.compile(
    r"^(?:(\d{4})[-/.年])?(\d{1,2})[-/.月](\d{1,2})日?\s*(\d{1,2})[:：点](\d{2})分?$"
)
_TIME = re.compile(r"^(today|yesterday|今天|昨天)?\s*(\d{1,2})[:：点](\d{2})分?\s*(today|今天)?$")


def parse_moment(
    raw: str, now: datetime, cal: BusinessCalendar, *, past: bool = False
) -> datetime | None:
    """A typed moment in office time — ``2026-11-27 14:30``, ``11-27 14:30``, ``14:30``
    (today), ``14:30 today``, ``yesterday 14:30``, ``昨天 14:30`` — or None if unreadable.

    `past`: the moment has already happened (when something was found or received), so a
    bare time later than now is yesterday's — "23:50" typed at 00:10 is ten minutes before
    midnight, not today's 23:50. "today" said explicitly stays today."""
    text = " ".join(unicodedata.normalize("NFKC", raw).strip().lower().split())
    today = cal.local_date(now)
    m = _DATE_TIME.match(text)
    if m:
        year = int(m.group(1)) if m.group(1) else today.year
        day_parts = (year, int(m.group(2)), int(m.group(3)))
        hour, minute = int(m.group(4)), int(m.group(5))
    else:
        m = _TIME.match(text)
        if not m:
            return None
        back = 1 if m.group(1) in ("yesterday", "昨天") else 0
        if back and m.group(4):
            return None  # "yesterday 14:30 today"
        hour, minute = int(m.group(2)), int(m.group(3))
        bare = not m.group(1) and not m.group(4)
        if past and bare and hour < 24 and minute < 60:
            if datetime.combine(today, time(hour, minute), cal.tz) > now:
                back = 1
        day = today - timedelta(days=back)
        day_parts = (day.year, day.month, day.day)
    try:
        local = datetime.combine(date(*day_parts), time(hour, minute), cal.tz)
        return local.astimezone(UTC)
    except (ValueError, OverflowError):  # (no such date; year 1 is before UTC's year 1)
        return None
