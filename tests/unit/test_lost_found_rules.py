"""Lost-and-found rules without a database: ID numbers and masking, words, typed times, the
calendar of the weekly notice, the month end and the three months."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from models.base import DomainError
from models.calendar import BusinessCalendar, default_calendar, parse_moment
from models.env import LostFoundPolicy
from models.lost_found_rules import (
    ID_CARD,
    OTHER_DOCUMENT,
    add_months,
    check_document,
    check_found_at,
    claim_reminder_at,
    mask,
    month_end_of,
    next_month_end,
    next_notice_at,
    parse_found_time,
    shared_words,
    words,
)

CAL = default_calendar()
SH = ZoneInfo("Asia/Shanghai")
NOW = datetime(2026, 11, 27, 10, 0, tzinfo=SH).astimezone(UTC)  # a Friday
TODAY = date(2026, 11, 27)
POLICY = LostFoundPolicy()


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


# --- documents ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "masked"),
    [
        ("410102199003071230", "4101**********1230"),
        ("11010519491231002x", "1101**********002X"),  # the check character X, typed lower case
        ("1101 0519 4912 3100 2X", "1101**********002X"),  # spaces as printed on forms
        ("４１０１０２１９９００３０７１２３０", "4101**********1230"),  # full-width digits
    ],
)
def test_a_valid_resident_id_is_kept_masked_only(raw: str, masked: str) -> None:
    document = check_document(ID_CARD, raw, TODAY)
    assert document.masked == masked
    assert document.kind == ID_CARD
    assert not hasattr(document, "number")


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("410102199003071231", "lf_id_checksum"),  # one digit off
        ("410102199003071", "lf_id_format"),  # too short
        ("4101021990030712301", "lf_id_format"),  # too long
        ("41010219900307123A", "lf_id_format"),  # only X may end it
        ("410102199013071235", "lf_id_birth"),  # month 13
        ("410102203001011234", "lf_id_birth"),  # born in 2030
        ("abc", "lf_id_format"),
    ],
)
def test_an_invalid_resident_id_is_refused_with_its_reason(raw: str, code: str) -> None:
    with pytest.raises(DomainError) as refused:
        check_document(ID_CARD, raw, TODAY)
    assert refused.value.code == code


def test_other_documents_keep_two_characters_at_each_end() -> None:
    assert check_document(OTHER_DOCUMENT, "e12345678", TODAY).masked == "E1*****78"
    assert check_document(OTHER_DOCUMENT, "H1234567890", TODAY).masked == "H1*******90"
    for bad in ("E123", "ABCDEFGH", "E1234567890123456789012", "E12-34-56#78"):
        with pytest.raises(DomainError):
            check_document(OTHER_DOCUMENT, bad, TODAY)
    with pytest.raises(DomainError):
        check_document("driving_licence", "410102199003071230", TODAY)


def test_masking_keeps_the_length_and_hides_the_middle() -> None:
    assert mask("410102199003071230", ID_CARD) == "4101" + "*" * 10 + "1230"


# --- words -------------------------------------------------------------------------------------


def test_words_are_latin_words_and_chinese_character_pairs() -> None:
    assert words("The black Wallets, near the lobby!") == {"black", "wallet", "lobby"}
    assert words("黑色钱包") == {"黑色", "色钱", "钱包"}
    assert words("包") == {"包"}
    assert shared_words("钱包", "在大堂捡到的黑色钱包") == {"钱包"}
    assert shared_words("lost my keys in the gym", "Car keys") == {"key"}
    assert not shared_words("red umbrella", "blue phone")
    assert words("a of to") == set()


# --- found at ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-27 08:15", local(2026, 11, 27, 8, 15)),
        ("2026/11/26 21:05", local(2026, 11, 26, 21, 5)),
        ("2026年11月26日 9:05", local(2026, 11, 26, 9, 5)),
        ("11-25 14:30", local(2026, 11, 25, 14, 30)),
        ("9:30", local(2026, 11, 27, 9, 30)),
        ("09：30", local(2026, 11, 27, 9, 30)),
        ("9:30 today", local(2026, 11, 27, 9, 30)),
        ("today 9:30", local(2026, 11, 27, 9, 30)),
        ("Yesterday 18:00", local(2026, 11, 26, 18, 0)),
        ("昨天 18:00", local(2026, 11, 26, 18, 0)),
        ("今天8点30", local(2026, 11, 27, 8, 30)),
    ],
)
def test_typed_times_are_read_in_office_time(typed: str, expected: datetime) -> None:
    assert parse_found_time(typed, NOW, CAL) == expected


def test_a_bare_time_still_to_come_today_was_yesterday() -> None:
    ten_past_midnight = local(2026, 11, 28, 0, 10)
    assert parse_found_time("23:50", ten_past_midnight, CAL) == local(2026, 11, 27, 23, 50)
    assert parse_found_time("00:05", ten_past_midnight, CAL) == local(2026, 11, 28, 0, 5)
    assert parse_found_time("00:10", ten_past_midnight, CAL) == local(2026, 11, 28, 0, 10)
    # said to be today, it stays today (and is refused as in the future)
    assert parse_found_time("23:50 today", ten_past_midnight, CAL) == local(2026, 11, 28, 23, 50)
    # a moment that is to come (an appointment) is read as before
    assert parse_moment("23:50", ten_past_midnight, CAL) == local(2026, 11, 28, 23, 50)


@pytest.mark.parametrize(
    "typed", ["", "soon", "25:00", "9:75", "2026-02-30 10:00", "yesterday 9:30 today", "14.30.00"]
)
def test_unreadable_times_give_none(typed: str) -> None:
    assert parse_found_time(typed, NOW, CAL) is None


def test_found_time_may_not_be_in_the_future_nor_more_than_90_days_back() -> None:
    check_found_at(NOW, NOW, POLICY)
    check_found_at(NOW - timedelta(days=90), NOW, POLICY)
    with pytest.raises(DomainError) as future:
        check_found_at(NOW + timedelta(minutes=1), NOW, POLICY)
    assert future.value.code == "lf_found_future"
    with pytest.raises(DomainError) as old:
        check_found_at(NOW - timedelta(days=90, minutes=1), NOW, POLICY)
    assert (old.value.code, old.value.params) == ("lf_found_too_old", {"days": 90})


# --- the calendar of recurring work -------------------------------------------------------------


def test_three_calendar_months_keep_the_local_time_and_clamp_the_day() -> None:
    assert add_months(NOW, 3, CAL) == local(2027, 2, 27, 10, 0)
    assert add_months(local(2026, 11, 30, 16, 0), 3, CAL) == local(2027, 2, 28, 16, 0)
    assert add_months(local(2027, 10, 31, 8, 0), 4, CAL) == local(2028, 2, 29, 8, 0)


def test_month_end_is_the_close_of_the_last_business_day() -> None:
    assert month_end_of(2026, 11, POLICY, CAL) == local(2026, 11, 30, 17, 30)
    weekdays_only = BusinessCalendar(
        tz=SH,
        hours={d: [(time(8, 30), time(17, 30))] for d in range(5)},
        holidays={date(2027, 4, 30)},
    )
    # 31 Jan 2027 is a Sunday: the handover is on Friday the 29th.
    assert month_end_of(2027, 1, POLICY, weekdays_only) == local(2027, 1, 29, 17, 30)
    # 30 April 2027 (Friday) is a holiday: Thursday the 29th.
    assert month_end_of(2027, 4, POLICY, weekdays_only) == local(2027, 4, 29, 17, 30)
    fixed = LostFoundPolicy(month_end_time=time(16, 0))
    assert month_end_of(2026, 12, fixed, CAL) == local(2026, 12, 31, 16, 0)


def test_the_next_month_end_is_strictly_after_the_moment() -> None:
    assert next_month_end(NOW, POLICY, CAL) == local(2026, 11, 30, 17, 30)
    assert next_month_end(local(2026, 11, 30, 17, 30), POLICY, CAL) == local(2026, 12, 31, 17, 30)
    assert next_month_end(local(2026, 12, 31, 18, 0), POLICY, CAL) == local(2027, 1, 31, 17, 30)


def test_a_waiting_claim_is_recalled_after_whole_business_days() -> None:
    # Friday: Saturday, Sunday and Monday pass; the desk hears on Tuesday when it opens.
    assert claim_reminder_at(NOW, 3, CAL) == local(2026, 12, 1, 8, 30)
    assert claim_reminder_at(local(2026, 11, 27, 23, 0), 3, CAL) == local(2026, 12, 1, 8, 30)
    weekdays_only = BusinessCalendar(
        tz=SH, hours={d: [(time(9, 0), time(12, 0)), (time(13, 0), time(18, 0))] for d in range(5)}
    )
    # Friday: Monday, Tuesday and Wednesday are the business days that pass.
    assert claim_reminder_at(NOW, 3, weekdays_only) == local(2026, 12, 3, 9, 0)


def test_the_next_weekly_notice_is_the_configured_weekday_and_time() -> None:
    assert next_notice_at(NOW, POLICY, CAL) == local(2026, 11, 30, 9, 0)
    assert next_notice_at(local(2026, 11, 30, 9, 0), POLICY, CAL) == local(2026, 12, 7, 9, 0)
    friday_five = LostFoundPolicy(notice_weekday=4, notice_time=time(17, 0))
    assert next_notice_at(NOW, friday_five, CAL) == local(2026, 11, 27, 17, 0)
    assert next_notice_at(local(2026, 11, 27, 17, 0), friday_five, CAL) == local(2026, 12, 4, 17, 0)


def test_the_lost_and_found_settings_reach_the_policy() -> None:
    from bot.config import ConfigError, load_settings

    settings = load_settings(
        token="1:x",
        lost_found={
            "notice_weekday": "fri",
            "notice_time": "17:00",
            "month_end_time": "16:00",
            "disposal_months": 6,
            "categories": [
                {"code": "cash", "name": {"zh_CN": "现金", "en": "Cash"}, "valuable": True},
                {"code": "other", "name": {"zh_CN": "其他", "en": "Other"}},
            ],
        },
    )
    policy = settings.env().lost_found
    assert (policy.notice_weekday, policy.notice_time) == (4, time(17, 0))
    assert (policy.month_end_time, policy.disposal_months) == (time(16, 0), 6)
    assert [(c.code, c.valuable) for c in policy.categories] == [("cash", True), ("other", False)]
    assert load_settings(token="1:x").env().lost_found == LostFoundPolicy()
    for bad in ({"notice_weekday": "someday"}, {"categories": []}, {"disposal_months": 0}):
        with pytest.raises(ConfigError):
            load_settings(token="1:x", lost_found=bad)
