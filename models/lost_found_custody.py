"""Lost-and-found custody and disposal: administration takes over what the desk holds (4.6
month end, 4.8 valuables the same day), items unclaimed for three months are reported to the
company (4.7), and the outcome of the disposal is recorded. In the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import DomainError
from models.deadline import settle
from models.lost_found import ADMIN, DESK, KEPT, ClaimSt, FoundItem, ItemSt, LostClaim
from models.lost_found_ops import claims_on, lapse_others
from models.people import Person, Role
from models.ticket import Ticket


def to_admin(item_ticket: Ticket, item: FoundItem, reason: str, now: datetime) -> bool:
    """Custody passes to administration (4.6 month end, 4.8 valuables); False if the item is
    gone, already there, or not yet at the desk (handed in, not received: nothing to pass on)."""
    if item_ticket.state not in KEPT or item.custody != DESK:
        return False
    item.custody, item.custody_at = ADMIN, now
    item_ticket.record("lf_to_admin", None, now, data={"reason": reason})
    return True


def report_disposal(item_ticket: Ticket, item: FoundItem, now: datetime) -> bool:
    """Three months unclaimed (4.7): reported to the company; it stays claimable until the
    outcome is recorded."""
    if item_ticket.state != ItemSt.HELD:
        return False
    to_admin(item_ticket, item, "disposal", now)  # (still at the desk: administration reports it)
    item_ticket.transition({ItemSt.HELD}, ItemSt.FOR_DISPOSAL, "lf_disposal_reported", None, now)
    item.disposal_reported_at = now
    return True


async def require_no_verified_claim(session: AsyncSession, item_ticket: Ticket) -> None:
    """Its owner has come forward and shown their ID at the desk (4.4): returning it comes
    before disposing of it (4.7's 处理 is for what nobody claims)."""
    for verified, _ in await claims_on(session, item_ticket, {ClaimSt.ID_CHECKED}):
        raise DomainError("lf_claim_verified", ref=verified.ref)


def may_dispose(person: Person) -> bool:
    return person.has_role(Role.ADMIN) or person.has_role(Role.SUPERVISOR)


async def dispose(
    session: AsyncSession,
    item_ticket: Ticket,
    item: FoundItem,
    actor: Person,
    outcome: str,
    now: datetime,
) -> list[tuple[Ticket, LostClaim]]:
    """The company's decision carried out (处理办法根据物品情况而定): the outcome is recorded."""
    if not may_dispose(actor):
        raise DomainError("not_allowed")
    await require_no_verified_claim(session, item_ticket)
    item_ticket.transition(
        {ItemSt.FOR_DISPOSAL}, ItemSt.DISPOSED, "lf_disposed", actor, now, note=outcome
    )
    item_ticket.closed_at = now
    item.disposal_outcome, item.disposed_at = outcome, now
    await settle(session, now, ticket_id=item_ticket.id)
    return await lapse_others(session, item_ticket, None, now)
