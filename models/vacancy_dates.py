"""Dates of a vacancy application (seed ch.6 §3 5.2.8) and the business-day deadlines of its
steps: calendar-month arithmetic, the date formats owners type, the "more than three months"
rule, and "within N business days" on the office calendar.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta

from models.base import DomainError
from models.calendar import BusinessCalendar

_HORIZON = 800  # days searched for a business day before the calendar is declared broken
_FORMATS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})[日号]?$"),
)


def days_in_month(year: int, month: int) -> int:
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return (following - date(year, month, 1)).days


def add_months(day: date, months: int) -> date:
    """The same day `months` calendar months later (or earlier), clamped to the month's end:
    30 Nov + 3 months = 28 Feb (29 in a leap year); 31 Jan + 3 months = 30 Apr."""
    index = day.year * 12 + (day.month - 1) + months
    year, month0 = divmod(index, 12)
    month = month0 + 1
    return date(year, month, min(day.day, days_in_month(year, month)))


def parse_day(text: str) -> date | None:
    """A date typed as 2027-03-01, 2027/3/1, 2027.3.1 or 2027年3月1日 (full-width digits too).

    Returns None when the text is not in one of these forms; raises DomainError
    ``vacancy_no_such_date`` for a well-formed date that does not exist (2027-02-30).
    """
    normal = unicodedata.normalize("NFKC", text).strip().replace(" ", "")
    for pattern in _FORMATS:
        match = pattern.match(normal)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                raise DomainError("vacancy_no_such_date", text=text.strip()[:20]) from None
    return None


def earliest_end(start: date, min_months: int) -> date:
    """The first end date allowed: the period must be longer than `min_months` months."""
    return add_months(start, min_months) + timedelta(days=1)


def check_start(start: date, today: date, max_ahead_days: int) -> None:
    if start < today:
        raise DomainError("vacancy_start_past", today=today)
    if start > today + timedelta(days=max_ahead_days):
        raise DomainError("vacancy_start_far", latest=today + timedelta(days=max_ahead_days))


def check_period(
    start: date, end: date, today: date, *, min_months: int, max_months: int, max_ahead_days: int
) -> None:
    """Refuse a period the seed does not allow (5.2.8: 空置时间必须超过三个月) or that is
    implausible. Exactly `min_months` calendar months is refused; one day more is accepted."""
    check_start(start, today, max_ahead_days)
    if end <= start:
        raise DomainError("vacancy_end_before_start", start=start)
    if end < earliest_end(start, min_months):
        raise DomainError(
            "vacancy_too_short",
            months=min_months,
            start=start,
            earliest=earliest_end(start, min_months),
        )
    if end > add_months(start, max_months):
        raise DomainError(
            "vacancy_too_long", months=max_months, latest=add_months(start, max_months)
        )


# --- step deadlines on the business calendar --------------------------------------------------


def opening_of(cal: BusinessCalendar, day: date) -> datetime:
    """When the office opens on `day`, or on the first business day after it (UTC)."""
    for offset in range(_HORIZON):
        slots = cal.slots_on(day + timedelta(days=offset))
        if slots:
            return slots[0][0].astimezone(UTC)
    raise ValueError("no business day found within the calendar's horizon")


def close_of(cal: BusinessCalendar, day: date) -> datetime:
    """Close of business on `day`, or on the first business day after it (UTC)."""
    return cal.end_of_business_day(datetime.combine(day, time.min, cal.tz))


def id_deadline(cal: BusinessCalendar, start: date, now: datetime) -> datetime:
    """By when the owner shows the original ID (5.2.1): the close of the start date, or, for
    an application filed after that close (this evening, for today), the close of the next
    business day: the office must have been open for them at least once."""
    due = close_of(cal, start)
    return due if due > now else business_days_after(cal, now, 1)


def business_days_after(cal: BusinessCalendar, moment: datetime, days: int) -> datetime:
    """Within `days` business days": close of business of the `days`-th business day after
    the day of `moment` (0: the close of its own business day)."""
    if days <= 0:
        return cal.end_of_business_day(moment)
    day = cal.local_date(moment)
    counted = 0
    for _ in range(_HORIZON):
        day += timedelta(days=1)
        if cal.is_business_day(day):
            counted += 1
            if counted == days:
                return close_of(cal, day)
    raise ValueError("no business day found within the calendar's horizon")


def start_of_day(cal: BusinessCalendar, day: date) -> datetime:
    """Local midnight at the start of `day`, as UTC."""
    return datetime.combine(day, time.min, cal.tz).astimezone(UTC)
