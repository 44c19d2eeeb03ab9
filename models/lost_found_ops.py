"""The lost-and-found state machine: registering, claiming, checking the ID at the desk, the
claimant's signature (in the bot or on paper), refusals and withdrawals; custody and disposal
are in :mod:`models.lost_found_custody`.

Each operation checks who acts and from which state, appends a signed event, and moves the
item's deadlines, in the caller's transaction. Notifications are the caller's (flow) job.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import DomainError
from models.deadline import schedule, settle
from models.env import Env
from models.lost_found import (
    BOT,
    CLAIM_REMINDER,
    CLAIMABLE,
    DESK,
    KEPT,
    OPEN_CLAIM,
    PAPER,
    RECEIPT_REMINDER,
    ClaimSt,
    FoundItem,
    ItemSt,
    LostClaim,
)
from models.lost_found_rules import IdDocument, add_months, check_found_at, claim_reminder_at
from models.people import Person, Role
from models.property import Unit, contact_for
from models.ticket import Kind, Ticket, new_ticket


def require_receptionist(person: Person) -> None:
    if not person.has_role(Role.RECEPTIONIST):
        raise DomainError("not_allowed")


def require_claimable(ticket: Ticket) -> None:
    """A claim needs an item still kept for its owner."""
    if ticket.state == ItemSt.RETURNED:
        raise DomainError("lf_item_returned", ref=ticket.ref)
    if ticket.state not in CLAIMABLE:
        raise DomainError("lf_item_gone", ref=ticket.ref)


def require_received(ticket: Ticket) -> None:
    """The ID check and the handover happen at the desk, with the item there (4.3, 4.4)."""
    if ticket.state == ItemSt.TO_DESK:
        raise DomainError("lf_not_received", ref=ticket.ref)


def keeps_at_desk(actor: Person) -> bool:
    """Whether what `actor` registers is at the desk at once: only the receptionist keeps
    found items (3.1 登记, 4.3 保管); every other staff member, a supervisor included, hands
    them in to the receptionist (3.2, 4.1 上交)."""
    return actor.has_role(Role.RECEPTIONIST)


def schedule_valuable(session: AsyncSession, ticket: Ticket, now: datetime, env: Env) -> None:
    """4.8: valuables not claimed "the same day" (当天) the desk has them go to administration
    that day; the day starts when the desk has the item, not when it was found."""
    schedule(
        session, "lf.valuable", env.calendar.end_of_business_day(now), now, ticket_id=ticket.id
    )


async def register(
    session: AsyncSession,
    *,
    actor: Person,
    name: str,
    description: str,
    category: str,
    valuable: bool,
    place: str,
    found_at: datetime,
    finder_name: str,
    finder: Person | None,
    photos: list[str],
    now: datetime,
    env: Env,
) -> tuple[Ticket, FoundItem]:
    """拾遗物品登记 (4.2); any staff member hands in what they found (4.1). Registered by a
    receptionist, the item is held at the desk at once; by anyone else, it is on its way to
    the desk until a receptionist confirms receiving it (:func:`receive`)."""
    if not actor.is_staff:
        raise DomainError("not_allowed")
    policy = env.lost_found
    cat = policy.category(category)
    if cat is None:
        raise DomainError("stale")
    check_found_at(found_at, now, policy)
    at_desk = keeps_at_desk(actor)
    ticket = await new_ticket(
        session,
        Kind.FOUND_ITEM,
        state=ItemSt.HELD if at_desk else ItemSt.TO_DESK,
        owner=None,
        unit=None,
        created_by=actor,
        # Only staff can open an F- ticket, so its card may carry the details.
        summary=f"{name} — {description}"[:500],
        now=now,
        calendar=env.calendar,
    )
    item = FoundItem(
        ticket_id=ticket.id,
        name=name,
        description=description,
        category=category,
        place=place,
        found_at=found_at,
        finder_name=finder_name,
        finder_id=finder.id if finder else None,
        valuable=valuable or cat.valuable,
        photos=photos[:3],
        custody=DESK,
    )
    session.add(item)
    # 4.7 counts from the registration: "three months unclaimed", and the item can be claimed
    # from the moment it is registered (whether or not the desk has it yet).
    due = add_months(now, policy.disposal_months, env.calendar)
    schedule(session, "lf.disposal", due, now, ticket_id=ticket.id)
    if not at_desk:
        # Handed in (上交) the same day: the desk and the finder hear at its close otherwise.
        due = env.calendar.end_of_business_day(now)
        schedule(session, RECEIPT_REMINDER, due, now, ticket_id=ticket.id)
    elif item.valuable:
        schedule_valuable(session, ticket, now, env)
    await session.flush()
    return ticket, item


async def receive(
    session: AsyncSession,
    item_ticket: Ticket,
    item: FoundItem,
    actor: Person,
    now: datetime,
    env: Env,
) -> None:
    """A receptionist has the item handed in (上交) in hand: from now the desk keeps it (4.3),
    and the clocks of the desk's keeping (4.8 the same day) start."""
    require_receptionist(actor)
    if item_ticket.state in KEPT:
        raise DomainError("lf_already_received", ref=item_ticket.ref)
    item_ticket.transition(
        {ItemSt.TO_DESK}, ItemSt.HELD, "lf_received", actor, now, data={"finder": item.finder_name}
    )
    item.custody, item.custody_at = DESK, now
    await settle(session, now, ticket_id=item_ticket.id, kinds={RECEIPT_REMINDER})
    if item.valuable:
        schedule_valuable(session, item_ticket, now, env)


async def claims_on(
    session: AsyncSession, item_ticket: Ticket, states: set[ClaimSt] | None = None
) -> list[tuple[Ticket, LostClaim]]:
    query = (
        select(Ticket, LostClaim)
        .join(LostClaim, LostClaim.ticket_id == Ticket.id)
        .where(LostClaim.item_id == item_ticket.id)
        .order_by(Ticket.id)
    )
    if states:
        query = query.where(Ticket.state.in_([s.value for s in states]))
    return [(t, c) for t, c in (await session.execute(query)).all()]


async def file_claim(
    session: AsyncSession,
    *,
    owner: Person,
    unit: Unit | None,
    item_ticket: Ticket,
    item_name: str,
    features: str,
    now: datetime,
    env: Env,
) -> tuple[Ticket, LostClaim]:
    """An owner claims an item, describing its name and features in their own words (4.4)."""
    require_claimable(item_ticket)
    for other, _ in await claims_on(session, item_ticket, OPEN_CLAIM):
        if other.owner_id == owner.id:
            raise DomainError("lf_claim_duplicate", ref=other.ref)
    ticket = await new_ticket(
        session,
        Kind.LOST_CLAIM,
        state=ClaimSt.CLAIMED,
        owner=owner,
        unit=unit,
        created_by=owner,
        summary=f"{item_name} — {features}"[:500],
        now=now,
        calendar=env.calendar,
    )
    claimant, _ = await contact_for(session, owner, unit)
    claim = LostClaim(
        ticket_id=ticket.id,
        item_id=item_ticket.id,
        claimant_name=claimant[:100],
        item_name=item_name,
        features=features,
    )
    session.add(claim)
    item_ticket.record("lf_claim_filed", owner, now, data={"claim": ticket.ref})
    # A claimant who never comes (or a desk that forgets them) is chased, not left for months.
    remind = claim_reminder_at(now, env.lost_found.claim_remind_days, env.calendar)
    schedule(session, CLAIM_REMINDER, remind, now, ticket_id=ticket.id)
    await session.flush()
    return ticket, claim


async def no_other_verified(session: AsyncSession, item_ticket: Ticket, claim_id: int) -> None:
    for other, _ in await claims_on(session, item_ticket, {ClaimSt.ID_CHECKED}):
        if other.id != claim_id:
            raise DomainError("lf_other_verified", ref=other.ref)


async def check_id(
    session: AsyncSession,
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    actor: Person,
    document: IdDocument,
    now: datetime,
) -> None:
    """The receptionist has seen the original ID and the description matches (核准无误):
    the masked number is recorded and the claimant is asked to sign."""
    require_receptionist(actor)
    if claim_ticket.owner_id == actor.id:
        raise DomainError("lf_own_claim")  # (a receptionist who lost something: a colleague)
    require_claimable(item_ticket)
    require_received(item_ticket)
    await no_other_verified(session, item_ticket, claim_ticket.id)
    data = {"document": document.kind, "id": document.masked}
    claim_ticket.transition(
        {ClaimSt.CLAIMED}, ClaimSt.ID_CHECKED, "lf_id_checked", actor, now, data=data
    )
    claim.document, claim.id_masked = document.kind, document.masked
    claim.verified_by_id, claim.verified_at = actor.id, now
    # Only one claim on an item may be verified: two receptionists checking two claimants at
    # the same moment both read "no other verified"; writing the item makes one of them stale.
    item_ticket.touch(now)


async def sign(
    session: AsyncSession,
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    actor: Person,
    how: str,
    now: datetime,
) -> list[tuple[Ticket, LostClaim]]:
    """The claimant signs for the item (由失主签字后领取): in the bot (only the claimant), or on
    the paper register (recorded by a receptionist). Returns the other claims, now lapsed."""
    if how == BOT and claim_ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    if how == PAPER:
        require_receptionist(actor)
        if claim_ticket.owner_id == actor.id:
            raise DomainError("lf_own_claim")
    if how not in (BOT, PAPER):
        raise DomainError("stale")
    require_claimable(item_ticket)
    action = "lf_signed_bot" if how == BOT else "lf_signed_paper"
    claim_ticket.transition({ClaimSt.ID_CHECKED}, ClaimSt.HANDED_OVER, action, actor, now)
    claim_ticket.closed_at = now
    claim.receipt, claim.received_at = how, now
    return await _hand_over(session, claim_ticket, claim, item_ticket, item, actor, now)


async def _hand_over(
    session: AsyncSession,
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    actor: Person,
    now: datetime,
) -> list[tuple[Ticket, LostClaim]]:
    item_ticket.transition(
        KEPT,
        ItemSt.RETURNED,
        "lf_returned",
        actor,
        now,
        data={
            "claim": claim_ticket.ref,
            "claimant": claim.claimant_name,
            "id": claim.id_masked,
            "receipt": claim.receipt,
        },
    )
    item_ticket.closed_at = now
    item.returned_at, item.returned_claim_id = now, claim_ticket.id
    await settle(session, now, ticket_id=item_ticket.id)
    return await lapse_others(session, item_ticket, claim_ticket.id, now)


async def lapse_others(
    session: AsyncSession, item_ticket: Ticket, keep_id: int | None, now: datetime
) -> list[tuple[Ticket, LostClaim]]:
    lapsed = []
    for other, other_claim in await claims_on(session, item_ticket, OPEN_CLAIM):
        if other.id != keep_id:
            other.transition(OPEN_CLAIM, ClaimSt.LAPSED, "lf_claim_lapsed", None, now)
            other.closed_at = now
            lapsed.append((other, other_claim))
    return lapsed


async def desk_claim(
    session: AsyncSession,
    *,
    item_ticket: Ticket,
    item: FoundItem,
    actor: Person,
    claimant_name: str,
    description: str,
    document: IdDocument,
    now: datetime,
    env: Env,
) -> tuple[Ticket, LostClaim, list[tuple[Ticket, LostClaim]]]:
    """A claimant without Telegram at the desk: checked, signed on paper and handed over."""
    require_receptionist(actor)
    require_claimable(item_ticket)
    require_received(item_ticket)
    await no_other_verified(session, item_ticket, 0)
    ticket = await new_ticket(
        session,
        Kind.LOST_CLAIM,
        state=ClaimSt.CLAIMED,
        owner=None,
        unit=None,
        created_by=actor,
        summary=description[:500],
        now=now,
        calendar=env.calendar,
    )
    claim = LostClaim(
        ticket_id=ticket.id,
        item_id=item_ticket.id,
        claimant_name=claimant_name,
        item_name=description[:200],
        features=description,
    )
    session.add(claim)
    item_ticket.record("lf_claim_filed", actor, now, data={"claim": ticket.ref})
    await check_id(session, ticket, claim, item_ticket, actor, document, now)
    ticket.transition({ClaimSt.ID_CHECKED}, ClaimSt.HANDED_OVER, "lf_signed_paper", actor, now)
    ticket.closed_at = now
    claim.receipt, claim.received_at = PAPER, now
    lapsed = await _hand_over(session, ticket, claim, item_ticket, item, actor, now)
    return ticket, claim, lapsed


def reject(
    claim_ticket: Ticket, claim: LostClaim, actor: Person, reason: str, now: datetime
) -> None:
    """The description or the ID does not match: the claim is refused, with the reason."""
    require_receptionist(actor)
    claim_ticket.transition(
        OPEN_CLAIM, ClaimSt.REJECTED, "lf_claim_rejected", actor, now, note=reason
    )
    claim_ticket.closed_at = now
    claim.rejected_reason = reason


def withdraw(claim_ticket: Ticket, actor: Person, now: datetime) -> None:
    if claim_ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    claim_ticket.transition(OPEN_CLAIM, ClaimSt.WITHDRAWN, "lf_claim_withdrawn", actor, now)
    claim_ticket.closed_at = now
