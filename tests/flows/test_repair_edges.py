"""Edges of the repair flow found in review: a public repair closed unsigned, a fee recorded
after Done, a pause resumed before the appointment, an appointment that passed while the form
was open, a job given to another technician once work has started, who commented."""

import logging
from datetime import timedelta

import pytest

from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    LEAD,
    OWNER,
    RECEPTIONIST,
    SERVICE,
    TECH,
    TECH2,
    dispatched_to_zhang,
    file_home_repair,
    file_public_repair,
    staffed,
    ticket,
)

MIN = timedelta(minutes=1)
TENANT = 1201


async def _public_repair_done(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    return ref


async def test_a_public_repair_closed_unsigned_has_no_follow_up_call_and_stays_closed(
    desk: Desk,
) -> None:
    # seed ch.3 step 7: the follow-up call (回访) is for in-home repairs
    ref = await _public_repair_done(desk)
    await desk.tick(timedelta(hours=48))
    closed = await ticket(desk, ref)
    assert closed.state == "unconfirmed" and closed.closed_at is not None
    card = await desk.send(RECEPTIONIST, f"/ticket {ref}")
    buttons = [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert "Not satisfied" not in buttons and "Satisfied" not in buttons, card
    # a follow-up button forged (or kept from an old message) changes nothing
    replies = await desk.press_data(
        RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"r:fu:{closed.id}:n"
    )
    assert replies == [
        f"{ref} is now in a state where this is no longer possible (closed without confirmation)."
    ]
    after = await ticket(desk, ref)
    assert (after.state, after.closed_at) == ("unconfirmed", closed.closed_at)


async def test_a_fee_recorded_after_done_is_put_before_the_owner_again_before_they_sign(
    desk: Desk,
) -> None:
    # seed ch.3 steps 1, 5-6: the owner is told the amount and signs the 维修单 with it
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.send(TECH, f"/ticket {ref}")
    await desk.press(TECH, "Done")  # from the card: the work order keeps its buttons
    asked = desk.unread(OWNER)[-1]
    assert asked.startswith(f"✅ Repair {ref} is done.") and "80.00" not in asked
    await desk.press(TECH, "Record fee")
    await desk.send(TECH, "80")
    assert await desk.send(TECH, "labour, call-out") == [
        f"Fee of CN¥80.00 recorded on {ref}; the cashier has been told.\n"
        "The work was already marked done: it is shown again to whoever signs."
    ]
    again = desk.unread(OWNER)
    assert len(again) == 1
    assert again[0].startswith(
        f"💰 A fee was added to repair {ref} after it was marked done. Please check it below "
        "before you confirm."
    )
    assert "80.00" in again[0]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Confirm and rate",
        "Not fixed",
    ]


async def test_a_job_paused_before_arrival_and_resumed_early_is_due_at_the_appointment(
    desk: Desk,
) -> None:
    # seed ch.3 step 2: on site within 15 minutes of the appointment (按照维修预约时间)
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await file_home_repair(desk, photos=0, when="27 Nov 2026, 12:30")
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Accept")
    await desk.press(TECH, "Waiting for parts")
    await desk.send(TECH, "Valve DN15 ordered")
    await desk.tick(30 * MIN)  # 10:30, the parts are here
    desk.unread(LEAD)
    replies = await desk.press(TECH, "Resume")
    assert any("27 Nov 2026, 12:45" in r for r in replies), replies
    await desk.tick(2 * 60 * MIN)  # 12:30: the appointment, nobody late yet
    assert desk.unread(LEAD) == []
    await desk.tick(16 * MIN)  # 12:46
    assert [m for m in desk.unread(LEAD) if "has not arrived" in m]


async def test_an_appointment_that_passed_while_the_form_was_open_is_asked_again(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, "The kitchen tap drips all night")
    await desk.press(OWNER, "Skip photos")
    await desk.press(OWNER, "27 Nov 2026, 12:30")
    desk.clock.advance(timedelta(hours=3))  # 13:00
    replies = await desk.press(OWNER, "Submit")
    assert replies[0] == (
        "The appointment time 27 Nov 2026, 12:30 has passed or can no longer be booked."
    )
    assert replies[1].startswith("When can the technician come?")
    assert desk.unread(RECEPTIONIST) == []  # nothing filed
    await desk.press(OWNER, "As soon as possible")
    filed = await desk.press(OWNER, "Submit")
    assert filed[0].startswith("✅ Your repair request has been filed.")


async def test_a_job_waiting_for_parts_is_given_to_another_technician(desk: Desk) -> None:
    # the way a technician's held work is moved on (ill, leaving: README, staff remove)
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Waiting for parts")
    await desk.send(TECH, "Valve DN15 ordered")
    desk.unread(TECH)
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    menu = [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert "Return to the queue" not in menu  # the job has been started: it is not new again
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    t = await ticket(desk, ref)
    assert t.state == "dispatched" and t.assignee_id == (await desk.person(TECH2)).id
    assert desk.unread(TECH) == [
        f"{ref} has been reassigned to Liu Qiang; you no longer need to attend."
    ]
    assert desk.unread(TECH2)[0].startswith(f"📋 Work order (维修单) {ref} — assigned to you")
    # the new technician goes through the visit afresh
    await desk.press(TECH2, "Arrived")
    assert (await ticket(desk, ref)).state == "on_site"


async def test_a_service_officers_comment_on_a_public_repair_says_who_made_it(
    desk: Desk,
) -> None:
    ref = await _public_repair_done(desk)
    await desk.press(SERVICE, "Confirm and rate")
    await desk.press(SERVICE, "★★★")
    desk.unread(RECEPTIONIST)
    await desk.send(SERVICE, "Cover of the fitting is cracked")
    assert desk.unread(RECEPTIONIST) == [
        f"💬 Comment on {ref} from the service officer Hu Area: Cover of the fitting is cracked"
    ]


async def test_a_tenants_repair_tells_the_desk_and_technician_who_reported_it(
    desk: Desk,
) -> None:
    # the registered owner (on file, with the phone) may not be the one at home
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    desk.unread(RECEPTIONIST)
    await desk.send(TENANT, "/phone 13912345678")  # the one the technician calls
    ref = await file_home_repair(desk, owner=TENANT, photos=0)
    new = desk.unread(RECEPTIONIST)[0]
    assert (
        "Owner: 李伟, phone 13800000000\n"
        "Reported by Chen Jing, not the registered owner, phone 13912345678"
    ) in new
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert (
        "Reported by Chen Jing, not the registered owner, phone 13912345678" in desk.unread(TECH)[0]
    )
    # the owner's own request has no such line
    own = await file_home_repair(desk, owner=OWNER, text="The bathroom fan rattles", photos=0)
    assert own != ref and "Reported by" not in desk.unread(RECEPTIONIST)[0]


async def test_an_overdue_job_paused_and_resumed_is_not_reported_overdue_a_second_time(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.tick(timedelta(days=3))  # 24 office hours gone: the office and owner are told
    late = f"We are sorry: your repair {ref} is taking longer than it should"
    assert [m for m in desk.unread(OWNER) if m.startswith(late)]
    await desk.press(TECH, "Waiting for parts")
    await desk.send(TECH, "Valve DN15 ordered")
    await desk.tick(timedelta(days=1))
    await desk.press(TECH, "Resume")
    await desk.tick(timedelta(days=5))
    assert [m for m in desk.unread(OWNER) if m.startswith(late)] == []


async def test_a_warranty_repairs_history_names_its_complaint_in_the_readers_language(
    desk: Desk,
) -> None:
    from tests.flows.complaint_steps import file_case, record
    from tests.flows.complaint_steps import staffed as complaint_office

    await complaint_office(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk, text="Cracks in the bedroom wall since the rains", place=None)
    await record(desk, ref, "2 · house quality, in the home")
    await desk.send(OWNER, "/language")
    await desk.press(OWNER, "中文")
    card = "\n".join(await desk.send(OWNER, "/ticket R-20261127-001"))
    assert "linked_complaint" not in card
    assert "由投诉转来" in card


async def test_a_work_order_for_an_unreachable_technician_goes_to_a_colleague_and_the_desk(
    desk: Desk,
) -> None:
    # The colleague's copy cannot carry Zhang's buttons (they would be refused); the front
    # desk, who dispatches, is told which job is stuck and can give it on.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    desk.emu.block(TECH)
    ref = await file_home_repair(desk, photos=0)
    desk.unread(RECEPTIONIST)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    copy = desk.unread(TECH2)
    assert len(copy) == 1 and copy[0].startswith(
        f"(Forwarded: Zhang Wei cannot be reached.)\n📋 Work order (维修单) {ref}"
    )
    assert copy[0].endswith(
        "The job is still Zhang Wei's: the front desk has been asked to give it to you or to "
        "someone else."
    )
    assert desk.emu.buttons(desk.emu.last(TECH2)) == []
    stuck = [m for m in desk.unread(RECEPTIONIST) if m.startswith(f"⚠️ {ref}")]
    assert stuck == [
        f"⚠️ {ref} could not be delivered to Zhang Wei, who cannot be reached; Liu Qiang has a "
        "copy for information. Please give it to someone who can act on it."
    ]
    await desk.press(RECEPTIONIST, f"Open {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    assert desk.unread(TECH2)[0].startswith(f"📋 Work order (维修单) {ref} — assigned to you")
    await desk.press(TECH2, "Arrived")
    assert (await ticket(desk, ref)).state == "on_site"


async def test_a_forged_technician_in_a_dispatch_button_is_refused_as_out_of_date(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    t = await ticket(desk, ref)
    message = desk.with_button(RECEPTIONIST, "Dispatch → Zhang Wei")
    with caplog.at_level(logging.INFO):
        replies = await desk.press_data(RECEPTIONIST, message, f"r:dsp:{t.id}:13812345678x")
    assert replies == ["This button is out of date. Nothing was changed."]
    assert "13812345678" not in caplog.text
    assert (await ticket(desk, ref)).state == "new"


async def test_a_receptionist_does_not_make_the_follow_up_call_on_their_own_repair(
    desk: Desk,
) -> None:
    # 回访 asks the one who reported it; a receptionist who lives on the estate is asked by
    # a colleague, not by themselves
    await staffed(desk)
    await desk.send(RECEPTIONIST, f"/start {await desk.invite('1-2-301')}")
    ref = await file_home_repair(desk, owner=RECEPTIONIST, photos=0)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    await desk.press(RECEPTIONIST, "Confirm and rate")
    await desk.press(RECEPTIONIST, "★★★★")
    task = desk.with_button(RECEPTIONIST, "Satisfied")
    assert await desk.press(RECEPTIONIST, "Satisfied", task) == [
        "This is your own repair request: a colleague at the front desk makes the follow-up "
        "call (回访)."
    ]
    assert (await ticket(desk, ref)).state == "confirmed"
