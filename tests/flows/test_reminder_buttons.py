"""Reminders and escalations carry the button for what they ask the reader to do."""

from datetime import timedelta

from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    LEAD,
    OWNER,
    RECEPTIONIST,
    SUPERVISOR,
    TECH,
    TECH2,
    file_home_repair,
    staffed,
    ticket,
)

MIN = timedelta(minutes=1)


async def _filed_and_dispatched(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    for person in (OWNER, RECEPTIONIST, TECH, LEAD, SUPERVISOR):
        desk.unread(person)
    return ref


async def test_the_late_arrival_reminder_has_an_arrived_button_that_records_the_arrival(
    desk: Desk,
) -> None:
    ref = await _filed_and_dispatched(desk)
    await desk.tick(15 * MIN)
    reminder = desk.emu.last(TECH)
    assert reminder.content.startswith(f"⏰ You should be at {ref} by now")
    assert [text for text, _ in desk.emu.buttons(reminder)] == ["Arrived"]
    await desk.press(TECH, "Arrived", reminder)
    assert desk.last_answer() == f"Arrival recorded for {ref}."
    assert (await ticket(desk, ref)).state == "on_site"
    # The work order's own button now meets a job already on site, as a second press would.
    await desk.press(TECH, "Arrived", desk.with_button(TECH, "Accept"))
    assert desk.last_answer() != f"Arrival recorded for {ref}."


async def test_the_supervisors_escalation_opens_the_ticket_card_with_their_actions(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    await desk.tick(timedelta(hours=2))
    escalation = desk.emu.last(SUPERVISOR)
    assert escalation.content.startswith(f"🚨 {ref} has still not been dispatched")
    assert [text for text, _ in desk.emu.buttons(escalation)] == [f"Open {ref}"]
    card = await desk.press(SUPERVISOR, f"Open {ref}", escalation)
    assert card[0].startswith(f"Repair {ref} — waiting for dispatch"), card
    assert "Details: The kitchen tap drips all night" in card[0]
    assert [text for text, _ in desk.emu.buttons(desk.emu.last(SUPERVISOR))] == [
        "Cancel (with reason)"
    ]


async def test_an_urging_lets_the_front_desk_dispatch_the_waiting_repair_from_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Urge")
    urging = desk.emu.last(RECEPTIONIST)
    assert urging.content == f"⏰ The owner is urging {ref} (currently: waiting for dispatch)."
    buttons = [text for text, _ in desk.emu.buttons(urging)]
    dispatch = ["Dispatch → Zhang Wei (0 open)", "Dispatch → Liu Qiang (0 open)"]
    assert buttons == [*dispatch, f"Open {ref}"]
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang", urging)
    assert desk.last_answer() == f"{ref} dispatched to Liu Qiang."
    assert (await ticket(desk, ref)).assignee_id == (await desk.person(TECH2)).id


async def test_an_urging_gives_the_technician_the_buttons_of_their_work_order(
    desk: Desk,
) -> None:
    ref = await _filed_and_dispatched(desk)
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Urge")
    urging = desk.emu.last(TECH)
    assert urging.content == f"⏰ The owner is urging {ref} (currently: dispatched)."
    assert [text for text, _ in desk.emu.buttons(urging)] == ["Accept", "Arrived"]
    await desk.press(TECH, "Arrived", urging)
    assert desk.last_answer() == f"Arrival recorded for {ref}."
    assert (await ticket(desk, ref)).state == "on_site"
