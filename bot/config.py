"""Settings: environment variables (``PROPDESK_*``) over an optional TOML file.

The TOML file is named by ``PROPDESK_CONFIG``.

Read once through :func:`get_settings`. A bad value raises :class:`ConfigError` whose message is
one line an operator can act on; the CLI prints it instead of a traceback.
"""

from __future__ import annotations

import os
import re
import tomllib
from datetime import date, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from models.calendar import BusinessCalendar
from models.env import (
    DEFAULT_FOUND_CATEGORIES,
    Category,
    ComplaintPolicy,
    Env,
    FeeLine,
    FoundCategory,
    LostFoundPolicy,
    RepairPolicy,
    VacancyPolicy,
)

SUPPORTED_LOCALES = ("zh_CN", "en")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_SLOT = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")


class ConfigError(Exception):
    """A setting is missing or wrong; the message is one line meant for the operator."""


class LocalizedText(BaseModel):
    """A name shown to users, in every shipped locale."""

    zh_CN: str
    en: str

    def get(self, locale: str) -> str:
        return self.en if locale == "en" else self.zh_CN


class FeeItem(BaseModel):
    """One line of the fee schedule (收费项目) with its amount in CNY."""

    item: LocalizedText
    amount: Decimal = Field(gt=0, max_digits=10, decimal_places=2)


class RepairCategory(BaseModel):
    """A repair category; it is chargeable when it has fee items."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    name: LocalizedText
    fees: list[FeeItem] = []

    @property
    def chargeable(self) -> bool:
        return bool(self.fees)


def _cat(code: str, zh: str, en: str) -> RepairCategory:
    return RepairCategory(code=code, name=LocalizedText(zh_CN=zh, en=en))


DEFAULT_CATEGORIES = [
    _cat("water", "给水", "Water supply"),
    _cat("electricity", "电路", "Electricity"),
    _cat("doors_windows", "门窗", "Doors and windows"),
    _cat("drainage", "排水", "Drainage"),
    _cat("heating", "暖气", "Heating"),
    _cat("gas", "燃气", "Gas"),
    _cat("intercom", "智能化/对讲", "Smart home / intercom"),
    _cat("other", "其他", "Other"),
]


class CalendarSettings(BaseModel):
    """Office hours per weekday (several slots allow a lunch break) and holidays."""

    default: list[str] = ["08:30-17:30"]
    mon: list[str] | None = None
    tue: list[str] | None = None
    wed: list[str] | None = None
    thu: list[str] | None = None
    fri: list[str] | None = None
    sat: list[str] | None = None
    sun: list[str] | None = None
    holidays: list[date] = []

    @field_validator("default", "mon", "tue", "wed", "thu", "fri", "sat", "sun")
    @classmethod
    def _slots_valid(cls, value: list[str] | None) -> list[str] | None:
        if value is not None:
            _parse_slots(value)
        return value

    def slots(self) -> dict[int, list[tuple[time, time]]]:
        out: dict[int, list[tuple[time, time]]] = {}
        for index, name in enumerate(WEEKDAYS):
            raw = getattr(self, name)
            out[index] = _parse_slots(self.default if raw is None else raw)
        return out


def _parse_slots(raw: list[str]) -> list[tuple[time, time]]:
    slots: list[tuple[time, time]] = []
    for text in raw:
        match = _SLOT.match(text.strip())
        if not match:
            raise ValueError(f"office hours slot {text!r} is not HH:MM-HH:MM")
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2 != 0):
            raise ValueError(f"office hours slot {text!r} has an impossible time")
        start = time(h1, m1)
        end = time(23, 59, 59, 999999) if h2 == 24 else time(h2, m2)
        if end <= start:
            raise ValueError(f"office hours slot {text!r} ends before it starts")
        if slots and start < slots[-1][1]:
            raise ValueError(f"office hours slot {text!r} overlaps or is out of order")
        slots.append((start, end))
    return slots


class RepairSettings(BaseModel):
    """Repair limits and deadlines (the seed fixes arrival 15 min, review 30 min, reply 24 h;
    the rest are PropDesk defaults an office may change)."""

    daily_limit: int = Field(default=10, ge=1, le=1000)
    max_open_per_technician: int = Field(default=5, ge=1, le=1000)
    dispatch_remind_minutes: int = Field(default=30, ge=1)
    dispatch_escalate_minutes: int = Field(default=120, ge=1)
    arrival_grace_minutes: int = Field(default=15, ge=1)
    review_minutes: int = Field(default=30, ge=1)
    escalate_after_minutes: int = Field(default=60, ge=1)
    reply_hours: int = Field(default=24, ge=1)
    confirm_remind_hours: int = Field(default=24, ge=1)
    confirm_close_hours: int = Field(default=48, ge=1)
    followup_hours: int = Field(default=24, ge=1)
    urge_interval_minutes: int = Field(default=60, ge=1)
    slot_days: int = Field(default=3, ge=1, le=14)
    slot_step_minutes: int = Field(default=120, ge=15)
    report_time: time = time(17, 30)


class ComplaintSettings(BaseModel):
    """Complaint and suggestion deadlines (seed ch.6 §6 and ch.4); hours count office time,
    days calendar time."""

    class1_hours: int = Field(default=4, ge=1)
    class3_days: int = Field(default=3, ge=1)
    executive_after_days: int = Field(default=2, ge=1)
    classify_remind_minutes: int = Field(default=60, ge=1)
    classify_escalate_minutes: int = Field(default=120, ge=1)
    answer_hours: int = Field(default=24, ge=1)
    major_answer_hours: int = Field(default=48, ge=1)
    ask_superior_hours: int = Field(default=2, ge=1)
    pass_on_minutes: int = Field(default=60, ge=1)
    feedback_hours: int = Field(default=24, ge=1)
    followup_days: int = Field(default=3, ge=1)
    followup_escalate_days: int = Field(default=1, ge=1)


class VacancySettings(BaseModel):
    """Vacancy application deadlines and limits (PropDesk defaults; the seed's own rules —
    more than 3 months, 50 %, 1 t / 5 kWh a month — are fixed)."""

    step_days: int = Field(default=2, ge=1, le=30)
    shutoff_days: int = Field(default=1, ge=1, le=30)
    end_reminder_days: int = Field(default=14, ge=1, le=60)
    max_months: int = Field(default=36, ge=4, le=120)
    max_start_ahead_days: int = Field(default=365, ge=1, le=3650)
    water_jump_max: Decimal = Field(default=Decimal("300"), gt=0, max_digits=10, decimal_places=2)
    electricity_jump_max: Decimal = Field(
        default=Decimal("10000"), gt=0, max_digits=10, decimal_places=2
    )


class FoundItemCategory(BaseModel):
    """A category of found items; `valuable` marks money, phones and the like (seed 4.8)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")
    name: LocalizedText
    valuable: bool = False


class LostFoundSettings(BaseModel):
    """Lost and found (seed ch.6 §4): when the weekly notice (招领启事) goes out and the
    limits of registration; month end is the close of the month's last business day unless
    `month_end_time` is set."""

    notice_weekday: str = Field(default="mon", pattern=r"^(mon|tue|wed|thu|fri|sat|sun)$")
    notice_time: time = time(9, 0)
    notice_valid_days: int = Field(default=7, ge=1, le=31)
    month_end_time: time | None = None
    disposal_months: int = Field(default=3, ge=1, le=24)
    max_found_age_days: int = Field(default=90, ge=1, le=3650)
    lost_report_days: int = Field(default=90, ge=1, le=3650)
    categories: list[FoundItemCategory] = Field(
        default_factory=lambda: [
            FoundItemCategory(
                code=c.code, name=LocalizedText(zh_CN=c.zh_CN, en=c.en), valuable=c.valuable
            )
            for c in DEFAULT_FOUND_CATEGORIES
        ]
    )

    @model_validator(mode="after")
    def _unique_codes(self) -> LostFoundSettings:
        codes = [c.code for c in self.categories]
        if not codes or len(codes) != len(set(codes)):
            raise ValueError("lost_found.categories: codes must be unique and at least one given")
        return self

    def policy(self) -> LostFoundPolicy:
        return LostFoundPolicy(
            categories=tuple(
                FoundCategory(c.code, c.name.zh_CN, c.name.en, c.valuable) for c in self.categories
            ),
            notice_weekday=WEEKDAYS.index(self.notice_weekday),
            notice_time=self.notice_time,
            notice_valid=timedelta(days=self.notice_valid_days),
            month_end_time=self.month_end_time,
            disposal_months=self.disposal_months,
            max_found_age=timedelta(days=self.max_found_age_days),
            report_valid=timedelta(days=self.lost_report_days),
        )


class Settings(BaseSettings):
    """Everything configurable; field names are the env names without ``PROPDESK_``."""

    model_config = SettingsConfigDict(env_prefix="PROPDESK_", extra="ignore")

    token: SecretStr | None = None
    database_url: str = "sqlite+aiosqlite:///propdesk.db"
    api_base_url: str = "https://api.telegram.org/bot"
    api_file_url: str | None = None
    timezone: str = "Asia/Shanghai"
    locale: str = "zh_CN"
    sweep_seconds: int = Field(default=60, ge=1, le=3600)
    notice_chat: int | None = None
    bot_username: str | None = None
    webhook_secret: SecretStr | None = None

    invite_valid_days: int = Field(default=30, ge=1, le=365)
    code_attempts_per_window: int = Field(default=5, ge=1, le=100)
    code_attempt_window_minutes: int = Field(default=15, ge=1, le=1440)

    calendar: CalendarSettings = CalendarSettings()
    repair: RepairSettings = RepairSettings()
    complaint: ComplaintSettings = ComplaintSettings()
    lost_found: LostFoundSettings = LostFoundSettings()
    vacancy: VacancySettings = VacancySettings()
    repair_categories: list[RepairCategory] = Field(default_factory=lambda: DEFAULT_CATEGORIES)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("webhook_secret")
    @classmethod
    def _telegram_secret(cls, value: SecretStr | None) -> SecretStr | None:
        # Telegram accepts 1-256 characters of A-Z, a-z, 0-9, _ and - as the secret token.
        secret = value.get_secret_value() if value is not None else None
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ValueError("must be 1-256 characters: letters, digits, _ and -")

        return value

    @field_validator("locale")
    @classmethod
    def _shipped_locale(cls, value: str) -> str:
        if value not in SUPPORTED_LOCALES:
            raise ValueError(f"must be one of {', '.join(SUPPORTED_LOCALES)}")
        return value

    @field_validator("database_url")
    @classmethod
    def _async_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @field_validator("api_base_url", "api_file_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _unique_categories(self) -> Settings:
        codes = [c.code for c in self.repair_categories]
        if len(codes) != len(set(codes)) or not codes:
            raise ValueError("repair_categories: codes must be unique and at least one is needed")
        return self

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        path = os.environ.get("PROPDESK_CONFIG")
        if path:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=Path(path)))
        return tuple(sources)

    @property
    def file_url(self) -> str:
        if self.api_file_url:
            return self.api_file_url
        base = self.api_base_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def business_calendar(self) -> BusinessCalendar:
        return BusinessCalendar(
            tz=self.tz, hours=self.calendar.slots(), holidays=set(self.calendar.holidays)
        )

    def category(self, code: str) -> RepairCategory | None:
        return next((c for c in self.repair_categories if c.code == code), None)

    def env(self) -> Env:
        """The rules as the domain takes them."""
        r = self.repair
        categories = tuple(
            Category(
                c.code,
                c.name.zh_CN,
                c.name.en,
                tuple(FeeLine(f.item.zh_CN, f.item.en, str(f.amount)) for f in c.fees),
            )
            for c in self.repair_categories
        )
        policy = RepairPolicy(
            categories=categories,
            daily_limit=r.daily_limit,
            max_open_per_technician=r.max_open_per_technician,
            dispatch_remind=timedelta(minutes=r.dispatch_remind_minutes),
            dispatch_escalate=timedelta(minutes=r.dispatch_escalate_minutes),
            arrival_grace=timedelta(minutes=r.arrival_grace_minutes),
            review_limit=timedelta(minutes=r.review_minutes),
            escalate_after=timedelta(minutes=r.escalate_after_minutes),
            reply_limit=timedelta(hours=r.reply_hours),
            confirm_remind=timedelta(hours=r.confirm_remind_hours),
            confirm_close=timedelta(hours=r.confirm_close_hours),
            followup_limit=timedelta(hours=r.followup_hours),
            urge_interval=timedelta(minutes=r.urge_interval_minutes),
            slot_days=r.slot_days,
            slot_step=timedelta(minutes=r.slot_step_minutes),
            report_time=r.report_time,
        )
        c = self.complaint
        complaint = ComplaintPolicy(
            class1_limit=timedelta(hours=c.class1_hours),
            class3_limit=timedelta(days=c.class3_days),
            executive_after=timedelta(days=c.executive_after_days),
            classify_remind=timedelta(minutes=c.classify_remind_minutes),
            classify_escalate=timedelta(minutes=c.classify_escalate_minutes),
            answer_limit=timedelta(hours=c.answer_hours),
            major_answer_limit=timedelta(hours=c.major_answer_hours),
            ask_superior_limit=timedelta(hours=c.ask_superior_hours),
            pass_on_limit=timedelta(minutes=c.pass_on_minutes),
            feedback_limit=timedelta(hours=c.feedback_hours),
            followup_limit=timedelta(days=c.followup_days),
            followup_escalate=timedelta(days=c.followup_escalate_days),
        )
        return Env(
            calendar=self.business_calendar(),
            repair=policy,
            notice_chat=self.notice_chat,
            complaint=complaint,
            lost_found=self.lost_found.policy(),
            vacancy=VacancyPolicy(
                step_days=self.vacancy.step_days,
                shutoff_days=self.vacancy.shutoff_days,
                end_reminder_days=self.vacancy.end_reminder_days,
                max_months=self.vacancy.max_months,
                max_start_ahead_days=self.vacancy.max_start_ahead_days,
                water_jump_max=self.vacancy.water_jump_max,
                electricity_jump_max=self.vacancy.electricity_jump_max,
            ),
        )


def normalize_database_url(url: str) -> str:
    """Pick the async driver for plain ``sqlite://`` and ``postgresql://`` URLs."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://") :]
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+asyncpg://" + url[len(prefix) :]
    if url.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
        return url
    raise ValueError("must be a sqlite:// or postgresql:// URL")


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning any validation or file error into a one-line ConfigError."""
    path = os.environ.get("PROPDESK_CONFIG")
    if path:
        try:
            with open(path, "rb") as fh:
                tomllib.load(fh)
        except FileNotFoundError:
            raise ConfigError(f"PROPDESK_CONFIG: file not found: {path}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"PROPDESK_CONFIG: {path} is not valid TOML: {exc}") from None
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        name = f"PROPDESK_{loc.upper()}" if "." not in loc else loc
        msg = str(err["msg"]).removeprefix("Value error, ")
        more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{name}: {msg}{more}") from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return load_settings()
