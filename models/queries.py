"""Read-side queries shared by /my, /queue and /ticket, with who-may-see-what built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.people import Person
from models.ticket import Ticket, ticket_by_ref


async def tickets_of_owner(session: AsyncSession, owner: Person, limit: int = 20) -> list[Ticket]:
    rows = await session.execute(
        select(Ticket)
        .where(Ticket.owner_id == owner.id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(rows.scalars().all())


WorkSource = Callable[[AsyncSession, Person], Awaitable[list[Ticket]]]
WORK_SOURCES: list[WorkSource] = []


def work_source(fn: WorkSource) -> WorkSource:
    """Register a flow's query for 'work waiting for this person's role' (used by /queue)."""
    WORK_SOURCES.append(fn)
    return fn


async def open_work_of(session: AsyncSession, staff: Person, limit: int = 50) -> list[Ticket]:
    """Tickets assigned to the person, plus what waits for one of their roles."""
    rows = await session.execute(
        select(Ticket)
        .where(Ticket.assignee_id == staff.id, Ticket.closed_at.is_(None))
        .order_by(Ticket.created_at)
        .limit(limit)
    )
    found = {t.id: t for t in rows.scalars().all()}
    for source in WORK_SOURCES:
        for ticket in await source(session, staff):
            found.setdefault(ticket.id, ticket)
    return sorted(found.values(), key=lambda t: (t.created_at, t.id))[:limit]


async def visible_ticket(session: AsyncSession, viewer: Person, ref: str) -> Ticket | None:
    """The ticket if `viewer` may see it: its owner, or any staff member."""
    ticket = await ticket_by_ref(session, ref)
    if ticket is None:
        return None
    if viewer.is_staff or ticket.owner_id == viewer.id:
        return ticket
    return None
