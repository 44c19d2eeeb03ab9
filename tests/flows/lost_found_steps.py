"""Shared steps for lost-and-found flow tests: the office staffed, an item registered with
/found, an owner claiming it through /lost, the desk checking the ID."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.lost_found import FoundItem, LostClaim
from models.ticket import Ticket
from tests.flows.harness import Desk

OWNER, OWNER2, OWNER3 = 1101, 1102, 1103
RECEPTIONIST, GUARD, ADMIN, SUPERVISOR = 2101, 2201, 2301, 2401
ID_NUMBER = "410102199003071230"  # a valid resident ID number (check digit 0)
ID_MASKED = "4101**********1230"
DETAILS = "Brown leather, three bank cards and a photo of a cat inside"


async def staffed(desk: Desk, lang: str = "en") -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang Fang", lang=lang)
    await desk.staff(GUARD, "guard", name="Zhao Guard", lang=lang)
    await desk.staff(ADMIN, "admin", name="Qian Admin", lang=lang)
    await desk.staff(SUPERVISOR, "supervisor", name="Sun Boss", lang=lang)


async def register(
    desk: Desk,
    staff: int = GUARD,
    *,
    name: str = "black wallet",
    details: str = DETAILS,
    category: str = "Wallets and bags",
    valuable: bool | None = False,
    place: str = "Lobby of building 1",
    when: str | None = None,
    finder: str | None = None,
    photo: bool = True,
    received: bool = True,
) -> str:
    """/found as a staff member; returns the new F- reference. Registered by anyone but the
    receptionist, the item is handed in to the desk, which confirms receiving it (unless
    `received` is False)."""
    await desk.send(staff, "/found")
    await desk.send(staff, name)
    await desk.send(staff, details)
    await desk.press(staff, category)
    if valuable is not None:
        await desk.press(staff, "Valuable" if valuable else "Not valuable")
    await desk.send(staff, place)
    if when is None:
        await desk.press(staff, "Just now")
    else:
        await desk.send(staff, when)
    if finder is None:
        await desk.press(staff, "I found it")
    else:
        await desk.send(staff, finder)
    if photo:
        await desk.photo(staff, b"item-photo")
        await desk.press(staff, "Done with photos")
    else:
        await desk.press(staff, "No photo")
    replies = await desk.press(staff, "Register")
    assert replies[0].startswith("✅ Registered as F-"), replies
    ref = replies[0].split()[3].rstrip(".")
    if received and staff != RECEPTIONIST:
        await receive(desk, ref)
    return ref


async def receive(desk: Desk, ref: str) -> list[str]:
    """The receptionist presses Received at the desk on the notice of `ref` handed in."""
    item_id = (await ticket(desk, ref)).id
    message = next(
        m
        for m in reversed(desk.emu.messages(RECEPTIONIST))
        if any(d == f"lf:in:{item_id}" for _, d in desk.emu.buttons(m))
    )
    return await desk.press_data(RECEPTIONIST, message, f"lf:in:{item_id}")


async def claim(
    desk: Desk,
    owner: int,
    ref: str,
    said: str = "Brown leather wallet",
    features: str = "Three bank cards and a cat photo",
) -> str:
    """Browse /lost as the owner and claim `ref`; returns the new L- reference."""
    await desk.send(owner, "/lost")
    await desk.press(owner, "Recently found items")
    await desk.press(owner, f"Claim {ref}")
    await desk.send(owner, said)
    await desk.send(owner, features)
    replies = await desk.press(owner, "Submit claim")
    assert replies[0].startswith("✅ Your claim has been filed. Reference: L-"), replies
    return replies[0].rsplit(" ", 1)[1]


async def check_id(desk: Desk, claim_ref: str, number: str = ID_NUMBER) -> list[str]:
    """The receptionist checks the claimant's resident ID card at the desk."""
    claim_id = (await ticket(desk, claim_ref)).id
    message = next(
        m
        for m in reversed(desk.emu.messages(RECEPTIONIST))
        if any(d == f"lf:ver:{claim_id}" for _, d in desk.emu.buttons(m))
    )
    await desk.press(RECEPTIONIST, "Check ID at the desk", message)
    await desk.press(RECEPTIONIST, "Resident ID card")
    return await desk.send(RECEPTIONIST, number)


async def ticket(desk: Desk, ref: str) -> Ticket:
    return await desk.ticket(ref)


async def item_of(desk: Desk, ref: str) -> tuple[Ticket, FoundItem]:
    async with desk.session() as s:
        row = (
            await s.execute(
                select(Ticket, FoundItem)
                .options(selectinload(Ticket.events))
                .join(FoundItem, FoundItem.ticket_id == Ticket.id)
                .where(Ticket.ref == ref)
            )
        ).one()
        return row[0], row[1]


async def claim_of(desk: Desk, ref: str) -> tuple[Ticket, LostClaim]:
    async with desk.session() as s:
        row = (
            await s.execute(
                select(Ticket, LostClaim)
                .options(selectinload(Ticket.events))
                .join(LostClaim, LostClaim.ticket_id == Ticket.id)
                .where(Ticket.ref == ref)
            )
        ).one()
        return row[0], row[1]


def photos_sent_to(desk: Desk, tg_id: int) -> list[Any]:
    return [m for m in desk.emu.messages(tg_id) if m.photos]
