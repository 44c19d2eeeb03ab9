"""Lost and found rules that need no database: ID numbers and their masking, the words items
are matched by, typed "found at" times, and the calendar of the recurring work.

Pure functions of their arguments (the clock and the calendar are passed in).
"""

from __future__ import annotations

import calendar as _months
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from models.base import DomainError
from models.calendar import BusinessCalendar, parse_moment
from models.env import LostFoundPolicy

# --- identity documents (seed 4.4: 持有效证件(身份证原件)认领 … 登记证件号码) -------------------

ID_CARD = "id_card"  # 居民身份证, GB 11643-1999: 17 digits + ISO 7064 MOD 11-2 check character
OTHER_DOCUMENT = "other"  # passport, Mainland Travel Permit (回乡证/台胞证), residence permit
DOCUMENTS = (ID_CARD, OTHER_DOCUMENT)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")
_OTHER_SHAPE = re.compile(r"^[A-Z0-9]{6,20}$")


@dataclass(frozen=True)
class IdDocument:
    """A document seen at the desk, as it may be kept: its kind and the masked number only."""

    kind: str
    masked: str


def normalize_number(raw: str) -> str:
    """Full-width digits and letters folded, spaces and dashes dropped, upper case."""
    text = unicodedata.normalize("NFKC", raw)
    return re.sub(r"[\s\-‐‑–—_./]", "", text).upper()


def mask(number: str, kind: str) -> str:
    """An ID card keeps its first 4 and last 4 characters (4101**********1234); other
    documents, shorter, keep 2 and 2 — enough to match a card at the desk, not to reuse it."""
    keep = 4 if kind == ID_CARD else 2
    return number[:keep] + "*" * (len(number) - 2 * keep) + number[-keep:]


def check_document(kind: str, raw: str, today: date) -> IdDocument:
    """Validate a typed document number and return only its masked form.

    The full number lives no longer than this call: callers store and show `masked` only.
    """
    number = normalize_number(raw)
    if kind == ID_CARD:
        if not _ID_SHAPE.match(number):
            raise DomainError("lf_id_format")
        try:
            born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            raise DomainError("lf_id_birth") from None
        if born.year < 1900 or born > today:
            raise DomainError("lf_id_birth")
        total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
        if _CHECK[total % 11] != number[17]:
            raise DomainError("lf_id_checksum")
    elif kind == OTHER_DOCUMENT:
        if not _OTHER_SHAPE.match(number) or sum(ch.isdigit() for ch in number) < 4:
            raise DomainError("lf_doc_format")
    else:
        raise DomainError("stale")
    return IdDocument(kind, mask(number, kind))


# --- words: search and matching --------------------------------------------------------------

_RUNS = re.compile(r"[0-9a-z]+|[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+")
_STOP = {
    "a",
    "an",
    "and",
    "at",
    "by",
    "for",
    "found",
    "from",
    "in",
    "is",
    "it",
    "lost",
    "my",
    "near",
    "of",
    "on",
    "one",
    "or",
    "some",
    "the",
    "to",
    "with",
}


def words(text: str) -> set[str]:
    """The words two texts are compared by: Latin words (lower case, plural 's' dropped) and,
    since Chinese has no spaces, every pair of neighbouring Chinese characters (a lone
    character counts as a word): 黑色钱包 and 钱包 share 钱包."""
    out: set[str] = set()
    for run in _RUNS.findall(unicodedata.normalize("NFKC", text).lower()):
        if run[0].isascii():
            if len(run) < 2 or run in _STOP:
                continue
            if len(run) > 3 and run.endswith("s") and not run.endswith("ss"):
                run = run[:-1]
            out.add(run)
        elif len(run) == 1:
            out.add(run)
        else:
            out.update(run[i : i + 2] for i in range(len(run) - 1))
    return out


def shared_words(a: str, b: str) -> set[str]:
    return words(a) & words(b)


# --- when an item was found --------------------------------------------------------------------


def parse_found_time(raw: str, now: datetime, cal: BusinessCalendar) -> datetime | None:
    """Typed the way a moment is typed anywhere in the bot (models.calendar.parse_moment);
    it was found already, so a bare time still to come today means yesterday."""
    return parse_moment(raw, now, cal, past=True)


def check_found_at(found_at: datetime, now: datetime, policy: LostFoundPolicy) -> None:
    """Not in the future, and not longer ago than the policy allows (90 days by default)."""
    if found_at > now:
        raise DomainError("lf_found_future")
    if now - found_at > policy.max_found_age:
        raise DomainError("lf_found_too_old", days=policy.max_found_age.days)


# --- the calendar of the recurring work --------------------------------------------------------


def add_months(moment: datetime, months: int, cal: BusinessCalendar) -> datetime:
    """The same office-local time `months` calendar months later (31 Jan + 1 → 28/29 Feb)."""
    local = moment.astimezone(cal.tz)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, _months.monthrange(year, month)[1])
    shifted = datetime.combine(date(year, month, day), local.timetz().replace(tzinfo=None), cal.tz)
    return shifted.astimezone(UTC)


def month_end_of(year: int, month: int, policy: LostFoundPolicy, cal: BusinessCalendar) -> datetime:
    """The month-end handover (4.6 每月底): the close of the month's last business day, or
    `policy.month_end_time` on that day."""
    last = date(year, month, _months.monthrange(year, month)[1])
    day = last
    while not cal.is_business_day(day) and day.day > 1:
        day -= timedelta(days=1)
    if not cal.is_business_day(day):
        day = last  # an office closed all month still hands over on the last day
    if policy.month_end_time is not None or not cal.slots_on(day):
        at = datetime.combine(day, policy.month_end_time or time(17, 30), cal.tz)
    else:
        at = cal.slots_on(day)[-1][1]
    return at.astimezone(UTC)


def next_month_end(after: datetime, policy: LostFoundPolicy, cal: BusinessCalendar) -> datetime:
    """The first month-end handover strictly after `after`."""
    local = after.astimezone(cal.tz)
    year, month = local.year, local.month
    for _ in range(3):
        at = month_end_of(year, month, policy, cal)
        if at > after:
            return at
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    raise ValueError("no month end found")  # pragma: no cover - two months always suffice


def next_notice_at(after: datetime, policy: LostFoundPolicy, cal: BusinessCalendar) -> datetime:
    """The first weekly notice moment (configured weekday and time) strictly after `after`."""
    local = after.astimezone(cal.tz)
    days = (policy.notice_weekday - local.weekday()) % 7
    at = datetime.combine(local.date() + timedelta(days=days), policy.notice_time, cal.tz)
    if at <= local:
        at += timedelta(days=7)
    return at.astimezone(UTC)


def claim_reminder_at(moment: datetime, days: int, cal: BusinessCalendar) -> datetime:
    """When the desk is reminded of a claim nobody has acted on: the opening of the business
    day after `days` whole business days following the day of `moment` (a claim filed on
    Friday, 3 days: Tuesday morning with a desk open every day)."""
    day, counted = cal.local_date(moment), 0
    for _ in range(800):
        day += timedelta(days=1)
        slots = cal.slots_on(day)
        if not slots:
            continue
        if counted >= days:
            return slots[0][0].astimezone(UTC)
        counted += 1
    raise ValueError("no business day found within the calendar's horizon")
