"""Declarative base, naming conventions and the column types every table shares."""

from __future__ import annotations

import re
import traceback
import unicodedata
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Integer, MetaData, TypeDecorator
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import DeclarativeBase, MappedColumn, orm_insert_sentinel


def N_(msgid: str) -> str:
    """Marks a string for extraction; it is translated when rendered."""
    return msgid


class DomainError(Exception):
    """A business rule refused an operation. `code` names the rule; handlers translate it."""

    def __init__(self, code: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.params = params


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, returns aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass an aware datetime")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


# SQLite only autoincrements INTEGER PRIMARY KEY; PostgreSQL gets BIGINT identities.
BigId = BigInteger().with_variant(Integer(), "sqlite")
JSONType = (
    JSON().with_variant(postgresql.JSONB(), "postgresql").with_variant(sqlite.JSON(), "sqlite")
)


def insert_order() -> MappedColumn[Any]:
    """A column SQLAlchemy fills with each row's position within a multi-row INSERT.

    For tables that get many rows in one flush (notifications, ticket events, deadlines).
    SQLite does not say which new id belongs to which row of an INSERT ... RETURNING with
    several rows, so without this column the ORM inserts such rows one statement at a time:
    1,000 reminders queued in one sweep were 1,000 statements instead of one.
    """
    return orm_insert_sentinel("insert_order")


NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# Errors whose message says what went wrong in the code, not what someone typed: SQLAlchemy's
# (the engine hides statement parameters), attribute and type errors. The message of any
# other (int() of a forged button's value, a library quoting its input) is left out.
SAFE_MESSAGES: tuple[type[BaseException], ...] = (
    SQLAlchemyError, AttributeError, TypeError, NameError, ImportError, AssertionError,
)  # fmt: skip


def trace(error: BaseException | None) -> str:
    """A traceback for the log, with each exception's message only if it is SAFE_MESSAGES."""
    if error is None:
        return ""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        name = f"{type(current).__module__}.{type(current).__qualname__}"
        said = " ".join(str(current).split())[:500]
        head = (
            f"{name}: {said}"
            if isinstance(current, SAFE_MESSAGES)
            else f"{name} (message withheld)"
        )
        out.insert(
            0,
            "Traceback (most recent call last):\n"
            + "".join(traceback.format_tb(current.__traceback__))
            + head,
        )
        current = current.__cause__ or current.__context__
    return "\n\nwhich led to:\n".join(out)


# Zero-width and direction-override characters: invisible, they can make a line read as
# something else in a staff message (a name spelled backwards into a fake phone number).
INVISIBLE = re.compile("[\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]")


ZWJ = "\u200d"


def _emoji_joiner(text: str, i: int) -> bool:
    """Whether the zero-width joiner at text[i] joins two pictographs (👨‍👩‍👧, 🏳️‍🌈): there it
    is part of one visible symbol, not hidden text."""
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if before == "\ufe0f" or "\U0001f3fb" <= before <= "\U0001f3ff":  # emoji style, skin tone
        before = text[i - 2] if i > 1 else ""
    return bool(before and after) and all(
        unicodedata.category(ch) == "So" and ord(ch) > 0x2000 for ch in (before, after)
    )


def one_line(raw: str) -> str:
    """A name or other one-line field as staff read it: no control, zero-width or direction
    characters (a joiner inside an emoji sequence stays), no line breaks, single spaces."""
    text = raw.replace("\n", " ").replace("\r", " ")
    text = "".join(
        ch
        for i, ch in enumerate(text)
        if (ch == ZWJ and _emoji_joiner(text, i))
        or (not INVISIBLE.fullmatch(ch) and unicodedata.category(ch)[0] != "C")
    )
    return " ".join(text.split())
