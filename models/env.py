"""The office's rules as the domain sees them: calendar and per-flow policies.

Built once from the settings by the process and handed to domain operations and deadline
handlers, so the domain never reads configuration itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta
from decimal import Decimal

from models.calendar import BusinessCalendar, default_calendar


@dataclass(frozen=True)
class FeeLine:
    zh_CN: str
    en: str
    amount: str  # decimal string, CNY


@dataclass(frozen=True)
class Category:
    code: str
    zh_CN: str
    en: str
    fees: tuple[FeeLine, ...] = ()

    @property
    def chargeable(self) -> bool:
        return bool(self.fees)

    def name(self) -> dict[str, str]:
        return {"zh_CN": self.zh_CN, "en": self.en}


@dataclass(frozen=True)
class RepairPolicy:
    """Repair deadlines and limits. Seed values: arrival 15 min, review 30 min, reply 24 h."""

    categories: tuple[Category, ...] = (Category("other", "其他", "Other"),)
    daily_limit: int = 10
    max_open_per_technician: int = 5
    dispatch_remind: timedelta = timedelta(minutes=30)  # business time
    dispatch_escalate: timedelta = timedelta(hours=2)  # business time
    arrival_grace: timedelta = timedelta(minutes=15)  # clock time after appointment/dispatch
    review_limit: timedelta = timedelta(minutes=30)  # clock time: the technician is on site
    escalate_after: timedelta = timedelta(hours=1)  # after a missed arrival/review deadline
    reply_limit: timedelta = timedelta(hours=24)  # business time after dispatch
    confirm_remind: timedelta = timedelta(hours=24)  # clock time: the owner's own time
    confirm_close: timedelta = timedelta(hours=48)
    followup_limit: timedelta = timedelta(hours=24)  # business time
    urge_interval: timedelta = timedelta(hours=1)
    slot_days: int = 3
    slot_step: timedelta = timedelta(hours=2)
    slot_lead: timedelta = timedelta(hours=1)
    report_time: time = time(17, 30)

    def category(self, code: str) -> Category | None:
        return next((c for c in self.categories if c.code == code), None)


@dataclass(frozen=True)
class ComplaintPolicy:
    """Complaint and suggestion deadlines. Seed values (ch.6 §6 4.2.3-4.3, ch.4 四/五): class 1
    within 4 hours, class 2 the same day, class 3 within 3 days, the executive after 2 days
    without reply, asking a superior within 2 hours, suggestions answered within 24 hours
    (major issues 48), follow-up within 3 days. The others are PropDesk defaults."""

    class1_limit: timedelta = timedelta(hours=4)  # business time after the order
    class3_limit: timedelta = timedelta(days=3)  # calendar time after the order
    executive_after: timedelta = timedelta(days=2)  # calendar time after the order
    classify_remind: timedelta = timedelta(hours=1)  # business time after filing
    classify_escalate: timedelta = timedelta(hours=2)  # business time: the head is told
    answer_limit: timedelta = timedelta(hours=24)  # business time after filing
    major_answer_limit: timedelta = timedelta(hours=48)  # business time after filing
    ask_superior_limit: timedelta = timedelta(hours=2)  # business time after the order
    pass_on_limit: timedelta = timedelta(hours=1)  # business time: heard → front desk (4.2.3)
    feedback_limit: timedelta = timedelta(hours=24)  # business time after the order (ch.4 四)
    followup_limit: timedelta = timedelta(days=3)  # calendar time after resolution
    followup_escalate: timedelta = timedelta(days=1)  # after a missed follow-up
    # Who may be made responsible for a case (role values, see models.people.Role).
    responsible_roles: tuple[str, ...] = (
        "service",
        "team_lead",
        "supervisor",
        "technician",
        "receptionist",
        "cashier",
        "admin",
        "guard",
    )


@dataclass(frozen=True)
class VacancyPolicy:
    """Vacancy applications (seed ch.6 §3 5.2). Seed values: more than 3 months (5.2.8), fees
    at 50 % (5.2.5), more than 1 t water or 5 kWh electricity a month means occupied (5.2.6).
    The step deadlines, the end-date reminder and the plausibility limits are PropDesk
    defaults."""

    min_months: int = 3
    half_rate_percent: int = 50
    water_limit: Decimal = Decimal("1")  # t per month
    electricity_limit: Decimal = Decimal("5")  # kWh per month
    step_days: int = 2  # business days for each approval step
    shutoff_days: int = 1  # business days after approval (or the start date, if later)
    end_reminder_days: int = 14  # calendar days before the end date
    max_months: int = 36
    max_start_ahead_days: int = 365
    water_jump_max: Decimal = Decimal("300")  # t between two readings
    electricity_jump_max: Decimal = Decimal("10000")  # kWh between two readings


@dataclass(frozen=True)
class FoundCategory:
    """A category of found items; a valuable one (money, phones...) marks its items valuable."""

    code: str
    zh_CN: str
    en: str
    valuable: bool = False

    def name(self) -> dict[str, str]:
        return {"zh_CN": self.zh_CN, "en": self.en}


DEFAULT_FOUND_CATEGORIES = (
    FoundCategory("money", "现金", "Money", valuable=True),
    FoundCategory("phone", "手机", "Mobile phone", valuable=True),
    FoundCategory("jewellery", "首饰手表", "Jewellery and watches", valuable=True),
    FoundCategory("cards", "证件卡类", "Cards and documents", valuable=True),
    FoundCategory("wallet", "钱包箱包", "Wallets and bags"),
    FoundCategory("keys", "钥匙", "Keys"),
    FoundCategory("electronics", "电子产品", "Electronics"),
    FoundCategory("clothing", "衣物", "Clothing"),
    FoundCategory("other", "其他", "Other"),
)


@dataclass(frozen=True)
class LostFoundPolicy:
    """Lost and found (seed ch.6 §4): the weekly notice is valid one week (4.5), unclaimed
    items go to administration at month end (4.6), are reported for disposal after three
    months (4.7), and valuables not claimed the same day go to administration (4.8). The
    notice's weekday and time, the 90-day limits, the list size and the reminders about claims
    nobody acts on are PropDesk defaults."""

    categories: tuple[FoundCategory, ...] = DEFAULT_FOUND_CATEGORIES
    notice_weekday: int = 0  # Monday
    notice_time: time = time(9, 0)
    notice_valid: timedelta = timedelta(days=7)
    month_end_time: time | None = None  # None: close of business on the last business day
    disposal_months: int = 3
    max_found_age: timedelta = timedelta(days=90)  # how far back a typed "found at" may go
    report_valid: timedelta = timedelta(days=90)  # how long an owner's lost report matches
    list_size: int = 10
    claim_remind_days: int = 3  # whole business days a claim may wait before the desk is reminded
    claim_reminders: int = 3  # then as often again, at most this many reminders in all

    def category(self, code: str) -> FoundCategory | None:
        return next((c for c in self.categories if c.code == code), None)


@dataclass(frozen=True)
class Env:
    calendar: BusinessCalendar = field(default_factory=default_calendar)
    repair: RepairPolicy = field(default_factory=RepairPolicy)
    notice_chat: int | None = None
    complaint: ComplaintPolicy = field(default_factory=ComplaintPolicy)
    lost_found: LostFoundPolicy = field(default_factory=LostFoundPolicy)
    vacancy: VacancyPolicy = field(default_factory=VacancyPolicy)
