"""Shared steps for complaint flow tests: a staffed office, an owner filing, the front desk
recording the case."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from models.complaint import Complaint
from models.deadline import Deadline
from models.ticket import Ticket
from tests.flows.harness import Desk

OWNER, OWNER2 = 1001, 1002
RECEPTIONIST, HANDLER, HANDLER2, SUPERVISOR, EXECUTIVE, TECH = (
    2001, 3501, 3502, 3301, 3601, 3001,
)  # fmt: skip
SH = ZoneInfo("Asia/Shanghai")
PHONE = "13800000000"


def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in November 2026, office time, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SH).astimezone(UTC)


async def staffed(desk: Desk, lang: str = "en") -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang Fang", lang=lang)
    await desk.staff(HANDLER, "service", name="Hu Area", buildings=("1",), lang=lang)
    await desk.staff(HANDLER2, "team_lead", name="Chen Lead", lang=lang)
    await desk.staff(SUPERVISOR, "supervisor", name="Sun Boss", lang=lang)
    await desk.staff(EXECUTIVE, "executive", name="Zhao Exec", lang=lang)
    await desk.staff(TECH, "technician", name="Zhang Wei", buildings=("1",), lang=lang)


async def file_case(
    desk: Desk,
    owner: int = OWNER,
    text: str = "The guard at the north gate was rude to my mother",
    *,
    kind: str = "Complaint",
    place: str | None = "North gate",
    raised: str = "No",
) -> str:
    """Go through /complain as the owner; returns the new reference."""
    await desk.send(owner, "/complain")
    await desk.press(owner, kind)
    await desk.send(owner, text)
    await desk.press(owner, "Skip photos")
    if place:
        await desk.send(owner, place)
    else:
        await desk.press(owner, "Skip")
    if kind == "Complaint":
        await desk.press(owner, raised)
    replies = await desk.press(owner, "Submit")
    assert "has been filed. Reference: " in replies[0], replies
    return replies[0].split("Reference: ")[1].split()[0]


async def log_case(
    desk: Desk,
    staff: int,
    text: str,
    *,
    unit: str = "1-2-301",
    who: str = "Li (owner)",
    channel: str = "phone",
    received: str = "Just now",
    on_the_spot: str | None = None,
) -> list[str]:
    """Go through /log as a staff member (a complaint); returns the replies to Submit."""
    await desk.send(staff, "/log")
    await desk.send(staff, unit)
    await desk.press(staff, who)
    await desk.press(staff, channel)
    if received == "Just now":
        await desk.press(staff, received)
    else:
        await desk.send(staff, received)
    await desk.press(staff, "Complaint")
    await desk.send(staff, text)
    await desk.press(staff, "Skip photos")
    await desk.press(staff, "Skip")
    await desk.press(staff, "No")
    if channel == "face to face" and on_the_spot is None:
        await desk.press(staff, "No, it needs handling")
    elif channel == "face to face":
        await desk.press(staff, "Yes, resolved on the spot")
        await desk.send(staff, on_the_spot)
    return await desk.press(staff, "Submit")


async def record(
    desk: Desk,
    ref: str,
    klass: str = "1 · our management or service",
    *,
    major: str = "Not major",
    responsible: str = "Hu Area",
    share: str = "Keep the owner anonymous",
) -> list[str]:
    """The receptionist records and classifies the case; returns their last replies."""
    new = desk.with_button(RECEPTIONIST, klass)
    assert ref in new.content
    await desk.press(RECEPTIONIST, klass, new)
    await desk.press(RECEPTIONIST, major)
    await desk.press(RECEPTIONIST, responsible)
    return await desk.press(RECEPTIONIST, share)


async def answer(
    desk: Desk, opinion: str = "Guard was at fault", result: str = "Apologised"
) -> list[str]:
    """The person responsible records the handling and the result of their order."""
    await desk.press(HANDLER, "Record handling and result")
    await desk.send(HANDLER, opinion)
    return await desk.send(HANDLER, result)


async def case(desk: Desk, ref: str) -> tuple[Ticket, Complaint]:
    async with desk.session() as s:
        query = select(Ticket).options(selectinload(Ticket.events)).where(Ticket.ref == ref)
        ticket = (await s.execute(query)).scalar_one()
        complaint = await s.get(Complaint, ticket.id)
        assert complaint is not None
        return ticket, complaint


async def deadlines(desk: Desk, ref: str) -> list[Deadline]:
    ticket, _ = await case(desk, ref)
    async with desk.session() as s:
        rows = await s.execute(
            select(Deadline).where(Deadline.ticket_id == ticket.id).order_by(Deadline.id)
        )
        return list(rows.scalars().all())
