"""Claims nobody finishes: the front desk is reminded of a claim still waiting for the ID
check or the signature (``lf.claim``, a few times at most); a claimant whose item goes to
administration (4.6, 4.8) is told where to collect it now, and one whose item is about to be
disposed of hears it first (4.7) — an open claim is never silently passed over as
"unclaimed".
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.deadline import Deadline, Due, at_startup, on_due, schedule
from models.env import Env
from models.lost_found import (
    CLAIM_REMINDER,
    CLAIMABLE,
    OPEN_CLAIM,
    STATE_NAMES,
    ClaimSt,
    FoundItem,
    ItemSt,
    LostClaim,
)
from models.lost_found_notices import data, item_details, sign_request, to_roles
from models.lost_found_ops import claims_on
from models.lost_found_rules import claim_reminder_at
from models.notification import Msg, enqueue, msg
from models.people import Role
from models.property import contact_for
from models.ticket import Kind, Ticket

OpenClaims = list[tuple[Ticket, LostClaim]]


def open_claim_lines(body: Msg, claims: OpenClaims, env: Env) -> Msg:
    """One line per open claim, for staff: who, since when, where it stands."""
    for ticket, claim in claims:
        body.add(
            N_("Open claim {ref} by {name}, filed {date}: {state}"),
            ref=ticket.ref,
            name=claim.claimant_name,
            date=env.calendar.local_date(ticket.created_at),
            state=msg(STATE_NAMES[ClaimSt(ticket.state)]),
        )
    return body


async def open_claims(session: AsyncSession, item_ticket: Ticket) -> OpenClaims:
    return await claims_on(session, item_ticket, OPEN_CLAIM)


def tell_claimants(
    session: AsyncSession, claims: OpenClaims, body: Msg, now: datetime, **params: object
) -> None:
    """Each claimant in the bot gets `body`'s text, with their own claim's reference."""
    for ticket, _ in claims:
        if ticket.owner is not None:
            own = Msg(lines=[(m, {**p, **params, "ref": ticket.ref}) for m, p in body.lines])
            enqueue(session, ticket.owner, own, now, ticket_id=ticket.id)


async def moved_to_admin(
    session: AsyncSession, item_ticket: Ticket, item: FoundItem, now: datetime
) -> None:
    """The item went into administration's safekeeping (4.6, 4.8): its claimants are told
    where it is, and that they still collect it at the front desk (4.4)."""
    body = msg(
        N_(
            "📦 {name} ({item}), the item of your claim {ref}, has been handed to the "
            "administration office (行政) for safekeeping. You still collect it at the front "
            "desk: bring your original ID card (身份证原件), and the receptionist has the item "
            "brought from administration once your claim is checked."
        )
    )
    checked = msg(
        N_(
            "📦 {name} ({item}), the item of your claim {ref}, is now kept by the "
            "administration office (行政), as valuables not collected on the day are (4.8). "
            "Your ID has been checked: come to the front desk to sign for it, and the "
            "receptionist has it brought over."
        )
    )
    claims = await open_claims(session, item_ticket)
    waiting = [(t, c) for t, c in claims if t.state != ClaimSt.ID_CHECKED]
    ready = [(t, c) for t, c in claims if t.state == ClaimSt.ID_CHECKED]
    tell_claimants(session, waiting, body, now, name=item.name, item=item_ticket.ref)
    tell_claimants(session, ready, checked, now, name=item.name, item=item_ticket.ref)


async def arrived_at_desk(
    session: AsyncSession, item_ticket: Ticket, item: FoundItem, now: datetime
) -> None:
    """Claimants who claimed an item still on its way to the desk hear that it is there now:
    their ID can be checked and the item handed over (4.4)."""
    body = msg(
        N_(
            "📥 {name} ({item}), the item of your claim {ref}, is now at the front desk. "
            "Please bring your original ID card (身份证原件) to collect it."
        )
    )
    claims = await open_claims(session, item_ticket)
    tell_claimants(session, claims, body, now, name=item.name, item=item_ticket.ref)


def due_for_disposal(
    session: AsyncSession,
    claims: OpenClaims,
    item_ticket: Ticket,
    item: FoundItem,
    now: datetime,
    env: Env,
) -> None:
    """Three months on (4.7): a claimant who never came is told before it is disposed of."""
    body = msg(
        N_(
            "🗑 {name} ({item}), the item of your claim {ref}, has been kept for {months} "
            "months without being collected and is being reported to the company for disposal "
            "(4.7). If it is yours, please come to the front desk with your original ID card "
            "(身份证原件) as soon as possible: until its disposal is recorded, it can still be "
            "handed over to you."
        )
    )
    tell_claimants(
        session,
        claims,
        body,
        now,
        name=item.name,
        item=item_ticket.ref,
        months=env.lost_found.disposal_months,
    )


# --- reminders about a claim nobody has acted on ------------------------------------------------


def _desk_reminder(
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    phone: str | None,
    last: bool,
    env: Env,
) -> Msg:
    params = {
        "ref": claim_ticket.ref,
        "item": item_ticket.ref,
        "date": env.calendar.local_date(claim_ticket.created_at),
        "name": claim.claimant_name,
        "phone": phone or "—",
    }
    if claim_ticket.state == ClaimSt.CLAIMED:
        body = msg(
            N_(
                "⏰ Claim {ref} on {item}, filed {date}, is still waiting for the claimant to "
                "show their original ID at the front desk. Please contact them ({name}, phone "
                "{phone}). When they come, press Check ID at the desk; if the claim does not "
                "hold, press Not accepted."
            ),
            **params,
        )
        body.button_row(
            (N_("Check ID at the desk"), data("ver", claim_ticket.id)),
            (N_("Not accepted"), data("rej", claim_ticket.id)),
        )
    else:
        body = msg(
            N_(
                "⏰ Claim {ref} on {item}: the claimant's ID was checked, but nobody has signed "
                "for the item yet. If they took it and signed the paper register, press Paper "
                "signature; otherwise please contact them ({name}, phone {phone})."
            ),
            **params,
        )
        body.button_row(
            (N_("Paper signature"), data("pap", claim_ticket.id)),
            (N_("Not accepted"), data("rej", claim_ticket.id)),
        )
    body.lines += item_details(item_ticket, item, env).lines
    if last:
        body.add(N_("This is the last reminder about this claim."))
    return body


def _claimant_reminder(claim_ticket: Ticket, item_ticket: Ticket, item: FoundItem) -> Msg:
    if claim_ticket.state == ClaimSt.ID_CHECKED:
        return sign_request(claim_ticket, item_ticket, item)
    body = msg(
        N_(
            "⏰ Your claim {ref} on {name} ({item}) is waiting for you: please bring your "
            "original ID card (身份证原件) to the front desk to collect it. If you no longer "
            "need it, withdraw the claim."
        ),
        ref=claim_ticket.ref,
        name=item.name,
        item=item_ticket.ref,
    )
    return body.button_row((N_("Withdraw claim"), data("wd", claim_ticket.id)))


@on_due(CLAIM_REMINDER)
async def _claim_waiting(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """Nothing happened on the claim for a few business days: the desk (and the claimant)."""
    claim_ticket = await session.get(Ticket, d.ticket_id) if d.ticket_id else None
    claim = await session.get(LostClaim, d.ticket_id) if d.ticket_id else None
    if claim_ticket is None or claim is None or claim_ticket.state not in OPEN_CLAIM:
        return
    item_ticket = await session.get(Ticket, claim.item_id)
    item = await session.get(FoundItem, claim.item_id)
    if item_ticket is None or item is None or item_ticket.state not in CLAIMABLE:
        return
    policy = env.lost_found
    if claim_ticket.state == ClaimSt.CLAIMED and (
        item_ticket.state == ItemSt.TO_DESK
        or any(
            other.id != claim_ticket.id
            for other, _ in await claims_on(session, item_ticket, {ClaimSt.ID_CHECKED})
        )
    ):
        # The item has not reached the desk yet, or another claimant's ID has been checked for
        # it: asking this one to come would bring them for nothing. Wait, without using up a
        # reminder (until it arrives, or in case that claim fails).
        again = claim_reminder_at(max(now, d.due_at), policy.claim_remind_days, env.calendar)
        schedule(session, CLAIM_REMINDER, again, now, ticket_id=claim_ticket.id, level=d.level)
        return
    last = d.level >= policy.claim_reminders
    owner = claim_ticket.owner
    phone = (await contact_for(session, owner, claim_ticket.unit))[1] if owner else None
    body = _desk_reminder(claim_ticket, claim, item_ticket, item, phone, last, env)
    await to_roles(session, [Role.RECEPTIONIST], body, now, ticket_id=claim_ticket.id, skip=owner)
    if owner is not None:
        reminder = _claimant_reminder(claim_ticket, item_ticket, item)
        enqueue(session, owner, reminder, now, ticket_id=claim_ticket.id)
    if not last:
        again = claim_reminder_at(max(now, d.due_at), policy.claim_remind_days, env.calendar)
        schedule(session, CLAIM_REMINDER, again, now, ticket_id=claim_ticket.id, level=d.level + 1)


@at_startup
async def chase_older_claims(session: AsyncSession, now: datetime, env: Env) -> None:
    """Open claims filed before claims were chased (an upgrade) get their first reminder."""
    reminded = exists().where(Deadline.ticket_id == Ticket.id, Deadline.kind == CLAIM_REMINDER)
    unchased = await session.scalars(
        select(Ticket.id).where(
            Ticket.kind == Kind.LOST_CLAIM.value,
            Ticket.state.in_([s.value for s in OPEN_CLAIM]),
            ~reminded,
        )
    )
    due = claim_reminder_at(now, env.lost_found.claim_remind_days, env.calendar)
    for claim_id in unchased.all():
        schedule(session, CLAIM_REMINDER, due, now, ticket_id=claim_id)
