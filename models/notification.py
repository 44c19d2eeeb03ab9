"""The notification outbox and the localizable message format shared by replies and notices.

A message is a list of lines, each a msgid with parameters, so it is rendered in the
recipient's language when it is delivered, not when it is queued. Rows are written in the
same transaction as the change that causes them; delivery happens after commit.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    event,
    insert,
    select,
    text,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, configure_mappers, make_transient, mapped_column
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.sql.schema import ScalarElementColumnDefault

from models.base import N_, Base, BigId, JSONType, UTCDateTime, insert_order

__all__ = ["N_", "Listing", "Localized", "Money", "Msg", "Notification", "Status", "enqueue", "msg"]
from models.people import ROLE_NAMES, Person, Role, staff_with_role

log = logging.getLogger(__name__)
# Set on a session that queued a notification: the unit of work then wakes delivery.
OUTBOX_TOUCHED = "propdesk.outbox"


class Money(Decimal):
    """An amount in CNY: rendered with Babel's currency format for the reader's locale."""


@dataclass(frozen=True)
class Localized:
    """A configured name with its texts per locale (e.g. a repair category)."""

    texts: dict[str, str]


@dataclass(frozen=True)
class Listing:
    """Several short items (unit numbers, names) as one parameter, joined as the reader's
    language lists things: "1-2-301 and 1-2-302", "1-2-301和1-2-302"."""

    items: tuple[str, ...]


@dataclass
class Msg:
    """A localizable message: lines of (msgid, params) and optional inline buttons."""

    lines: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    buttons: list[list[tuple[str, dict[str, Any], str]]] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)

    def add(self, msgid: str, **params: Any) -> Msg:
        self.lines.append((msgid, params))
        return self

    def button_row(self, *buttons: tuple[str, str] | tuple[str, dict[str, Any], str]) -> Msg:
        row: list[tuple[str, dict[str, Any], str]] = []
        for b in buttons:
            row.append((b[0], {}, b[1]) if len(b) == 2 else b)
        self.buttons.append(row)
        return self

    def to_json(self) -> dict[str, Any]:
        return {
            "lines": [[m, encode_params(p)] for m, p in self.lines],
            "buttons": [[[m, encode_params(p), d] for m, p, d in row] for row in self.buttons],
            "photos": list(self.photos),
        }

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Msg:
        return cls(
            lines=[(m, decode_params(p)) for m, p in raw.get("lines", [])],
            buttons=[
                [(m, decode_params(p), d) for m, p, d in row] for row in raw.get("buttons", [])
            ],
            photos=list(raw.get("photos", [])),
        )


def msg(msgid: str, **params: Any) -> Msg:
    return Msg().add(msgid, **params)


def encode_params(params: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in params.items():
        if isinstance(value, datetime):
            out[key] = {"$dt": value.isoformat()}
        elif isinstance(value, date):
            out[key] = {"$date": value.isoformat()}
        elif isinstance(value, Money):
            out[key] = {"$cny": str(value)}
        elif isinstance(value, Decimal):
            out[key] = {"$dec": str(value)}
        elif isinstance(value, Localized):
            out[key] = {"$loc": value.texts}
        elif isinstance(value, Listing):
            out[key] = {"$list": list(value.items)}
        elif isinstance(value, Msg):
            out[key] = {"$msg": value.to_json()}
        elif value is None or isinstance(value, (str, int, float, bool)):
            out[key] = value
        else:
            raise TypeError(f"cannot store parameter {key}={value!r} in a message")
    return out


def decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in raw.items():
        if isinstance(value, dict) and len(value) == 1:
            ((tag, inner),) = value.items()
            if tag == "$dt":
                out[key] = datetime.fromisoformat(inner)
                continue
            if tag == "$date":
                out[key] = date.fromisoformat(inner)
                continue
            if tag == "$cny":
                out[key] = Money(inner)
                continue
            if tag == "$dec":
                out[key] = Decimal(inner)
                continue
            if tag == "$loc":
                out[key] = Localized(inner)
                continue
            if tag == "$msg":
                out[key] = Msg.from_json(inner)
                continue
            if tag == "$list":
                out[key] = Listing(tuple(str(item) for item in inner))
                continue
        out[key] = value
    return out


class Status(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # Telegram refused the content (400); kept for the log, not retried
    UNDELIVERABLE = "undeliverable"  # 403: never opened the bot, or blocked it


class Notification(Base):
    """One message waiting for, or done with, delivery."""

    __tablename__ = "notification"
    __table_args__ = (
        Index(
            "ix_notification_pending",
            "next_attempt_at",
            sqlite_where=text("status = 'pending'"),
            postgresql_where=text("status = 'pending'"),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    _insert_order: Mapped[int | None] = insert_order()
    person_id: Mapped[int | None] = mapped_column(ForeignKey("person.id", ondelete="SET NULL"))
    chat_id: Mapped[int] = mapped_column(BigInteger, index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("ticket.id"))
    body: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[str] = mapped_column(String(15), default=Status.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    # Set on a row that edits the message another row sent (e.g. a notice marked expired):
    # delivery edits that message instead of sending a new one.
    edit_of_id: Mapped[int | None] = mapped_column(BigInteger)
    # Parts of this row Telegram has taken (photos, then the pieces of a long text): delivery
    # goes on from the next one and never sends one twice.
    parts_sent: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


_OUTBOX = cast(Table, Notification.__table__)
# What `_write_outbox` inserts: every column but the id and the ORM's sentinel.
_OUTBOX_COLUMNS = [c for c in _OUTBOX.columns if not c.primary_key and c.name != "insert_order"]
_MAPPER = Notification.__mapper__


@event.listens_for(Session, "before_flush")
def _write_outbox(session: Session, *_: Any) -> None:
    """Write the notifications queued since the last flush as one multi-row INSERT.

    The outbox is the busiest table: a sweep queues hundreds of rows at once, and the ORM's
    unit of work costs several times what a Core INSERT of the same rows does. The rows keep
    the order they were queued in (their ids are the delivery order within a chat), get their
    ids, and leave the session (nothing more is written through them), so code that reads
    `row.id` after a flush, or queries the outbox, sees what it did before. A rollback, of the
    transaction or of a savepoint, undoes them as it undoes any other write.
    """
    queued = [obj for obj in session.new if isinstance(obj, Notification)]
    if not queued:
        return
    queued.sort(key=lambda obj: instance_state(obj).insert_order or 0)
    values = []
    defaulted: dict[int, list[str]] = {}
    for obj in queued:
        row: dict[str, Any] = {}
        for column in _OUTBOX_COLUMNS:
            value = obj.__dict__.get(column.key)
            default = column.default
            if value is None and isinstance(default, ScalarElementColumnDefault):
                value = default.arg
                defaulted.setdefault(id(obj), []).append(column.key)
            row[column.key] = value
        values.append(row)
    # A column no row of this batch sets (a new row has no sent_at, message_id or error) is
    # left out: NULL is its database default, and each value left out is one bind less per row.
    unset = [key for key in values[0] if all(row[key] is None for row in values)]
    for row in values:
        for key in unset:
            del row[key]
    # Out of the session without the cascade walk of `expunge` (they have no relationships).
    for obj in queued:
        make_transient(obj)
    ids = (
        session.connection()
        .execute(insert(_OUTBOX).returning(_OUTBOX.c.id, sort_by_parameter_order=True), values)
        .scalars()
        .all()
    )
    for obj, new_id, row in zip(queued, ids, values, strict=True):
        obj.id = new_id
        for key in defaulted.get(id(obj), ()):
            setattr(obj, key, row[key])


def _outbox_row(**values: Any) -> Notification:
    """A new Notification for the session to hold until `_write_outbox` writes it.

    Built as a query's loader builds an instance, without the mapped constructor (which sets
    each attribute through its change tracking, a cost paid for nothing: the row is never
    flushed by the ORM). Every attribute `_write_outbox` reads is set here or has a column
    default.
    """
    if not _MAPPER.configured:  # (the constructor would have configured the mappers first)
        configure_mappers()
    row = _MAPPER.class_manager.new_instance()
    row.__dict__.update(values)
    return row


def enqueue(
    session: AsyncSession,
    person: Person,
    message: Msg,
    now: datetime,
    *,
    ticket_id: int | None = None,
    fallback_role: Role | None = None,
    fallback_building: str | None = None,
    for_role: Role | None = None,
    for_building: str | None = None,
    parts_sent: int = 0,
) -> Notification | None:
    """Queue `message` for `person`; None if they have no Telegram chat yet.

    With `fallback_role`, a message Telegram refuses to deliver (403) goes to the next
    reachable colleague holding that role instead (dispatches and escalations). `for_role`
    records that it went to them as a holder of that role (for that building): should the
    role be taken from them before it is delivered, it is withdrawn (``staff remove``).
    """
    if person.telegram_id is None:
        return None
    body = message.to_json()
    if fallback_role is not None:
        body["fallback_role"] = fallback_role.value
        body["fallback_building"] = fallback_building
    if for_role is not None:
        body["for_role"] = for_role.value
        body["for_building"] = for_building
    row = _outbox_row(
        person_id=person.id,
        chat_id=person.telegram_id,
        ticket_id=ticket_id,
        body=body,
        status=Status.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        parts_sent=parts_sent,
    )
    session.add(row)
    session.info[OUTBOX_TOUCHED] = True
    return row


def enqueue_chat(session: AsyncSession, chat_id: int, message: Msg, now: datetime) -> Notification:
    """Queue a message for a group or channel (e.g. the notice chat)."""
    row = _outbox_row(
        chat_id=chat_id,
        body=message.to_json(),
        status=Status.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
    )
    session.add(row)
    session.info[OUTBOX_TOUCHED] = True
    return row


def enqueue_edit(
    session: AsyncSession, original: Notification, message: Msg, now: datetime
) -> Notification:
    """Queue an edit of the message `original` delivered: same chat and reader, new text.

    Delivered in order after the original; one message's worth of text (the first chunk is
    used); buttons are replaced by the new ones, photos are ignored.
    """
    row = _outbox_row(
        person_id=original.person_id,
        chat_id=original.chat_id,
        ticket_id=original.ticket_id,
        body=message.to_json(),
        status=Status.PENDING,
        attempts=0,
        created_at=now,
        next_attempt_at=now,
        edit_of_id=original.id,
    )
    session.add(row)
    session.info[OUTBOX_TOUCHED] = True
    return row


async def notify_role(
    session: AsyncSession,
    role: Role,
    message: Msg,
    now: datetime,
    *,
    building: str | None = None,
    ticket_id: int | None = None,
    reachable_first: bool = True,
    actor: Person | None = None,
) -> list[Person]:
    """Queue `message` for every reachable holder of `role`; if none is reachable, all of
    them (delivery will record who could not be reached). When nobody holds the role (for
    that building), the supervisors get it, marked as such, so nothing is silently dropped.
    `actor`, who did what the message tells of, is not told of it (a receptionist who
    cancels their own repair as its owner)."""
    people = await staff_with_role(session, role, building)
    if actor is not None and any(p.id == actor.id for p in people):
        people = [p for p in people if p.id != actor.id]
        if not people:
            return []  # the one who would be told did it
    targets = [p for p in people if p.unreachable_at is None] if reachable_first else people
    targets = targets or people
    if not targets and role != Role.SUPERVISOR:
        log.warning("nobody holds the role %s (building %s); supervisors told", role, building)
        orphan = Msg(
            lines=[(N_("(For the {role}, but nobody holds that role:)"),
                    {"role": Msg().add(ROLE_NAMES[role])}), *message.lines],
            buttons=[],
            photos=list(message.photos),
        )  # fmt: skip
        return await notify_role(session, Role.SUPERVISOR, orphan, now, ticket_id=ticket_id)
    if not targets:
        log.error("nobody holds the role %s: a notification could not be addressed", role)
    for person in targets:
        enqueue(
            session, person, message, now, ticket_id=ticket_id, for_role=role, for_building=building
        )
    return targets


async def pending_for_chat(session: AsyncSession, chat_id: int) -> list[Notification]:
    rows = await session.execute(
        select(Notification)
        .where(Notification.chat_id == chat_id, Notification.status == Status.PENDING)
        .order_by(Notification.id)
    )
    return list(rows.scalars().all())
