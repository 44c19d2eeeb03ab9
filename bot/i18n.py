"""Translations (Babel gettext catalogs) and rendering of :class:`models.notification.Msg`.

Message ids are English. Dates, times and money are formatted with Babel for the reader's
locale in the office timezone. Text is sent without a parse mode, so user-supplied text can
never break a message.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_datetime
from babel.lists import format_list
from babel.numbers import format_currency, format_decimal
from babel.support import Translations

from bot.config import SUPPORTED_LOCALES
from models.notification import Listing, Localized, Money, Msg

LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
MAX_TEXT = 4096
_WHOLE_LINE = re.compile(r"\{\w+\}")
CONTINUED = "    "  # the indent of a typed text's further lines in a message
DATETIME_PATTERN = {"zh_CN": "yyyy年M月d日 HH:mm", "en": "d MMM yyyy, HH:mm"}
DATE_PATTERN = {"zh_CN": "yyyy年M月d日", "en": "d MMM yyyy"}


log = logging.getLogger(__name__)


class _Missing(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


class CatalogMissing(RuntimeError):
    """A compiled catalog (.mo) is absent: the install step did not run `pybabel compile`."""


def load_catalogs(directory: Path = LOCALES_DIR) -> dict[str, Translations]:
    """Every shipped locale's compiled catalog; fails loudly if one is missing."""
    catalogs: dict[str, Translations] = {}
    for locale in SUPPORTED_LOCALES:
        mo = directory / locale / "LC_MESSAGES" / "messages.mo"
        if not mo.is_file():
            raise CatalogMissing(
                f"missing compiled catalog {mo}; run: pybabel compile -d {directory} -D messages"
            )
        with mo.open("rb") as fh:
            catalogs[locale] = Translations(fh, domain="messages")
    return catalogs


@dataclass
class Rendered:
    """A message ready for Telegram: text chunks (≤ 4096), buttons for the last chunk."""

    chunks: list[str]
    buttons: list[list[tuple[str, str]]]
    photos: list[str]


class I18n:
    def __init__(self, default_locale: str, tz: ZoneInfo, catalogs: dict[str, Translations]):
        self.default_locale = default_locale
        self.tz = tz
        self.catalogs = catalogs

    def locale_for(self, preferred: str | None) -> str:
        return preferred if preferred in self.catalogs else self.default_locale

    def gettext(self, msgid: str, locale: str) -> str:
        return self.catalogs[self.locale_for(locale)].gettext(msgid)

    def text(self, msgid: str, locale: str, **params: Any) -> str:
        """Translate one message id and fill in its parameters."""
        template = self.gettext(msgid, locale)
        # A line that is only someone's own words ("{text}") has nothing around it to fake:
        # its further lines stay as they were written.
        indent = _WHOLE_LINE.fullmatch(template) is None
        values = {k: self.format_value(v, locale, indent=indent) for k, v in params.items()}
        try:
            return template.format(**values)
        except (KeyError, IndexError, ValueError):
            # A translation or a caller with a wrong placeholder must not take the message
            # down: fill what is there, leave the rest visible.
            log.error("message %r: placeholders do not match %s", msgid, sorted(values))
            try:
                return msgid.format_map(_Missing(values))
            except (IndexError, ValueError):
                return msgid

    def format_value(self, value: Any, locale: str, *, indent: bool = True) -> str:
        loc = self.locale_for(locale)
        if isinstance(value, datetime):
            return format_datetime(value, DATETIME_PATTERN[loc], tzinfo=self.tz, locale=loc)
        if isinstance(value, date):
            return format_date(value, DATE_PATTERN[loc], locale=loc)
        if isinstance(value, Money):
            return format_currency(Decimal(value), "CNY", locale=loc)
        if isinstance(value, Decimal):
            return format_decimal(value, locale=loc)
        if isinstance(value, Localized):
            return value.texts.get(loc) or next(iter(value.texts.values()), "")
        if isinstance(value, Listing):
            return format_list(list(value.items), locale=loc) if value.items else "—"
        if isinstance(value, Msg):
            return "\n".join(self.text(m, loc, **p) for m, p in value.lines)
        if value is None:
            return "—"
        if isinstance(value, str) and indent:
            # What people typed keeps its line breaks, but its further lines are indented:
            # a description cannot fake a line of the message around it ("Owner: …").
            return value.replace("\n", "\n" + CONTINUED)
        return str(value)

    def datetime(self, value: datetime, locale: str) -> str:
        return self.format_value(value, locale)

    def render(self, message: Msg, locale: str) -> Rendered:
        lines = [self.text(m, locale, **p) for m, p in message.lines]
        buttons = [
            [(self.text(m, locale, **p), data) for m, p, data in row] for row in message.buttons
        ]
        return Rendered(split_text("\n".join(lines)), buttons, list(message.photos))


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units (an emoji such as 🔧 is two)."""
    return len(text.encode("utf-16-le")) // 2


def _fit(text: str, limit: int) -> int:
    """How many characters of `text` fit in `limit` UTF-16 units."""
    if units(text) <= limit:
        return len(text)
    low, high = 0, min(len(text), limit)
    while low < high:  # the longest prefix within the limit
        mid = (low + high + 1) // 2
        if units(text[:mid]) <= limit:
            low = mid
        else:
            high = mid - 1
    return low


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Cut text into Telegram-sized pieces (measured as Telegram does, in UTF-16 units) at
    line breaks where possible."""
    text = text.strip() or "…"
    chunks: list[str] = []
    while units(text) > limit:
        fits = _fit(text, limit)
        cut = text.rfind("\n", 0, fits)
        if cut <= 0:
            cut = max(fits, 1)
        chunks.append(text[:cut].rstrip())
        text = text[cut:].lstrip("\n")
    chunks.append(text)
    return [c for c in chunks if c] or ["…"]
