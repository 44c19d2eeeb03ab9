"""The sandbox page's own words, as gettext message ids like the bot's (Babel extracts them).

The page asks for them once (`GET /api/strings?lang=…`) and looks each one up by its English
msgid, so the page and the bot share one catalog and one translation workflow. Role names come
from `models.people.ROLE_NAMES`, already translated for the bot.
"""

from __future__ import annotations

from bot.i18n import I18n
from models.base import N_
from models.people import ROLE_NAMES

PAGE_STRINGS: tuple[str, ...] = (
    N_("PropDesk sandbox"),
    N_("Every role side by side. No Telegram, no network: a simulated office."),
    N_("Office time"),
    N_("office open"),
    N_("office closed"),
    N_("Jump the clock forward: reminders and escalations fall due at once"),
    N_("+15 min"),
    N_("+1 h"),
    N_("+1 day"),
    N_("Language"),
    N_("bot"),
    N_("Menu"),
    N_("Commands"),
    N_("This bot has no commands for this chat yet."),
    N_("Message"),
    N_("Send"),
    N_("Attach a photo"),
    N_("Photo"),
    N_("edited"),
    N_("OK"),
    N_("No messages yet."),
    N_("Connection to the sandbox lost; retrying…"),
    N_("Telegram refused this: {reason}"),
    N_("The photo is too large (10 MB at most)."),
    N_("Only pictures can be sent as photos."),
    N_("owner"),
    N_("unit {unit}"),
    N_("buildings {buildings}"),
    N_("all buildings"),
)

LANGUAGE_NAMES = {"zh_CN": "中文", "en": "English"}


def page_strings(i18n: I18n, locale: str) -> dict[str, str]:
    """Every page string in `locale`, keyed by its msgid (role names included)."""
    ids = (*PAGE_STRINGS, *ROLE_NAMES.values())
    return {msgid: i18n.gettext(msgid, locale) for msgid in ids}
