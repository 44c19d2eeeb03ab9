"""A repair from /repair to the follow-up call, with every person's messages checked."""

from decimal import Decimal

from sqlalchemy import select

from models.notification import Notification
from models.repair import Fee, Material, Repair
from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    CASHIER,
    OWNER,
    RECEPTIONIST,
    TECH,
    TECH2,
    file_home_repair,
    staffed,
    ticket,
)


async def test_repair_from_request_to_follow_up_with_every_message(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    desk.unread(OWNER)

    # Owner: the form, with a photo and "as soon as possible".
    await desk.send(OWNER, "/repair")
    assert desk.unread(OWNER)[-1] == (
        "🔧 New repair request. Where is the problem?\nSend /cancel to stop."
    )
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    assert await desk.send(OWNER, "x") == [
        "That is too short: please write at least 2 characters.",
        "Please describe the problem: what is broken, where exactly, since when.\n"
        "Send /cancel to stop.",
    ]
    await desk.send(OWNER, "The kitchen tap drips all night")
    await desk.photo(OWNER, b"jpeg-1")
    await desk.press(OWNER, "Done with photos")
    summary = await desk.press(OWNER, "As soon as possible")
    assert "Details: The kitchen tap drips all night" in summary[0]
    assert "Photos: 1" in summary[0] and "Appointment: as soon as possible" in summary[0]
    filed = await desk.press(OWNER, "Submit")
    ref = filed[0].rsplit(" ", 1)[1]
    assert ref.startswith("R-20261127-")
    desk.unread(OWNER)

    # Receptionist: the new repair with the owner's contact and dispatch buttons.
    new = desk.unread(RECEPTIONIST)
    assert f"🆕 New repair: {ref}" in new[-1]
    assert "Owner: 李伟, phone 13800000000" in new[-1]
    assert desk.emu.last(RECEPTIONIST).photos == []  # the photo came as its own message
    buttons = [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert buttons == ["Dispatch → Zhang Wei (0 open)", "Dispatch → Liu Qiang (0 open)"]
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert desk.last_answer() == f"{ref} dispatched to Zhang Wei."

    # Technician: the 维修单 with photo, contact and actions; the owner is told.
    order = desk.unread(TECH)
    assert any(m == "" for m in order)  # the photo
    assert f"📋 Work order (维修单) {ref} — assigned to you" in order[-1]
    assert "Owner: 李伟, phone 13800000000" in order[-1]
    assert desk.unread(OWNER) == [f"Your repair {ref} has been dispatched to Zhang Wei."]
    assert desk.unread(TECH2) == []

    await desk.press(TECH, "Accept")
    await desk.press(TECH, "Arrived")
    assert desk.unread(OWNER) == [f"The technician has arrived for {ref}."]

    # Materials (five answers) and a fee; the cashier is told.
    await desk.press(TECH, "Add material")
    for answer in ("Tap cartridge", "DN15", "JM-40", "1", "35"):
        await desk.send(TECH, answer)
    assert desk.unread(TECH)[-1].startswith(f"Recorded on {ref}: Tap cartridge, DN15, JM-40")
    await desk.press(TECH, "Record fee")
    await desk.send(TECH, "50")
    await desk.send(TECH, "labour, replacing the cartridge")
    assert desk.unread(CASHIER) == [
        f"💰 Fee recorded on {ref} by Zhang Wei: CN¥50.00 (labour, replacing the cartridge). "
        "Invoice to be delivered to the owner."
    ]
    await desk.press(TECH, "Done")

    # Owner: verifies materials, confirms, rates, comments.
    done = desk.unread(OWNER)[-1]
    assert f"✅ Repair {ref} is done." in done
    assert "• Tap cartridge, DN15, JM-40: 1 × CN¥35.00 = CN¥35.00" in done
    assert "Fee charged: CN¥50.00 (labour, replacing the cartridge)" in done
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★★★★")
    assert desk.unread(TECH)[-1] == f"{ref} was confirmed with a rating of 5/5."

    # Follow-up (回访) task for the receptionist, with the phone number.
    task = desk.unread(RECEPTIONIST)[-1]
    assert f"📞 Follow-up call (回访) for {ref}" in task
    assert "13800000000" in task and "Rating: ★★★★★ (5/5)" in task
    assert desk.unread(RECEPTIONIST) == []
    await desk.send(OWNER, "Quick and tidy, thank you")
    assert desk.unread(OWNER)[-1] == "Thank you for your comment."
    assert desk.unread(RECEPTIONIST) == [
        f"💬 Comment on {ref} from the owner: Quick and tidy, thank you"
    ]
    await desk.press(RECEPTIONIST, "Satisfied")
    await desk.send(RECEPTIONIST, "Owner happy, no further issues")
    assert desk.unread(RECEPTIONIST)[-1] == f"Follow-up recorded; {ref} is closed."

    t = await ticket(desk, ref)
    assert t.state == "closed" and t.closed_at is not None
    actions = [e.action for e in t.events]
    assert actions == [
        "created",
        "dispatched",
        "accepted",
        "arrived",
        "material",
        "fee",
        "done",
        "confirmed",
        "material_verified",
        "commented",
        "followed_up",
    ]
    async with desk.session() as s:
        repair = await s.get(Repair, t.id)
        assert repair is not None and repair.rating == 5 and repair.followup_satisfied
        material = (await s.execute(select(Material))).scalar_one()
        assert (material.quantity, material.unit_price) == (Decimal("1.00"), Decimal("35.00"))
        fee = (await s.execute(select(Fee))).scalar_one()
        assert fee.amount == Decimal("50.00")
        assert all(n.status == "sent" for n in (await s.execute(select(Notification))).scalars())
    history = await desk.send(OWNER, f"/ticket {ref}")
    assert "History:" in history[0] and "follow-up recorded · Wang Fang" in history[0]


async def test_owner_sees_their_tickets_and_can_urge_once_an_hour(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    listing = await desk.send(OWNER, "/my")
    assert f"{ref} · Repair · waiting for dispatch" in listing[0]
    await desk.send(OWNER, f"/ticket {ref}")
    desk.unread(RECEPTIONIST)
    await desk.press(OWNER, "Urge")
    assert desk.unread(RECEPTIONIST) == [
        f"⏰ The owner is urging {ref} (currently: waiting for dispatch)."
    ]
    await desk.send(OWNER, f"/ticket {ref}")
    again = await desk.press(OWNER, "Urge")
    assert again[0].startswith("You have already urged this request. You can urge it again after")
    assert desk.unread(RECEPTIONIST) == []


async def test_owner_can_cancel_before_arrival_and_the_technician_is_told(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.send(OWNER, f"/ticket {ref}")
    assert await desk.press(OWNER, "Cancel request") == [f"{ref} has been cancelled."]
    assert desk.unread(TECH)[-1] == f"{ref} was cancelled by the owner."
    assert (await ticket(desk, ref)).state == "cancelled"
