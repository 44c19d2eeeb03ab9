"""The demo office: three buildings, a few units, an owner and one person for each staff role.

Everyone is bound the way real people are: the units are imported, the staff records created
(as `propdesk units import` and `propdesk staff add` do), a one-time code is issued for each
person, and each persona sends `/start CODE` through the emulator's update queue, so the bot
itself binds them and publishes their own command menu.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from telegram import Bot

from bot.emulator import BotApiEmulator
from bot.i18n import I18n
from bot.runtime import Runtime
from handlers.menu import publish_chat_commands
from models.invite import issue_staff_code, issue_unit_code
from models.people import add_staff, person_by_telegram
from models.property import UnitRow, import_units, unit_by_code, units_of


@dataclass(frozen=True)
class Persona:
    """One chat window on the page: who they are and what they hold."""

    key: str
    tg_id: int
    zh_name: str
    en_name: str
    roles: tuple[str, ...] = ()
    buildings: tuple[str, ...] = ()
    unit: str | None = None

    def name(self, locale: str) -> str:
        return self.zh_name if locale == "zh_CN" else self.en_name


OWNER_UNIT = "1-2-301"
PERSONAS: tuple[Persona, ...] = (
    Persona("owner", 1001, "李伟", "Li Wei", unit=OWNER_UNIT),
    Persona("receptionist", 2001, "王芳", "Wang Fang", ("receptionist",)),
    Persona("technician", 3001, "张伟", "Zhang Wei", ("technician",)),
    Persona("team_lead", 3101, "陈强", "Chen Qiang", ("team_lead",)),
    Persona("service", 3401, "胡敏", "Hu Min", ("service",), ("1", "2")),
    Persona("supervisor", 3301, "孙磊", "Sun Lei", ("supervisor",)),
    Persona("executive", 3501, "赵明", "Zhao Ming", ("executive",)),
    Persona("cashier", 3201, "周静", "Zhou Jing", ("cashier",)),
)
BY_ID = {p.tg_id: p for p in PERSONAS}

# unit, area m², owner (zh, en), phone: made-up numbers of the 138-0000-0xxx kind.
UNITS: tuple[tuple[str, str, str, str, str], ...] = (
    ("1-1-101", "89.50", "刘洋", "Liu Yang", "13800000101"),
    ("1-2-301", "120.00", "李伟", "Li Wei", "13800000301"),
    ("1-2-302", "98.20", "黄丽", "Huang Li", "13800000302"),
    ("2-1-201", "76.00", "吴强", "Wu Qiang", "13800000201"),
    ("2-3-502", "135.60", "郑爽", "Zheng Shuang", "13800000502"),
    ("3-1-101", "64.30", "马超", "Ma Chao", "13800000611"),
)


def telegram_language(locale: str) -> str:
    """The language_code a Telegram app in that language sends."""
    return "zh-hans" if locale == "zh_CN" else "en"


def unit_rows(locale: str) -> list[UnitRow]:
    return [
        UnitRow(i + 1, code, code.split("-")[0], Decimal(area), zh if locale == "zh_CN" else en,
                phone)
        for i, (code, area, zh, en, phone) in enumerate(UNITS)
    ]  # fmt: skip


def add_users(emu: BotApiEmulator, locale: str) -> None:
    """The personas as Telegram users, each with a private chat with the bot."""
    for p in PERSONAS:
        emu.add_user(p.tg_id, p.name(locale), telegram_language(locale))


async def issue_codes(rt: Runtime, locale: str, now: datetime) -> dict[int, str]:
    """Units and staff records plus a one-time code per persona; {} when already there."""
    days = rt.settings.invite_valid_days
    async with rt.uow() as session:
        if await person_by_telegram(session, PERSONAS[0].tg_id) is not None:
            return {}  # a database from an earlier run (--db): everyone is bound already
        await import_units(session, unit_rows(locale), now)
        codes: dict[int, str] = {}
        for p in PERSONAS:
            if p.unit is not None:
                unit = await unit_by_code(session, p.unit)
                assert unit is not None
                codes[p.tg_id] = await issue_unit_code(session, unit, now, days)
                continue
            staff = await add_staff(
                session,
                name=p.name(locale),
                roles=p.roles,
                buildings=p.buildings,
                telegram_id=None,
                now=now,
            )
            codes[p.tg_id] = await issue_staff_code(session, staff, now, days)
    return codes


async def republish_menus(rt: Runtime, bot: Bot, i18n: I18n) -> None:
    """An earlier run's people: give this run's emulator their command menus again."""
    async with rt.sessions() as session:
        for p in PERSONAS:
            person = await person_by_telegram(session, p.tg_id)
            if person is None or person.telegram_id is None:
                continue
            owner = bool(await units_of(session, person))
            locale = i18n.locale_for(person.locale)
            await publish_chat_commands(
                bot, i18n, person.telegram_id, locale, owner, person.is_staff,
                {r.value for r in person.role_names()},
            )  # fmt: skip
