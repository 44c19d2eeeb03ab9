"""The front desk withdraws a repair for the owner (they phoned, or it repeats another
report), with a reason, while nobody has started work; a supervisor may too."""

from datetime import timedelta

from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    OWNER,
    RECEPTIONIST,
    SUPERVISOR,
    TECH,
    dispatched_to_zhang,
    file_home_repair,
    staffed,
    ticket,
)


async def test_the_front_desk_cancels_a_new_repair_with_a_reason_and_the_owner_hears_why(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    desk.unread(OWNER)
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    asked = await desk.press(RECEPTIONIST, "Cancel (with reason)")
    assert asked == [
        f"Why is {ref} being cancelled? The owner will be told this reason.\nSend /cancel to stop."
    ]
    done = await desk.send(RECEPTIONIST, "Owner phoned: it was the main valve, fixed himself")
    assert done == [f"{ref} has been cancelled; the owner has been told why."]
    assert desk.unread(OWNER) == [
        f"Your repair {ref} has been cancelled by the property office: Owner phoned: it was "
        "the main valve, fixed himself. If this is not what you expected, please call the "
        "front desk."
    ]
    t = await ticket(desk, ref)
    assert t.state == "cancelled" and t.closed_at is not None
    event = t.events[-1]
    assert event.action == "cancelled_by_office" and event.note.startswith("Owner phoned")
    card = (await desk.send(SUPERVISOR, f"/ticket {ref}"))[0]
    assert "cancelled by the office · Wang Fang" in card
    assert "Cancelled by the office: Owner phoned" in card
    # Its deadlines are settled: nobody is chased about dispatching it.
    desk.unread(SUPERVISOR)
    desk.unread(RECEPTIONIST)
    await desk.tick(timedelta(hours=3))
    assert desk.unread(SUPERVISOR) == [] and desk.unread(RECEPTIONIST) == []


async def test_a_supervisor_cancels_a_dispatched_repair_and_the_technician_need_not_come(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk)
    desk.unread(TECH)
    await desk.send(SUPERVISOR, f"/ticket {ref}")
    await desk.press(SUPERVISOR, "Cancel (with reason)")
    await desk.send(SUPERVISOR, "Same leak as R-20261127-001")
    assert desk.unread(TECH) == [
        f"{ref} was cancelled by the office (Same leak as R-20261127-001); you no longer "
        "need to attend."
    ]
    assert (await ticket(desk, ref)).state == "cancelled"
    desk.unread(TECH)
    await desk.tick(timedelta(minutes=20))  # no "you should be there by now"
    assert desk.unread(TECH) == []


async def test_the_front_desk_cannot_cancel_once_the_technician_is_on_site(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    card = desk.emu.last(RECEPTIONIST)
    assert "Cancel (with reason)" not in [b for b, _ in desk.emu.buttons(card)]
    t = await ticket(desk, ref)
    replies = await desk.press_data(RECEPTIONIST, card, f"r:ocx:{t.id}")
    assert replies == [
        f"{ref} cannot be cancelled now (technician on site): a repair can be cancelled only "
        "before the technician has started work. Nothing was changed."
    ]
    assert (await ticket(desk, ref)).state == "on_site"


async def test_a_technician_cannot_cancel_a_repair_with_a_forged_button(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk)
    t = await ticket(desk, ref)
    replies = await desk.press_data(TECH, desk.emu.last(TECH), f"r:ocx:{t.id}")
    assert replies == ["You are not allowed to do this."]
    assert (await ticket(desk, ref)).state == "dispatched"


async def test_a_receptionist_sees_only_the_owners_cancel_on_their_own_repair(
    desk: Desk,
) -> None:
    await staffed(desk)
    desk_owner = await desk.staff(2002, "receptionist", name="Ma Desk", lang="en")
    await desk.send(desk_owner, f"/start {await desk.invite('1-2-302')}")
    ref = await file_home_repair(desk, owner=desk_owner, photos=0)
    await desk.send(desk_owner, f"/ticket {ref}")
    buttons = [text for text, _ in desk.emu.buttons(desk.emu.last(desk_owner))]
    assert "Cancel request" in buttons
    assert "Cancel (with reason)" not in buttons
    assert (await desk.press(desk_owner, "Cancel request"))[0] == f"{ref} has been cancelled."
    assert (await ticket(desk, ref)).state == "cancelled"
    # Their colleague at the desk hears of it; they are not told of their own cancel.
    assert f"{ref} was cancelled by the owner." in desk.emu.texts(RECEPTIONIST)[-1]
    assert not [t for t in desk.emu.texts(desk_owner) if "was cancelled by the owner" in t]
