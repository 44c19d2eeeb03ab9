"""Calendar-month arithmetic, the "more than three months" rule (5.2.8), typed dates and the
business-day deadlines of the vacancy steps."""

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from models.base import DomainError
from models.calendar import BusinessCalendar, default_calendar
from models.vacancy_dates import (
    add_months,
    business_days_after,
    check_period,
    earliest_end,
    opening_of,
    parse_day,
)

TODAY = date(2026, 11, 27)


def period(start: date, end: date, ahead: int = 800) -> None:
    check_period(start, end, TODAY, min_months=3, max_months=36, max_ahead_days=ahead)


def refusal(start: date, end: date, ahead: int = 800) -> str:
    with pytest.raises(DomainError) as caught:
        period(start, end, ahead)
    return caught.value.code


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2026, 11, 30), 3, date(2027, 2, 28)),  # clamped: February is short
        (date(2027, 11, 30), 3, date(2028, 2, 29)),  # leap year
        (date(2027, 1, 31), 1, date(2027, 2, 28)),
        (date(2027, 1, 31), 3, date(2027, 4, 30)),
        (date(2026, 12, 31), 3, date(2027, 3, 31)),
        (date(2026, 10, 31), 3, date(2027, 1, 31)),  # across the year
        (date(2026, 12, 15), 12, date(2027, 12, 15)),
        (date(2027, 3, 31), -1, date(2027, 2, 28)),
        (date(2026, 12, 1), 0, date(2026, 12, 1)),
    ],
)
def test_add_months_keeps_the_day_or_clamps_to_the_month_end(
    start: date, months: int, expected: date
) -> None:
    assert add_months(start, months) == expected


@pytest.mark.parametrize(
    ("start", "three_months"),
    [
        (date(2026, 12, 1), date(2027, 3, 1)),
        (date(2026, 12, 31), date(2027, 3, 31)),  # a start on the 31st
        (date(2026, 11, 30), date(2027, 2, 28)),  # across February
        (date(2027, 11, 30), date(2028, 2, 29)),  # across a leap February
        (date(2027, 1, 31), date(2027, 4, 30)),
    ],
)
def test_exactly_three_months_is_refused_and_one_day_more_accepted(
    start: date, three_months: date
) -> None:
    assert refusal(start, three_months) == "vacancy_too_short"
    period(start, earliest_end(start, 3))
    assert earliest_end(start, 3) == date.fromordinal(three_months.toordinal() + 1)


def test_other_periods_refused_with_their_reason() -> None:
    assert refusal(date(2026, 11, 26), date(2027, 6, 1)) == "vacancy_start_past"
    assert refusal(date(2027, 11, 28), date(2028, 6, 1), 365) == "vacancy_start_far"
    assert refusal(date(2026, 12, 1), date(2026, 12, 1)) == "vacancy_end_before_start"
    assert refusal(date(2026, 12, 1), date(2026, 11, 30)) == "vacancy_end_before_start"
    assert refusal(date(2026, 12, 1), date(2029, 12, 2)) == "vacancy_too_long"
    period(TODAY, date(2027, 2, 28))  # today is allowed as the start
    period(date(2026, 12, 1), date(2029, 12, 1))  # exactly the longest allowed


def test_too_short_refusal_names_the_earliest_end() -> None:
    with pytest.raises(DomainError) as caught:
        period(date(2026, 11, 30), date(2027, 2, 28))
    assert caught.value.params == {
        "months": 3,
        "start": date(2026, 11, 30),
        "earliest": date(2027, 3, 1),
    }


@pytest.mark.parametrize(
    "text",
    [
        "2027-03-01",
        "2027/3/1",
        "2027.3.1",
        "2027年3月1日",
        "2027年3月1号",
        " 2027-3-1 ",
        "２０２７－０３－０１",
        "2027 年 3 月 1 日",
    ],
)
def test_dates_are_read_in_the_forms_owners_type(text: str) -> None:
    assert parse_day(text) == date(2027, 3, 1)


@pytest.mark.parametrize("text", ["", "tomorrow", "1/3/2027", "2027-03", "20270301", "2027-3-1x"])
def test_text_that_is_not_a_date_is_not_read(text: str) -> None:
    assert parse_day(text) is None


def test_a_date_that_does_not_exist_is_refused() -> None:
    with pytest.raises(DomainError) as caught:
        parse_day("2027-02-29")
    assert caught.value.code == "vacancy_no_such_date"
    assert parse_day("2028-02-29") == date(2028, 2, 29)


def _weekdays_only() -> BusinessCalendar:
    tz = ZoneInfo("Asia/Shanghai")
    slots = [(time(8, 30), time(12)), (time(13, 30), time(17, 30))]
    return BusinessCalendar(tz=tz, hours={d: slots for d in range(5)}, holidays={date(2026, 12, 1)})


def test_business_days_count_office_days_and_end_at_their_close() -> None:
    cal = default_calendar()
    friday_10 = datetime(2026, 11, 27, 2, tzinfo=UTC)
    assert business_days_after(cal, friday_10, 2) == datetime(2026, 11, 29, 9, 30, tzinfo=UTC)
    assert business_days_after(cal, friday_10, 0) == datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    office = _weekdays_only()
    # Friday + 2 business days skips the weekend and the holiday on Tuesday 1 Dec.
    assert business_days_after(office, friday_10, 2) == datetime(2026, 12, 2, 9, 30, tzinfo=UTC)
    saturday = datetime(2026, 11, 28, 3, tzinfo=UTC)
    assert business_days_after(office, saturday, 1) == datetime(2026, 11, 30, 9, 30, tzinfo=UTC)


def test_opening_of_a_closed_day_is_the_next_opening() -> None:
    office = _weekdays_only()
    assert opening_of(office, date(2026, 11, 28)) == datetime(2026, 11, 30, 0, 30, tzinfo=UTC)
    assert opening_of(office, date(2026, 12, 1)) == datetime(2026, 12, 2, 0, 30, tzinfo=UTC)
    assert opening_of(default_calendar(), date(2026, 12, 1)) == datetime(
        2026, 12, 1, 0, 30, tzinfo=UTC
    )


def test_monthly_rounds_open_on_the_first_and_are_due_at_the_month_end() -> None:
    from models.env import Env
    from models.vacancy_rounds import month_close, next_round_at

    env = Env()
    friday = datetime(2026, 11, 27, 2, tzinfo=UTC)
    assert next_round_at(friday, env) == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    early_on_the_first = datetime(2026, 11, 30, 22, tzinfo=UTC)  # 1 Dec 06:00 office time
    assert next_round_at(early_on_the_first, env) == datetime(2026, 12, 1, 0, 30, tzinfo=UTC)
    assert month_close(env, date(2027, 2, 1)) == datetime(2027, 2, 28, 9, 30, tzinfo=UTC)
    office = Env(calendar=_weekdays_only())
    # 31 Jan 2027 is a Sunday: the last business day of January is Friday the 29th.
    assert month_close(office, date(2027, 1, 1)) == datetime(2027, 1, 29, 9, 30, tzinfo=UTC)
