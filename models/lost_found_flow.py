"""Lost-and-found operations as handlers call them: load, change, tell the people concerned.

One function per user action, each in the caller's unit of work; each raises DomainError when
the actor, the state of the item or claim, or the input does not allow it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import lost_found_chase as chase
from models import lost_found_custody as custody
from models import lost_found_notices as notices
from models import lost_found_ops as ops
from models import lost_found_receipt as receipt
from models.base import N_, DomainError
from models.deadline import schedule, settle
from models.env import Env
from models.lost_found import (
    CLAIM_REMINDER,
    OPEN_CLAIM,
    ClaimSt,
    FoundItem,
    ItemSt,
    LostClaim,
)
from models.lost_found_rules import IdDocument, claim_reminder_at
from models.lost_found_search import point_out_matches
from models.notification import enqueue, msg, notify_role
from models.people import Person, Role
from models.property import units_of
from models.ticket import Kind, Ticket


async def load_item(session: AsyncSession, item_id: int) -> tuple[Ticket, FoundItem]:
    ticket = await session.get(Ticket, item_id)
    item = await session.get(FoundItem, item_id) if ticket else None
    if ticket is None or item is None or ticket.kind != Kind.FOUND_ITEM.value:
        raise DomainError("stale")
    return ticket, item


async def load_claim(
    session: AsyncSession, claim_id: int
) -> tuple[Ticket, LostClaim, Ticket, FoundItem]:
    ticket = await session.get(Ticket, claim_id)
    claim = await session.get(LostClaim, claim_id) if ticket else None
    if ticket is None or claim is None or ticket.kind != Kind.LOST_CLAIM.value:
        raise DomainError("stale")
    item_ticket, item = await load_item(session, claim.item_id)
    return ticket, claim, item_ticket, item


async def register(
    session: AsyncSession, actor: Person, answers: dict[str, Any], now: datetime, env: Env
) -> tuple[Ticket, FoundItem]:
    """/found finished: the item is registered, the desk told, matching owners pointed at it."""
    finder = actor if answers.get("finder_me") else None
    ticket, item = await ops.register(
        session,
        actor=actor,
        name=answers["name"],
        description=answers["description"],
        category=answers["category"],
        valuable=bool(answers.get("valuable")),
        place=answers["place"],
        found_at=datetime.fromisoformat(answers["found_at"]),
        finder_name=actor.name if finder else answers["finder"],
        finder=finder,
        photos=list(answers.get("photos", [])),
        now=now,
        env=env,
    )
    if ticket.state == ItemSt.TO_DESK:
        await receipt.handed_in(session, ticket, item, actor, now, env)
    else:
        await notices.registered(session, ticket, item, actor, now, env)
    await point_out_matches(session, ticket, item, now, env)
    return ticket, item


async def receive(
    session: AsyncSession, item_id: int, actor: Person, now: datetime, env: Env
) -> tuple[Ticket, FoundItem]:
    """Received at the desk pressed: the desk keeps the item; whoever handed it in, and any
    claimant already waiting for it, are told."""
    ticket, item = await load_item(session, item_id)
    await ops.receive(session, ticket, item, actor, now, env)
    await receipt.received(session, ticket, item, actor, now)
    await chase.arrived_at_desk(session, ticket, item, now)
    return ticket, item


async def may_claim(session: AsyncSession, item_id: int, owner: Person) -> Ticket:
    """Before the claim form opens: the item is still waiting, the owner has no open claim."""
    ticket, _ = await load_item(session, item_id)
    ops.require_claimable(ticket)
    for other, _ in await ops.claims_on(session, ticket, OPEN_CLAIM):
        if other.owner_id == owner.id:
            raise DomainError("lf_claim_duplicate", ref=other.ref)
    return ticket


async def file_claim(
    session: AsyncSession,
    owner: Person,
    item_id: int,
    item_name: str,
    features: str,
    now: datetime,
    env: Env,
) -> tuple[Ticket, Ticket]:
    item_ticket, item = await load_item(session, item_id)
    units = await units_of(session, owner)
    if not units:
        raise DomainError("not_allowed")
    claim_ticket, claim = await ops.file_claim(
        session,
        owner=owner,
        unit=units[0],
        item_ticket=item_ticket,
        item_name=item_name,
        features=features,
        now=now,
        env=env,
    )
    await notices.claim_filed(session, claim_ticket, claim, item_ticket, item, now, env)
    return claim_ticket, item_ticket


# Who may start which staff action on a claim (checked before a form opens, and again after).
_CLAIM_ACTIONS: dict[str, set[ClaimSt]] = {
    "ver": {ClaimSt.CLAIMED},
    "rej": OPEN_CLAIM,
    "pap": {ClaimSt.ID_CHECKED},
}


async def check_claim(session: AsyncSession, claim_id: int, actor: Person, action: str) -> Ticket:
    """Raise DomainError unless `actor` may start `action` on the claim now; changes nothing."""
    ticket, _, item_ticket, _ = await load_claim(session, claim_id)
    ops.require_receptionist(actor)
    if action != "rej" and ticket.owner_id == actor.id:
        raise DomainError("lf_own_claim")
    if ticket.state not in _CLAIM_ACTIONS[action]:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    if action != "rej":
        ops.require_claimable(item_ticket)
        ops.require_received(item_ticket)
    if action == "ver":  # refused before the form, not after the ID has been typed in
        await ops.no_other_verified(session, item_ticket, ticket.id)
    return ticket


async def check_item(session: AsyncSession, item_id: int, actor: Person, action: str) -> Ticket:
    """The same for actions on an item: a walk-in claim at the desk, or the disposal outcome."""
    ticket, _ = await load_item(session, item_id)
    if action == "walk":
        ops.require_receptionist(actor)
        ops.require_claimable(ticket)
        ops.require_received(ticket)
    elif action == "dsp":
        if not custody.may_dispose(actor):
            raise DomainError("not_allowed")
        if ticket.state != ItemSt.FOR_DISPOSAL:
            raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
        await custody.require_no_verified_claim(session, ticket)
    else:
        raise DomainError("stale")
    return ticket


async def check_id(
    session: AsyncSession,
    claim_id: int,
    actor: Person,
    document: IdDocument,
    now: datetime,
    env: Env,
) -> Ticket:
    """The original ID was seen and the description matches: ask the claimant to sign. The
    claim's reminders count again from now: the wait is for the signature."""
    ticket, claim, item_ticket, item = await load_claim(session, claim_id)
    await ops.check_id(session, ticket, claim, item_ticket, actor, document, now)
    await settle(session, now, ticket_id=ticket.id, kinds={CLAIM_REMINDER})
    remind = claim_reminder_at(now, env.lost_found.claim_remind_days, env.calendar)
    schedule(session, CLAIM_REMINDER, remind, now, ticket_id=ticket.id)
    if ticket.owner is not None:
        enqueue(
            session,
            ticket.owner,
            notices.sign_request(ticket, item_ticket, item),
            now,
            ticket_id=ticket.id,
        )
    return ticket


async def sign(
    session: AsyncSession, claim_id: int, actor: Person, how: str, now: datetime
) -> tuple[Ticket, Ticket]:
    """The claimant's signature (button) or the paper one (recorded by the receptionist)."""
    ticket, claim, item_ticket, item = await load_claim(session, claim_id)
    lapsed = await ops.sign(session, ticket, claim, item_ticket, item, actor, how, now)
    await notices.returned(session, ticket, claim, item_ticket, item, lapsed, now)
    return ticket, item_ticket


async def desk_claim(
    session: AsyncSession,
    item_id: int,
    actor: Person,
    claimant_name: str,
    description: str,
    document: IdDocument,
    now: datetime,
    env: Env,
) -> tuple[Ticket, Ticket]:
    item_ticket, item = await load_item(session, item_id)
    ticket, claim, lapsed = await ops.desk_claim(
        session,
        item_ticket=item_ticket,
        item=item,
        actor=actor,
        claimant_name=claimant_name,
        description=description,
        document=document,
        now=now,
        env=env,
    )
    await notices.returned(session, ticket, claim, item_ticket, item, lapsed, now)
    return ticket, item_ticket


async def reject(
    session: AsyncSession, claim_id: int, actor: Person, reason: str, now: datetime
) -> Ticket:
    ticket, claim, item_ticket, _ = await load_claim(session, claim_id)
    ops.reject(ticket, claim, actor, reason, now)
    if ticket.owner is not None:
        enqueue(
            session,
            ticket.owner,
            msg(
                N_("Your claim {ref} on {item} was not accepted by the front desk: {reason}"),
                ref=ticket.ref,
                item=item_ticket.ref,
                reason=reason,
            ),
            now,
            ticket_id=ticket.id,
        )
    return ticket


async def withdraw(session: AsyncSession, claim_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, _, item_ticket, _ = await load_claim(session, claim_id)
    ops.withdraw(ticket, actor, now)
    await notify_role(
        session,
        Role.RECEPTIONIST,
        msg(
            N_("{ref} on {item} was withdrawn by the claimant."),
            ref=ticket.ref,
            item=item_ticket.ref,
        ),
        now,
        ticket_id=ticket.id,
    )
    return ticket


async def dispose(
    session: AsyncSession, item_id: int, actor: Person, outcome: str, now: datetime
) -> Ticket:
    ticket, item = await load_item(session, item_id)
    lapsed = await custody.dispose(session, ticket, item, actor, outcome, now)
    notices.lapsed_claims(session, lapsed, ticket, N_("it was disposed of"), now)
    return ticket


async def work_for(session: AsyncSession, person: Person) -> list[Ticket]:
    """/queue: items handed in and claims waiting for the desk; items waiting for a disposal
    outcome (estate-wide: one desk, whatever the building)."""

    async def waiting(kind: Kind, states: list[str]) -> list[Ticket]:
        rows = await session.execute(
            select(Ticket)
            .where(Ticket.kind == kind.value, Ticket.state.in_(states))
            .order_by(Ticket.created_at)
            .limit(50)
        )
        return list(rows.scalars().all())

    out: list[Ticket] = []
    if person.has_role(Role.RECEPTIONIST):
        out += await waiting(Kind.FOUND_ITEM, [ItemSt.TO_DESK.value])
        out += await waiting(Kind.LOST_CLAIM, [s.value for s in OPEN_CLAIM])
    if custody.may_dispose(person):
        out += await waiting(Kind.FOUND_ITEM, [ItemSt.FOR_DISPOSAL.value])
    return out
