"""What each kind of person may do: the /help text and the Telegram command menu."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection

from telegram import Bot, BotCommand, BotCommandScopeChat, BotCommandScopeDefault
from telegram.error import TelegramError

from bot.i18n import I18n
from models.notification import N_, Listing, Msg
from models.repair_flow import REPORT_ROLES

OWNER_COMMANDS = [
    ("repair", N_("Report a repair (报修)")),
    ("complain", N_("Make a complaint or suggestion")),
    ("vacancy", N_("Apply for vacancy status (空置房)")),
    ("lost", N_("Lost and found")),
    ("my", N_("My units and requests")),
    # Owners see the tickets they filed (`may_view`); staff have their own line for it.
    ("ticket", N_("One of your requests, by its number: /ticket R-20261127-001")),
    ("phone", N_("The phone number the office calls you on")),
]
STAFF_COMMANDS = [
    ("queue", N_("My open work")),
    ("ticket", N_("Show a ticket: /ticket R-20261127-001")),
    ("found", N_("Register a found item")),
    # Whoever hears a complaint, on site or by phone, letter or e-mail, passes it on to the
    # front desk (seed 4.2.1, 4.2.3): every staff member.
    ("log", N_("Log a complaint heard in person, by phone, letter or e-mail")),
]
# Staff commands that only some roles need (the handlers enforce it: `command_roles`).
ROLE_COMMANDS = [
    ("cases", N_("Class 1 cases for analysis and training"),
     {"receptionist", "supervisor", "executive"}),
    ("inspections", N_("Vacant-unit inspection tasks"), {"service", "supervisor"}),
    ("fee_rate", N_("Fee rate of a unit: /fee_rate 1-2-301"),
     {"receptionist", "service", "cashier", "supervisor"}),
    ("meter_replaced",
     N_("Record a replaced water or electricity meter: /meter_replaced 1-2-301"),
     {"service", "supervisor"}),
    ("weather_alert", N_("Severe weather: inspect every vacant unit now"), {"supervisor"}),
    ("mark_unit", N_("Mark a unit as unsold, basement or not yet renovated"), {"admin"}),
    ("report", N_("Daily report"), {r.value for r in REPORT_ROLES}),
]  # fmt: skip
COMMON_COMMANDS = [
    ("language", N_("中文 / English")),
    ("help", N_("What I can do for you")),
    ("cancel", N_("Leave what you are filling in")),
]
UNBOUND_COMMANDS = [
    ("start", N_("Link your unit with the code from the office")),
    ("language", N_("中文 / English")),
    ("help", N_("What I can do for you")),
]


def command_roles(command: str) -> frozenset[str]:
    """The roles a role-limited command is for (as the menu shows it)."""
    return next(frozenset(roles) for c, _, roles in ROLE_COMMANDS if c == command)


def commands_for(
    is_owner: bool, is_staff: bool, roles: Collection[str] = ()
) -> list[tuple[str, str]]:
    if not is_owner and not is_staff:
        return UNBOUND_COMMANDS
    out: list[tuple[str, str]] = []
    if is_staff:
        out += STAFF_COMMANDS
        out += [(c, d) for c, d, needed in ROLE_COMMANDS if needed & set(roles)]
    if is_owner:
        out += OWNER_COMMANDS
    # A command once, as the first list that has it words it (an owner who is also staff
    # has /ticket as staff use it).
    unique: dict[str, str] = {}
    for command, description in out + COMMON_COMMANDS:
        unique.setdefault(command, description)
    return list(unique.items())


def help_message(
    is_owner: bool, is_staff: bool, units: list[str], roles: Collection[str] = ()
) -> Msg:
    message = Msg()
    if not is_owner and not is_staff:
        message.add(
            N_(
                "PropDesk is the service desk of your property office. To use it, link your "
                "unit with the one-time code the office gives you (printed in your move-in "
                "pack, or ask at the front desk), by sending: /start CODE"
            )
        )
        message.add(N_("/language switches between 中文 and English."))
        return message
    if units:
        message.add(N_("Your units: {units}"), units=Listing(tuple(units)))
    message.add(N_("What you can do:"))
    for command, description in commands_for(is_owner, is_staff, roles):
        message.lines.append(
            ("/{command} — {d}", {"command": command, "d": Msg().add(description)})
        )
    return message


async def publish_default_commands(bot: Bot, i18n: I18n) -> None:
    """The menu of whoever has no menu of their own yet: a newcomer's (link a unit, language,
    help), in Chinese and English. Owners and staff get theirs in their chat
    (`publish_chat_commands`), so nobody is offered a command that would only refuse them."""
    for locale, language_code in (("zh_CN", "zh"), ("en", "en"), (i18n.default_locale, None)):
        commands = [BotCommand(c, i18n.text(d, locale)) for c, d in UNBOUND_COMMANDS]
        await bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=language_code
        )


def chat_menu(
    i18n: I18n,
    locale: str,
    is_owner: bool,
    is_staff: bool,
    roles: Collection[str] = (),
) -> tuple[list[BotCommand], str]:
    """A person's own menu in their language, and its fingerprint (`Person.menu`): what
    they see changes exactly when the fingerprint does."""
    commands = [
        BotCommand(c, i18n.text(d, locale)) for c, d in commands_for(is_owner, is_staff, roles)
    ]
    shown = json.dumps([[c.command, c.description] for c in commands], ensure_ascii=False)
    return commands, hashlib.sha256(shown.encode()).hexdigest()[:32]


async def set_chat_menu(bot: Bot, chat_id: int, commands: list[BotCommand]) -> bool:
    """Publish `commands` as this chat's menu. False when Telegram refused."""
    try:
        await bot.set_my_commands(commands, scope=BotCommandScopeChat(chat_id))
    except TelegramError:
        return False
    return True


async def publish_chat_commands(
    bot: Bot,
    i18n: I18n,
    chat_id: int,
    locale: str,
    is_owner: bool,
    is_staff: bool,
    roles: Collection[str] = (),
) -> bool:
    """This person's own menu, in their language. False when Telegram refused."""
    commands, _ = chat_menu(i18n, locale, is_owner, is_staff, roles)
    return await set_chat_menu(bot, chat_id, commands)
