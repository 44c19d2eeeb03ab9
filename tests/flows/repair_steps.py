"""Shared steps for repair flow tests: a staffed office and an owner filing a request."""

from __future__ import annotations

from models.ticket import Ticket
from tests.flows.harness import Desk

OWNER, OWNER2 = 1001, 1002
RECEPTIONIST, TECH, TECH2, LEAD, CASHIER, SUPERVISOR, SERVICE = (
    2001, 3001, 3002, 3101, 3201, 3301, 3401,
)  # fmt: skip


async def staffed(desk: Desk, lang: str = "en") -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang Fang", lang=lang)
    await desk.staff(TECH, "technician", name="Zhang Wei", buildings=("1",), lang=lang)
    await desk.staff(TECH2, "technician", name="Liu Qiang", buildings=("1",), lang=lang)
    await desk.staff(LEAD, "team_lead", name="Chen Lead", lang=lang)
    await desk.staff(CASHIER, "cashier", name="Zhou Cash", lang=lang)
    await desk.staff(SUPERVISOR, "supervisor", name="Sun Boss", lang=lang)
    await desk.staff(SERVICE, "service", name="Hu Area", buildings=("1",), lang=lang)


async def file_home_repair(
    desk: Desk,
    owner: int = OWNER,
    text: str = "The kitchen tap drips all night",
    *,
    photos: int = 1,
    when: str = "As soon as possible",
) -> str:
    """Go through /repair as the owner; returns the new reference."""
    await desk.send(owner, "/repair")
    await desk.press(owner, "In my home")
    await desk.press(owner, "Water supply")
    await desk.send(owner, text)
    for i in range(photos):
        await desk.photo(owner, f"photo-{i}".encode())
    await desk.press(owner, "Done with photos" if photos else "Skip photos")
    await desk.press(owner, when)
    replies = await desk.press(owner, "Submit")
    assert replies[0].startswith("✅ Your repair request has been filed. Reference: R-")
    return replies[0].rsplit(" ", 1)[1]


async def dispatched_to_zhang(desk: Desk, *, arrived: bool = False) -> str:
    """A staffed office; the owner's in-home repair dispatched to the technician Zhang Wei,
    who has arrived if `arrived`. Returns its reference."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    if arrived:
        await desk.press(TECH, "Arrived")
    return ref


async def file_public_repair(
    desk: Desk,
    owner: int = OWNER,
    *,
    category: str = "Electricity",
    text: str = "Stairwell light on floor 3 is out",
    place: str = "Building 1, unit 2, 3rd floor",
    building: str = "Building 1",
) -> str:
    """Go through /repair for a public area as the owner; returns the new reference.
    `building` is the button naming where the problem is."""
    await desk.send(owner, "/repair")
    await desk.press(owner, "Public area")
    await desk.press(owner, category)
    await desk.send(owner, text)
    await desk.press(owner, "Skip photos")
    await desk.press(owner, building)
    await desk.send(owner, place)
    filed = await desk.press(owner, "Submit")
    assert filed[0].startswith("✅ Your repair request has been filed. Reference: R-"), filed
    return filed[0].rsplit(" ", 1)[1]


async def ticket(desk: Desk, ref: str) -> Ticket:
    return await desk.ticket(ref)
