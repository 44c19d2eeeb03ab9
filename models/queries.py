"""Read-side queries shared by /my, /queue and /ticket, with who-may-see-what built in."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import QueryableAttribute

from models.people import Person, Role
from models.ticket import Kind, Ticket, TicketEvent, ticket_by_ref


async def tickets_of_owner(session: AsyncSession, owner: Person, limit: int = 20) -> list[Ticket]:
    rows = await session.execute(
        select(Ticket)
        .where(Ticket.owner_id == owner.id)
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    return list(rows.scalars().all())


def in_role_buildings(
    person: Person, role: Role, building: QueryableAttribute[Any]
) -> ColumnElement[bool]:
    """SQL for `person.has_role(role, building)`: the buildings the role covers for them (a
    row without a building is everyone's). Filtering in the query, not after a LIMIT, keeps
    an officer's own buildings from being crowded out of /queue by the others'."""
    buildings = person.role_buildings(role)
    if buildings is None:
        return true()
    return or_(building.in_(sorted(buildings)), building.is_(None))


# (states waiting, the role they wait for, any further condition on the ticket or its details)
Waiting = tuple[Collection[str], Role, ColumnElement[bool] | None]


async def waiting_for_roles(
    session: AsyncSession,
    person: Person,
    details: Any,
    wanted: Sequence[Waiting],
    limit: int = 50,
) -> list[Ticket]:
    """/queue: tickets in the given states waiting for one of the person's roles, in the
    buildings that role covers for them; `details` is the flow's table (with `ticket_id` and
    `building`), oldest first, at most `limit` per role."""
    out: list[Ticket] = []
    for states, role, extra in wanted:
        if not person.has_role(role):
            continue
        query = (
            select(Ticket)
            .join(details, details.ticket_id == Ticket.id)
            .where(
                Ticket.state.in_([str(s) for s in states]),
                in_role_buildings(person, role, details.building),
            )
            .order_by(Ticket.created_at)
            .limit(limit)
        )
        if extra is not None:
            query = query.where(extra)
        out += list((await session.execute(query)).scalars().all())
    return out


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


# Who may open a ticket, besides the people it names (its owner, whoever it is assigned to,
# whoever filed it) and staff who acted on it: the roles that work on its kind, for its
# building. A guard, or a technician of building 2, has no business reading a building-1
# owner's repair, or the dates a flat stands empty.
VIEW_ROLES: dict[str, frozenset[Role]] = {
    Kind.REPAIR: frozenset({
        Role.RECEPTIONIST, Role.SERVICE, Role.TECHNICIAN, Role.TEAM_LEAD, Role.CASHIER,
        Role.SUPERVISOR, Role.EXECUTIVE,
    }),
    Kind.VACANCY: frozenset({
        Role.RECEPTIONIST, Role.SERVICE, Role.TECHNICIAN, Role.CASHIER, Role.SUPERVISOR,
        Role.EXECUTIVE,
    }),
    Kind.LOST_CLAIM: frozenset({Role.RECEPTIONIST, Role.SUPERVISOR, Role.EXECUTIVE, Role.ADMIN}),
    Kind.FOUND_ITEM: frozenset({Role.RECEPTIONIST, Role.SUPERVISOR, Role.EXECUTIVE, Role.ADMIN}),
}  # fmt: skip

# Kept at the one desk of the estate, whatever the building (seed 物品拾遗 4.1: handed in to
# the office's receptionist or front desk): every receptionist is told of a claim and may open
# it, not only those of the claimant's building (other roles: their buildings).
ESTATE_WIDE = frozenset({Kind.LOST_CLAIM, Kind.FOUND_ITEM})

# The building a flow's ticket is in when that is not its unit's (a public repair in
# building 3 reported from a flat in building 1): the staff of that building may open it.
BuildingOf = Callable[[AsyncSession, Ticket], Awaitable[str | None]]
BUILDING_OF: dict[str, BuildingOf] = {}

# A flow whose own rule decides instead (complaints: anonymity, the people a case names).
ViewCheck = Callable[[AsyncSession, Person, Ticket], Awaitable[bool]]
VIEW_CHECKS: dict[str, ViewCheck] = {}


async def may_view(session: AsyncSession, viewer: Person, ticket: Ticket) -> bool:
    """Whether `viewer` may open `ticket` (its card, its history)."""
    if ticket.owner_id is not None and ticket.owner_id == viewer.id:
        return True
    if not viewer.is_staff:
        return False
    check = VIEW_CHECKS.get(ticket.kind)
    if check is not None:
        return await check(session, viewer, ticket)
    if viewer.id in (ticket.assignee_id, ticket.created_by_id):
        return True
    building = ticket.unit.building.code if ticket.unit is not None else None
    own_building = BUILDING_OF.get(ticket.kind)
    if own_building is not None:
        building = await own_building(session, ticket) or building
    if ticket.kind in ESTATE_WIDE and viewer.has_role(Role.RECEPTIONIST, None):
        return True
    if any(viewer.has_role(role, building) for role in VIEW_ROLES.get(ticket.kind, ())):
        return True
    acted = await session.scalar(
        select(TicketEvent.id)
        .where(TicketEvent.ticket_id == ticket.id, TicketEvent.actor_id == viewer.id)
        .limit(1)
    )
    return acted is not None


async def visible_ticket(session: AsyncSession, viewer: Person, ref: str) -> Ticket | None:
    """The ticket if `viewer` may see it (`may_view`), else None: the same answer as for a
    reference that does not exist."""
    ticket = await ticket_by_ref(session, ref)
    if ticket is None or not await may_view(session, viewer, ticket):
        return None
    return ticket
