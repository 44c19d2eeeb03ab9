"""The office's rules as the domain sees them: calendar and per-flow policies.

Built once from the settings by the process and handed to domain operations and deadline
handlers, so the domain never reads configuration itself.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time, timedelta

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
    review_limit: timedelta = timedelta(minutes=30)  # business time
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
class Env:
    calendar: BusinessCalendar = field(default_factory=default_calendar)
    repair: RepairPolicy = field(default_factory=RepairPolicy)
    notice_chat: int | None = None
