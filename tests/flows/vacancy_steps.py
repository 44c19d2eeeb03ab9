"""Shared steps for vacancy flow tests: a staffed office, an owner applying, the approvals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models.ticket import Ticket
from models.vacancy import Vacancy
from tests.flows.harness import Desk

OWNER, OWNER2 = 1001, 1002
RECEPTIONIST, TECH, TECH2, CASHIER, SUPERVISOR, SERVICE, EXECUTIVE, ADMIN, SERVICE2 = (
    2001, 3001, 3002, 3201, 3301, 3401, 3501, 3601, 3402,
)  # fmt: skip
EVERYONE = (OWNER, RECEPTIONIST, TECH, TECH2, CASHIER, SUPERVISOR, SERVICE, EXECUTIVE, SERVICE2)
DAY = timedelta(days=1)
# 8:00 office time on the start date `apply` picks by default (1 Dec 2026)
STARTS = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


# What /vacancy says before its first question (5.2.1), in English.
INTRO_EN = (
    "🏠 Vacancy application (空置房申请), for a renovated home that will stay empty. A home "
    "that has not been renovated needs no application (5.2.1); ask the property office if "
    "you are not sure."
)


async def staffed(desk: Desk, lang: str = "en") -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang Fang", lang=lang)
    await desk.staff(TECH, "technician", name="Zhang Wei", buildings=("1",), lang=lang)
    await desk.staff(TECH2, "technician", name="Liu Qiang", buildings=("1",), lang=lang)
    await desk.staff(CASHIER, "cashier", name="Zhou Cash", lang=lang)
    await desk.staff(SUPERVISOR, "supervisor", name="Sun Boss", lang=lang)
    await desk.staff(EXECUTIVE, "executive", name="Qian Exec", lang=lang)
    await desk.staff(SERVICE, "service", name="Hu Area", buildings=("1",), lang=lang)
    await desk.staff(SERVICE2, "service", name="Ma Other", buildings=("2",), lang=lang)
    await desk.staff(ADMIN, "admin", name="Admin Li", lang=lang)


def clear(desk: Desk, *people: int) -> None:
    for person in people or EVERYONE:
        desk.unread(person)


def alerts(desk: Desk, tg_id: int) -> list[str]:
    """New messages other than the daily repair report supervisors and service officers get
    every evening."""
    return [m for m in desk.unread(tg_id) if not m.startswith("📊 Daily report")]


async def apply(
    desk: Desk,
    owner: int = OWNER,
    start: str = "1 Dec 2026",
    end: str = "2 Mar 2027",
    reason: str = "Working in Shenzhen for a year",
) -> str:
    """Go through /vacancy (one unit) pressing the offered dates; returns the reference."""
    await desk.send(owner, "/vacancy")
    await desk.press(owner, start)
    await desk.press(owner, end)
    await desk.send(owner, reason)
    await desk.press(owner, "I have read and accept")
    replies = await desk.press(owner, "Submit")
    assert replies[0].startswith("✅ Your vacancy application has been filed. Reference: V-")
    return replies[0].rsplit(" ", 1)[1]


async def new_owner_approved(desk: Desk, owner: int, name: str = "Zhao") -> str:
    """The flat's new owner links with a code and applies, typing the dates (18 Feb to
    1 Jun 2027); approved. Returns the reference."""
    await desk.owner(owner, name=name, lang="en")
    await desk.send(owner, "/vacancy")
    await desk.send(owner, "2027-02-18")
    await desk.send(owner, "2027-06-01")
    await desk.send(owner, "Abroad")
    await desk.press(owner, "I have read and accept")
    ref = (await desk.press(owner, "Submit"))[0].rsplit(" ", 1)[1]
    await approve(desk, ref)
    return ref


async def approve(desk: Desk, ref: str, opinion: str = "Owner known, ID matches") -> None:
    """ID seen, opinion signed, supervisor approves."""
    await desk.press(SERVICE, "Original ID seen", desk.with_button(SERVICE, "Original ID seen"))
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, opinion)
    await desk.press(SUPERVISOR, "Approve")


async def shut_off(desk: Desk, water: str = "120.50", electricity: str = "3050.2") -> None:
    """The order dispatched now and carried out on the start date at the earliest (5.2.8):
    a clock still before 1 Dec 2026 is moved there first."""
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    if desk.clock.now() < STARTS:
        await desk.at(STARTS)
    await desk.press(TECH, "Record shut-off")
    await desk.send(TECH, water)
    await desk.send(TECH, electricity)
    await desk.press(TECH, "Water and electricity are OFF: save")


async def ticket(desk: Desk, ref: str) -> Ticket:
    return await desk.ticket(ref)


async def vacancy(desk: Desk, ref: str) -> Vacancy:
    async with desk.session() as s:
        t = (await s.execute(select(Ticket).where(Ticket.ref == ref))).scalar_one()
        found = await s.get(Vacancy, t.id)
        assert found is not None
        return found
