"""Complaint deadlines against the business calendar: class 1 counts office hours, class 2 ends
with the business day, class 3 counts calendar days; weekends, holidays and lunch breaks."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.config import load_settings
from models.calendar import BusinessCalendar, default_calendar
from models.complaint import answer_due, executive_due, handling_due
from models.env import Env

SH = ZoneInfo("Asia/Shanghai")
LUNCH = [(time(8, 30), time(12, 0)), (time(13, 30), time(17, 30))]
WEEKDAYS_9_TO_5 = {d: [(time(9, 0), time(17, 0))] for d in range(5)}


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SH)


def env(calendar: BusinessCalendar | None = None) -> Env:
    return Env(calendar=calendar or default_calendar())


# 2026-11-27 is a Friday; 2026-11-30 a Monday.
OFFICE = env(BusinessCalendar(tz=SH, hours=WEEKDAYS_9_TO_5, holidays={date(2026, 11, 30)}))


@pytest.mark.parametrize(
    ("sent", "due"),
    [
        (local(11, 27, 10), local(11, 27, 14)),
        (local(11, 27, 17), local(11, 28, 12)),  # SPEC §4: filed at 17:00, due at noon
        (local(11, 27, 20), local(11, 28, 12, 30)),  # after hours: from the next opening
    ],
)
def test_class_one_counts_four_office_hours(sent: datetime, due: datetime) -> None:
    assert handling_due(1, sent, env()) == due.astimezone(UTC)


def test_class_one_skips_the_lunch_break() -> None:
    lunch = env(BusinessCalendar(tz=SH, hours={d: LUNCH for d in range(7)}))
    # 11:00 → 12:00 is one hour, then three more from 13:30.
    assert handling_due(1, local(11, 27, 11), lunch) == local(11, 27, 16, 30)


def test_class_one_skips_the_weekend_and_a_holiday() -> None:
    # Friday 15:00: two hours on Friday, Saturday and Sunday closed, Monday a holiday.
    assert handling_due(1, local(11, 27, 15), OFFICE) == local(12, 1, 11)


@pytest.mark.parametrize(
    ("sent", "due"),
    [
        (local(11, 27, 16), local(11, 27, 17, 30)),
        (local(11, 27, 7), local(11, 27, 17, 30)),  # before opening: that day
        (local(11, 27, 20), local(11, 28, 17, 30)),  # after closing: the next business day
    ],
)
def test_class_two_is_due_at_the_close_of_the_business_day(sent: datetime, due: datetime) -> None:
    assert handling_due(2, sent, env()) == due


def test_class_two_after_hours_on_friday_waits_for_the_next_business_day() -> None:
    assert handling_due(2, local(11, 27, 18), OFFICE) == local(12, 1, 17)
    assert handling_due(2, local(11, 28, 10), OFFICE) == local(12, 1, 17)  # a Saturday


def test_class_two_with_a_lunch_break_ends_at_the_last_slot() -> None:
    lunch = env(BusinessCalendar(tz=SH, hours={d: LUNCH for d in range(7)}))
    assert handling_due(2, local(11, 27, 12, 30), lunch) == local(11, 27, 17, 30)


def test_class_three_counts_calendar_days_through_weekends_and_holidays() -> None:
    assert handling_due(3, local(11, 27, 15), OFFICE) == local(11, 30, 15)
    assert handling_due(3, local(11, 27, 22), env()) == local(11, 30, 22)


def test_suggestions_are_answered_within_24_office_hours_or_48_when_major() -> None:
    # Friday 10:00: 7.5 h on Friday, 9 h on Saturday, 7.5 h on Sunday.
    assert answer_due(local(11, 27, 10), env(), major=False) == local(11, 29, 16)
    assert answer_due(local(11, 27, 10), env(), major=True) == local(12, 2, 13)
    assert answer_due(local(11, 27, 10), OFFICE, major=False) == local(12, 3, 10)


def test_the_executive_comes_two_days_after_the_order_but_never_before_the_supervisor() -> None:
    sent = local(11, 27, 10)
    assert executive_due(sent, handling_due(1, sent, env()), env()) == local(11, 29, 10)
    assert executive_due(sent, handling_due(2, sent, env()), env()) == local(11, 29, 10)
    class3 = handling_due(3, sent, env())
    assert executive_due(sent, class3, env()) == class3 + timedelta(days=2)


def test_complaint_deadlines_are_configurable() -> None:
    settings = load_settings(
        token="1:x", complaint={"class1_hours": 2, "class3_days": 5, "executive_after_days": 3}
    )
    policy = settings.env().complaint
    assert policy.class1_limit == timedelta(hours=2)
    assert policy.class3_limit == timedelta(days=5)
    assert policy.executive_after == timedelta(days=3)
    assert policy.classify_remind == timedelta(hours=1)
    assert handling_due(1, local(11, 27, 10), settings.env()) == local(11, 27, 12)
