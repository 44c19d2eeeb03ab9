"""Who is told what in lost and found, and the texts they read.

Owners only ever see an item's public face — category, general name, where and when — never
its distinguishing details or photos: a claimant must describe those at the desk (4.4).
Callback data carries ids only: ``lf:<action>:<id>[:<arg>]``; every press is re-checked.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.env import Env
from models.lost_found import ADMIN, FoundItem, ItemSt, LostClaim
from models.notification import Localized, Msg, enqueue, msg, notify_role
from models.people import Person, Role, staff_with_role
from models.property import contact_for
from models.ticket import Ticket

LIST_LINE = N_("{ref} · {category} · {name} — found at {place}, {time}")


def data(action: str, ident: int, arg: str | None = None) -> str:
    return f"lf:{action}:{ident}" + (f":{arg}" if arg is not None else "")


def category_name(env: Env, code: str) -> Localized | str:
    cat = env.lost_found.category(code)
    return Localized(cat.name()) if cat else code


def public_line(ticket: Ticket, item: FoundItem, env: Env) -> tuple[str, dict[str, object]]:
    """One line of a list owners (or a public notice) may read."""
    return (
        LIST_LINE,
        {
            "ref": ticket.ref,
            "category": category_name(env, item.category),
            "name": item.name,
            "place": item.place,
            "time": item.found_at,
        },
    )


def item_details(ticket: Ticket, item: FoundItem, env: Env) -> Msg:
    """The 拾遗物品登记表 line, for staff: everything, the photos included."""
    out = Msg()
    out.add(
        N_("{ref} · {category} · {name}"),
        ref=ticket.ref,
        category=category_name(env, item.category),
        name=item.name,
    )
    out.add(N_("Details (staff only): {text}"), text=item.description)
    out.add(
        N_("Found at {place}, {time}, by {finder}"),
        place=item.place,
        time=item.found_at,
        finder=item.finder_name,
    )
    if item.valuable:
        out.add(N_("💰 Valuable"))
    if ticket.state == ItemSt.TO_DESK:
        out.add(N_("⏳ Handed in, not yet received at the front desk."))
    elif item.custody == ADMIN:
        out.add(N_("In the safekeeping of administration since {time}."), time=item.custody_at)
    out.photos = list(item.photos)
    return out


async def to_roles(
    session: AsyncSession,
    roles: Iterable[Role],
    body: Msg,
    now: datetime,
    *,
    ticket_id: int | None = None,
    skip: Person | None = None,
) -> None:
    """Everyone holding one of `roles`, once each (someone with two roles gets one copy)."""
    seen: set[int] = {skip.id} if skip else set()
    for role in roles:
        people = await staff_with_role(session, role)
        reachable = [p for p in people if p.unreachable_at is None] or people
        for person in reachable:
            if person.id not in seen:
                seen.add(person.id)
                enqueue(session, person, body, now, ticket_id=ticket_id)


async def registered(
    session: AsyncSession, ticket: Ticket, item: FoundItem, actor: Person, now: datetime, env: Env
) -> None:
    body = Msg().add(
        N_("🧳 Found item registered by {name}: {ref}"), name=actor.name, ref=ticket.ref
    )
    body.lines += item_details(ticket, item, env).lines
    body.photos = list(item.photos)
    await to_roles(session, [Role.RECEPTIONIST], body, now, ticket_id=ticket.id, skip=actor)


def claim_for_desk(
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    env: Env,
    phone: str | None,
) -> Msg:
    """The claim beside the registration, so the receptionist can compare them (核准)."""
    body = Msg().add(N_("🙋 Claim {ref} on {item}"), ref=claim_ticket.ref, item=item_ticket.ref)
    unit = claim_ticket.unit
    body.add(
        N_("Claimant: {name}, unit {unit}, phone {phone}"),
        name=claim.claimant_name,
        unit=unit.code if unit else "—",
        phone=phone or "—",
    )
    body.add(N_("The claimant says it is: {name}"), name=claim.item_name)
    body.add(N_("The claimant describes it as: {text}"), text=claim.features)
    body.add(N_("Registered as:"))
    body.lines += item_details(item_ticket, item, env).lines
    body.add(
        N_(
            "When the claimant comes with their original ID card and the description matches, "
            "press Check ID at the desk."
        )
    )
    body.button_row(
        (N_("Check ID at the desk"), data("ver", claim_ticket.id)),
        (N_("Not accepted"), data("rej", claim_ticket.id)),
    )
    body.photos = list(item.photos)
    return body


async def claim_filed(
    session: AsyncSession,
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    now: datetime,
    env: Env,
) -> None:
    claimant = claim_ticket.owner
    phone = (await contact_for(session, claimant, claim_ticket.unit))[1] if claimant else None
    body = claim_for_desk(claim_ticket, claim, item_ticket, item, env, phone)
    await notify_role(session, Role.RECEPTIONIST, body, now, ticket_id=claim_ticket.id)


def sign_request(claim_ticket: Ticket, item_ticket: Ticket, item: FoundItem) -> Msg:
    """For the claimant, once their ID has been checked: the signature is a button."""
    out = msg(
        N_(
            "Your ID was checked at the front desk for claim {ref}. When you have {name} "
            "({item}) in hand, press the button: it is your signature for the item."
        ),
        ref=claim_ticket.ref,
        name=item.name,
        item=item_ticket.ref,
    )
    return out.button_row((N_("I have received it"), data("rcv", claim_ticket.id)))


async def returned(
    session: AsyncSession,
    claim_ticket: Ticket,
    claim: LostClaim,
    item_ticket: Ticket,
    item: FoundItem,
    lapsed: list[tuple[Ticket, LostClaim]],
    now: datetime,
) -> None:
    """The item is back with its owner: the desk, the claimant and any other claimant."""
    how = N_("signed in the bot") if claim.receipt == "bot" else N_("signed on paper")
    await notify_role(
        session,
        Role.RECEPTIONIST,
        msg(
            N_("✅ {item} ({name}) returned to {claimant} on claim {ref}: ID {id}, {how}."),
            item=item_ticket.ref,
            name=item.name,
            claimant=claim.claimant_name,
            ref=claim_ticket.ref,
            id=claim.id_masked,
            how=msg(how),
        ),
        now,
        ticket_id=item_ticket.id,
    )
    if claim_ticket.owner is not None:
        enqueue(
            session,
            claim_ticket.owner,
            msg(
                N_("✅ {name} ({item}) is recorded as returned to you (claim {ref}). Thank you."),
                name=item.name,
                item=item_ticket.ref,
                ref=claim_ticket.ref,
            ),
            now,
            ticket_id=claim_ticket.id,
        )
    lapsed_claims(session, lapsed, item_ticket, N_("it has been returned to its owner"), now)


def lapsed_claims(
    session: AsyncSession,
    lapsed: list[tuple[Ticket, LostClaim]],
    item_ticket: Ticket,
    why: str,
    now: datetime,
) -> None:
    for other, _ in lapsed:
        if other.owner is not None:
            enqueue(
                session,
                other.owner,
                msg(
                    N_(
                        "Your claim {ref} on {item} is closed: {why}. If you think this is a "
                        "mistake, please contact the front desk."
                    ),
                    ref=other.ref,
                    item=item_ticket.ref,
                    why=msg(why),
                ),
                now,
                ticket_id=other.id,
            )
