"""Business-calendar arithmetic: office hours, lunch breaks, holidays, end of day."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.calendar import BusinessCalendar, default_calendar

SH = ZoneInfo("Asia/Shanghai")


def local(y: int, mo: int, d: int, h: int, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def test_class_one_complaint_filed_at_five_pm_is_due_at_noon_next_day() -> None:
    cal = default_calendar()
    due = cal.add_business_time(local(2026, 11, 27, 17, 0), timedelta(hours=4))
    assert due == local(2026, 11, 28, 12, 0).astimezone(UTC)


def test_business_time_started_before_opening_counts_from_opening() -> None:
    cal = default_calendar()
    due = cal.add_business_time(local(2026, 11, 27, 6, 0), timedelta(minutes=30))
    assert due == local(2026, 11, 27, 9, 0)


def test_lunch_break_is_skipped() -> None:
    slots = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]
    cal = BusinessCalendar(tz=SH, hours={d: slots for d in range(7)})
    due = cal.add_business_time(local(2026, 11, 27, 11, 30), timedelta(hours=1))
    assert due == local(2026, 11, 27, 14, 0)
    assert not cal.is_open(local(2026, 11, 27, 12, 30))


def test_holidays_and_closed_weekdays_are_skipped() -> None:
    slot = [(time(9, 0), time(17, 0))]
    hours = {d: slot for d in range(5)}  # Monday to Friday
    cal = BusinessCalendar(tz=SH, hours=hours, holidays={date(2026, 11, 30)})
    # Friday 16:00 + 2h: one hour on Friday, Saturday/Sunday closed, Monday a holiday.
    due = cal.add_business_time(local(2026, 11, 27, 16, 0), timedelta(hours=2))
    assert due == local(2026, 12, 1, 10, 0)


def test_same_day_means_close_of_business_or_next_business_day_after_hours() -> None:
    cal = default_calendar()
    assert cal.end_of_business_day(local(2026, 11, 27, 10, 0)) == local(2026, 11, 27, 17, 30)
    assert cal.end_of_business_day(local(2026, 11, 27, 7, 0)) == local(2026, 11, 27, 17, 30)
    assert cal.end_of_business_day(local(2026, 11, 27, 18, 0)) == local(2026, 11, 28, 17, 30)


def test_local_date_follows_office_timezone() -> None:
    cal = default_calendar()
    # 17:00 UTC on the 27th is already the 28th in Shanghai.
    assert cal.local_date(datetime(2026, 11, 27, 17, 0, tzinfo=UTC)) == date(2026, 11, 28)


def test_calendar_without_any_hours_is_refused() -> None:
    with pytest.raises(ValueError):
        BusinessCalendar(tz=SH, hours={})


def test_business_time_between_counts_only_open_hours() -> None:
    cal = default_calendar()
    assert cal.business_time_between(local(2026, 11, 27, 17, 0), local(2026, 11, 28, 9, 0)) == (
        timedelta(minutes=60)
    )
    assert cal.business_time_between(local(2026, 11, 28, 9, 0), local(2026, 11, 27, 9, 0)) == (
        timedelta(0)
    )
