"""The ticket core every flow shares: reference numbers, state, and the signed event trail."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Integer, String, Text, event, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, Session, mapped_column, object_session, relationship
from sqlalchemy.orm.attributes import flag_modified

from models.base import N_, Base, BigId, DomainError, JSONType, UTCDateTime, insert_order
from models.calendar import BusinessCalendar
from models.people import Person
from models.property import Unit

REFERENCE = re.compile(r"^([RCSVLF])-(\d{8})-(\d{3,})$")


class Kind(StrEnum):
    """Ticket kinds and their reference letters (SPEC §5)."""

    REPAIR = "R"
    COMPLAINT = "C"
    SUGGESTION = "S"
    VACANCY = "V"
    LOST_CLAIM = "L"
    FOUND_ITEM = "F"


class RefCounter(Base):
    """The last sequence number given out per kind and office-local day."""

    __tablename__ = "ref_counter"

    kind: Mapped[str] = mapped_column(String(1), primary_key=True)
    day: Mapped[str] = mapped_column(String(8), primary_key=True)
    last: Mapped[int] = mapped_column(Integer)


class Ticket(Base):
    """Any piece of work with a reference: repair, complaint, vacancy, claim, found item."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[str] = mapped_column(String(1), index=True)
    ref: Mapped[str] = mapped_column(String(24), unique=True)
    state: Mapped[str] = mapped_column(String(30), index=True)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    summary: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer, default=1)

    owner: Mapped[Person | None] = relationship(foreign_keys=[owner_id], lazy="joined")
    assignee: Mapped[Person | None] = relationship(foreign_keys=[assignee_id], lazy="joined")
    unit: Mapped[Unit | None] = relationship(lazy="joined")
    # Not loaded with the ticket: most work on a ticket (a button, a reminder) never reads its
    # history, and loading it cost a query and an object per event on every load. Readers ask
    # for it (`history`, or `selectinload(Ticket.events)`); an unplanned read raises.
    events: Mapped[list[TicketEvent]] = relationship(
        back_populates="ticket", order_by="TicketEvent.id", lazy="raise_on_sql"
    )

    # Optimistic locking: two staff pressing buttons on the same ticket cannot both win.
    __mapper_args__ = {"version_id_col": version}

    def record(
        self,
        action: str,
        actor: Person | None,
        now: datetime,
        *,
        note: str | None = None,
        data: dict[str, Any] | None = None,
        to_state: str | None = None,
    ) -> TicketEvent:
        """Append an event (who, when, what); move to `to_state` when given."""
        from_state = self.state
        if to_state is not None:
            self.state = to_state
        self.updated_at = now
        event_row = TicketEvent(
            at=now,
            actor_id=actor.id if actor else None,
            action=action,
            from_state=from_state,
            to_state=self.state,
            note=note,
            data=data or {},
        )
        # Through the event's side of the relationship: appended to `events` if they are
        # loaded, otherwise queued for the flush without loading the history.
        event_row.ticket = self
        session = object_session(self)
        if session is not None:
            session.add(event_row)
        return event_row

    def touch(self, now: datetime) -> None:
        """Write the row (a new version) without an event: a change made on another ticket
        that must conflict with a concurrent change to this one (two claims on one found
        item ID-checked at the same moment) then does, and is handled again on what is there."""
        self.updated_at = now
        flag_modified(self, "updated_at")  # an UPDATE even when `now` is the value it had

    def transition(
        self,
        allowed_from: Iterable[str],
        to_state: str,
        action: str,
        actor: Person | None,
        now: datetime,
        **kwargs: Any,
    ) -> TicketEvent:
        """Move between states, refusing a move the state machine does not allow."""
        if self.state not in set(allowed_from):
            raise DomainError("ticket_state", ref=self.ref, state=self.state)
        return self.record(action, actor, now, to_state=to_state, **kwargs)


class TicketEvent(Base):
    """One line of a ticket's history. Append-only: never updated or deleted."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    _insert_order: Mapped[int | None] = insert_order()
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("person.id"))
    action: Mapped[str] = mapped_column(String(40))
    from_state: Mapped[str | None] = mapped_column(String(30))
    to_state: Mapped[str | None] = mapped_column(String(30))
    note: Mapped[str | None] = mapped_column(Text)
    data: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)

    ticket: Mapped[Ticket] = relationship(back_populates="events")
    actor: Mapped[Person | None] = relationship(lazy="joined")


@event.listens_for(Session, "before_flush")
def _events_are_append_only(session: Session, *_: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, TicketEvent) and (obj in session.deleted or session.is_modified(obj)):
            raise DomainError("ticket_event_append_only")


async def allocate_reference(
    session: AsyncSession, kind: Kind, now: datetime, calendar: BusinessCalendar
) -> str:
    """Next ``K-YYYYMMDD-NNN`` for the office-local day; atomic on SQLite and PostgreSQL."""
    day = calendar.local_date(now).strftime("%Y%m%d")
    dialect = session.bind.dialect.name if session.bind else "sqlite"
    ins = pg_insert(RefCounter) if dialect == "postgresql" else sqlite_insert(RefCounter)
    stmt = (
        ins.values(kind=kind.value, day=day, last=1)
        .on_conflict_do_update(index_elements=["kind", "day"], set_={"last": RefCounter.last + 1})
        .returning(RefCounter.last)
    )
    number = (await session.execute(stmt)).scalar_one()
    return f"{kind.value}-{day}-{number:03d}"


async def new_ticket(
    session: AsyncSession,
    kind: Kind,
    *,
    state: str,
    owner: Person | None,
    unit: Unit | None,
    created_by: Person | None,
    summary: str,
    now: datetime,
    calendar: BusinessCalendar,
) -> Ticket:
    """Create a ticket with its reference and a 'created' event signed by its creator."""
    ticket = Ticket(
        kind=kind.value,
        ref=await allocate_reference(session, kind, now, calendar),
        state=state,
        owner_id=owner.id if owner else None,
        unit_id=unit.id if unit else None,
        created_by_id=created_by.id if created_by else None,
        summary=summary,
        created_at=now,
        updated_at=now,
    )
    # Set the relationships too, so reading ticket.owner / ticket.unit later in the same unit
    # of work needs no lazy load (which async sessions cannot do).
    ticket.owner = owner
    ticket.unit = unit
    ticket.assignee = None
    session.add(ticket)

    ticket.events = []
    ticket.record("created", created_by, now)
    await session.flush()
    return ticket


async def history(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    """A ticket's events, oldest first, with their actors (read from the database, so what
    was recorded earlier in this transaction is included)."""
    rows = await session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id)
    )
    return list(rows.all())


def card_data(ticket_id: int) -> str:
    """Callback data of a button that opens a ticket's card (as /ticket shows it, with the
    presser's actions; who may see it is checked on the press)."""
    return f"t:{ticket_id}"


def open_button(ticket: Ticket) -> tuple[str, dict[str, Any], str]:
    """An "Open R-…" button for a notice that names a ticket (see `Msg.button_row`)."""
    return (N_("Open {ref}"), {"ref": ticket.ref}, card_data(ticket.id))


def parse_reference(text: str) -> str | None:
    """The canonical reference in `text` (case-insensitive), or None."""
    candidate = text.strip().upper()
    return candidate if REFERENCE.match(candidate) else None


async def ticket_by_ref(session: AsyncSession, ref: str) -> Ticket | None:
    return (await session.execute(select(Ticket).where(Ticket.ref == ref))).scalar_one_or_none()


async def ticket_by_id(session: AsyncSession, ticket_id: int) -> Ticket | None:
    return await session.get(Ticket, ticket_id)
