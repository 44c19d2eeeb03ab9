"""The escalation ladder with a moved clock: each level fires once, not at all when the case
moved on in time, and survives a restart between levels."""

from datetime import timedelta

from bot.clock import ManualClock
from tests.flows.complaint_steps import (
    EXECUTIVE,
    HANDLER,
    OWNER,
    RECEPTIONIST,
    SUPERVISOR,
    answer,
    deadlines,
    file_case,
    local,
    record,
    staffed,
)
from tests.flows.harness import Desk

CLASS1 = "class 1 (our management or service)"


def alerts(messages: list[str], ref: str = "C-") -> list[str]:
    """Reminders and escalations about complaints (not the repair flow's, nor its report)."""
    return [m for m in messages if m.startswith(("🚨", "⏰")) and ref in m]


async def test_class_one_complaint_escalates_to_supervisor_after_four_hours_then_executive(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)  # Friday 10:00: due 14:00
    for who in (RECEPTIONIST, SUPERVISOR, EXECUTIVE, HANDLER):
        desk.unread(who)

    await desk.at(local(27, 13, 59))
    assert alerts(desk.unread(SUPERVISOR)) == []
    await desk.at(local(27, 14, 1))
    missed = (
        f"🚨 {ref} ({CLASS1}) missed its deadline of 27 Nov 2026, 14:00: 1 min late, held by "
        "Hu Area. Reported to the department head (4.2.4)."
    )
    assert desk.unread(SUPERVISOR) == [missed]
    assert desk.unread(RECEPTIONIST) == [missed]
    assert desk.unread(HANDLER)[0].startswith(f"⏰ {ref} is past its deadline")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SUPERVISOR))] == [f"Open {ref}"]
    assert desk.unread(EXECUTIVE) == []

    # Nothing more until two days after the order; then the executive, once.
    for _ in range(3):
        await desk.tick(timedelta(hours=12))
    assert alerts(desk.unread(SUPERVISOR)) == [] and desk.unread(EXECUTIVE) == []
    await desk.at(local(29, 10, 0))
    assert desk.unread(EXECUTIVE) == [
        f"🚨🚨 {ref} ({CLASS1}): still no reply 2 d after the work-contact order was sent to "
        "Hu Area, 1 d 20 h past its deadline. Reported to the executive directly (4.2.4)."
    ]
    await desk.tick(timedelta(days=3))
    assert desk.unread(EXECUTIVE) == [] and alerts(desk.unread(SUPERVISOR)) == []

    # The button opens the case for the executive, with the owner's contact.
    card = await desk.press(EXECUTIVE, f"Open {ref}")
    assert card[0].startswith(f"Complaint {ref} — with the person responsible")
    assert "phone 13800000000" in card[0] and "With Hu Area, due by 27 Nov 2026, 14:00" in card[0]


async def test_class_one_answered_in_time_escalates_nowhere(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)
    await desk.at(local(27, 13, 0))
    await answer(desk)
    await desk.tick(timedelta(days=4))
    # Nothing about the handling; only the desk's own step (passing the answer on) is chased.
    for who in (SUPERVISOR, EXECUTIVE, HANDLER):
        assert [m for m in alerts(desk.inbox(who)) if "passed on to the owner" not in m] == [], who
    rows = await deadlines(desk, ref)
    assert [(d.kind, d.level, d.fired_at is None) for d in rows] == [
        ("complaint.classify", 1, True),
        ("complaint.classify", 2, True),
        ("complaint.due", 1, True),
        ("complaint.due", 2, True),
        ("complaint.relay", 1, False),
        ("complaint.relay", 2, False),
    ]
    assert all(d.done_at is not None for d in rows if d.kind != "complaint.relay")


async def test_class_two_is_due_at_the_close_of_the_business_day_it_was_filed(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.at(local(27, 16, 0))
    ref = await file_case(desk, text="Water seeps through the bathroom ceiling")
    await record(desk, ref, "2 · house quality, in the home")
    assert "Handle it and reply by 27 Nov 2026, 17:30." in desk.inbox(HANDLER)[-1]
    desk.unread(SUPERVISOR)
    await desk.at(local(27, 17, 29))
    assert alerts(desk.unread(SUPERVISOR)) == []
    await desk.at(local(27, 17, 31))
    assert alerts(desk.unread(SUPERVISOR)) == [
        f"🚨 {ref} (class 2 (house quality)) missed its deadline of 27 Nov 2026, 17:30: 1 min "
        "late, held by Hu Area. Reported to the department head (4.2.4)."
    ]


async def test_class_two_filed_after_hours_is_due_at_the_next_days_close(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.at(local(27, 20, 0))
    ref = await file_case(desk, text="Water seeps through the bathroom ceiling")
    await record(desk, ref, "2 · house quality, in the home")
    assert "Handle it and reply by 28 Nov 2026, 17:30." in desk.inbox(HANDLER)[-1]
    desk.unread(SUPERVISOR)
    await desk.at(local(28, 17, 29))
    assert alerts(desk.unread(SUPERVISOR)) == []
    await desk.at(local(28, 17, 30))
    assert len(alerts(desk.unread(SUPERVISOR))) == 1


async def test_class_three_is_due_after_three_days(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk, text="Trucks from the site outside block the road")
    await record(desk, ref, "3 · outside the planning red line")
    assert "Handle it and reply by 30 Nov 2026, 10:00." in desk.inbox(HANDLER)[-1]
    desk.unread(SUPERVISOR)
    await desk.at(local(30, 9, 59))
    assert alerts(desk.unread(SUPERVISOR)) == [] and alerts(desk.inbox(EXECUTIVE)) == []
    await desk.at(local(30, 10, 0))
    assert len(alerts(desk.unread(SUPERVISOR))) == 1
    # The executive comes after the supervisor: two days after the later deadline.
    await desk.at(local(30, 10, 1) + timedelta(days=2) - timedelta(minutes=2))
    assert desk.inbox(EXECUTIVE) == []
    await desk.at(local(30, 10, 0) + timedelta(days=2))
    assert len(desk.inbox(EXECUTIVE)) == 1


async def test_unrecorded_case_reminds_the_front_desk_after_one_office_hour(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.at(local(27, 17, 0))  # half an hour before closing
    ref = await file_case(desk)
    desk.unread(RECEPTIONIST)
    await desk.at(local(28, 8, 59))
    assert desk.unread(RECEPTIONIST) == []
    await desk.at(local(28, 9, 0))  # 30 min on Friday + 30 min on Saturday
    reminder = desk.unread(RECEPTIONIST)
    assert len(reminder) == 1
    assert reminder[0].startswith(
        f"⏰ {ref} (complaint, not yet classified) has been waiting 16 h for the front "
        "desk to record it."
    )
    assert "1 · our management or service" in [
        t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))
    ]
    await desk.tick(timedelta(days=1))
    assert desk.unread(RECEPTIONIST) == []


async def _resolved(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)
    await answer(desk)
    await desk.press(RECEPTIONIST, "Confirm and tell the owner")
    await desk.press(RECEPTIONIST, "Send the handler's result")
    desk.unread(SUPERVISOR)
    return ref


async def test_follow_up_within_three_days_reminds_the_supervisor_then_the_executive(
    desk: Desk,
) -> None:
    ref = await _resolved(desk)  # resolved Friday 10:00
    await desk.at(local(30, 9, 59))
    assert alerts(desk.unread(SUPERVISOR)) == []
    await desk.at(local(30, 10, 5))
    overdue = desk.unread(SUPERVISOR)
    assert overdue[0] == (
        f"⏰ The follow-up (回访) of {ref} ({CLASS1}) is overdue by 5 min; held by the "
        "department head."
    )
    buttons = [t for t, _ in desk.emu.buttons(desk.emu.last(SUPERVISOR))]
    assert "Ask the owner in the bot" in buttons and f"Open {ref}" in buttons
    await desk.at(local(30, 12, 0))
    assert alerts(desk.unread(SUPERVISOR)) == [] and desk.inbox(EXECUTIVE) == []
    await desk.at(local(30, 10, 0) + timedelta(days=1))  # 1 Dec 10:00
    assert desk.inbox(EXECUTIVE) == [
        f"🚨 The follow-up (回访) of {ref} ({CLASS1}) is still not done, 1 d after it was "
        "due; held by the department head."
    ]


async def test_follow_up_done_in_time_and_delegated_escalates_nowhere(desk: Desk) -> None:
    ref = await _resolved(desk)
    await desk.press(SUPERVISOR, "Delegate the follow-up")
    await desk.press(SUPERVISOR, "Wang Fang")
    task = desk.unread(RECEPTIONIST)[-1]
    assert task.startswith("Sun Boss asks you to make this follow-up call.")
    assert "phone 13800000000" in task  # the delegate makes the call
    await desk.tick(timedelta(days=1))
    await desk.press(RECEPTIONIST, "Owner satisfied", desk.emu.last(RECEPTIONIST))
    await desk.send(RECEPTIONIST, "Owner thanked the guard team")
    assert await desk.press(RECEPTIONIST, "Nothing suggested") == [
        f"Follow-up recorded; {ref} is closed."
    ]
    await desk.tick(timedelta(days=5))
    assert alerts(desk.unread(SUPERVISOR)) == [] and desk.inbox(EXECUTIVE) == []


async def test_ladder_survives_a_restart_between_levels(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, "1-2-301", lang="en")
        ref = await file_case(first)
        await record(first, ref)
        await first.at(local(27, 14, 1))
        assert len(alerts(first.inbox(SUPERVISOR))) == 1
    # A new process on the same database: the next level fires, the first does not again.
    async with Desk(database_url, clock, emu=first.emu) as second:
        second.unread(SUPERVISOR)
        await second.tick(timedelta(hours=6))
        assert alerts(second.unread(SUPERVISOR)) == [] and second.inbox(EXECUTIVE) == []
        await second.at(local(29, 10, 0))
        assert len(second.inbox(EXECUTIVE)) == 1
        assert second.inbox(EXECUTIVE)[0].startswith(f"🚨🚨 {ref} ({CLASS1}): still no reply")
        await second.tick(timedelta(days=2))
        assert len(second.inbox(EXECUTIVE)) == 1 and alerts(second.unread(SUPERVISOR)) == []


async def test_a_case_nobody_records_reaches_the_supervisor_after_two_office_hours(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk, kind="Suggestion")  # Friday 10:00
    for who in (RECEPTIONIST, SUPERVISOR):
        desk.unread(who)
    await desk.at(local(27, 11, 0))
    assert [m.split("\n")[0] for m in alerts(desk.unread(RECEPTIONIST), ref)] == [
        f"⏰ {ref} (suggestion) has been waiting 1 h for the front desk to record it."
    ]
    assert alerts(desk.unread(SUPERVISOR), ref) == []
    await desk.at(local(27, 12, 0))
    told = alerts(desk.unread(SUPERVISOR), ref)
    assert [m.split("\n")[0] for m in told] == [
        f"⏰ {ref} (suggestion) has been waiting 2 h for the front desk to record it."
    ]
    assert "The front desk has been reminded; please see that it is recorded." in told[0]
    await desk.tick(timedelta(days=3))
    assert alerts(desk.unread(SUPERVISOR), ref) == []  # once


async def test_a_case_recorded_after_the_reminder_goes_no_further(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    desk.unread(SUPERVISOR)
    await desk.at(local(27, 11, 30))
    await record(desk, ref)
    await desk.at(local(27, 12, 30))
    assert [m for m in alerts(desk.unread(SUPERVISOR), ref) if "to record it" in m] == []


async def test_an_answer_not_passed_on_to_the_owner_is_chased_then_reaches_the_supervisor(
    desk: Desk,
) -> None:
    # ch.4 五: the owner is told the result; the desk holding an answer is the last step.
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)
    await desk.at(local(27, 13, 0))
    await answer(desk, result="Apologised in person")
    for who in (RECEPTIONIST, SUPERVISOR):
        desk.unread(who)
    await desk.at(local(27, 14, 0))
    reminded = alerts(desk.unread(RECEPTIONIST), ref)
    assert [m.split("\n")[0] for m in reminded] == [
        f"⏰ The answer on {ref} ({CLASS1}) has been waiting 1 h to be passed on to the owner."
    ]
    assert alerts(desk.unread(SUPERVISOR), ref) == []
    await desk.at(local(27, 15, 0))
    told = alerts(desk.unread(SUPERVISOR), ref)
    assert len(told) == 1 and "please see that the owner is told" in told[0]
    # The desk passes it on: nothing more fires.
    await desk.press(RECEPTIONIST, "Confirm and tell the owner")
    await desk.send(RECEPTIONIST, "The guard has apologised; it will not happen again")
    await desk.at(local(27, 17, 0))
    assert [m for m in alerts(desk.inbox(SUPERVISOR), ref) if "passed on" in m] == told


async def test_an_answer_sent_back_is_not_chased_as_if_it_waited_for_the_desk(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)
    await answer(desk)
    await desk.press(RECEPTIONIST, "Send back")
    await desk.send(RECEPTIONIST, "Please say what was done to prevent it")
    desk.unread(RECEPTIONIST)
    await desk.tick(timedelta(hours=2))
    assert [m for m in desk.unread(RECEPTIONIST) if "passed on to the owner" in m] == []


CLASS3 = "3 · outside the planning red line"


async def _asked_on_class_3(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk, text="The road outside the east gate floods after every rain")
    await record(desk, ref, CLASS3)  # Friday 27 Nov 10:00: due Monday 30 Nov 10:00
    await desk.press(HANDLER, "Ask my superior")
    await desk.send(HANDLER, "It needs the district roads office")
    for who in (RECEPTIONIST, SUPERVISOR, EXECUTIVE, HANDLER):
        desk.unread(who)
    return ref


async def test_a_handler_who_asked_their_superior_is_chased_for_a_report_after_24_office_hours(
    desk: Desk,
) -> None:
    # ch.4 四: ask the superior within 2 hours, and report to the front desk within 24 hours.
    ref = await _asked_on_class_3(desk)
    # 24 office hours after Friday 10:00 (08:30-17:30 daily): Sunday 29 Nov 16:00
    await desk.at(local(29, 15, 59))
    assert alerts(desk.unread(HANDLER)) == [] and alerts(desk.unread(RECEPTIONIST)) == []
    await desk.tick(timedelta(minutes=1))
    assert alerts(desk.unread(HANDLER)) == [
        f"⏰ {ref}: you asked your superior for instructions. Please tell the front desk how it "
        "is being handled: within 24 office hours of the order (ch.4 四), that was "
        "29 Nov 2026, 16:00."
    ]
    assert alerts(desk.unread(RECEPTIONIST)) == [
        f"⏰ {ref} (class 3 (outside the planning red line)): no word from Hu Area 24 office "
        "hours after the order; they asked their superior on 27 Nov 2026, 10:00. The order is "
        "due by 30 Nov 2026, 10:00."
    ]
    assert await desk.press(HANDLER, "Report progress") == [
        f"How is {ref} being handled? Write it for the front desk.\nSend /cancel to stop."
    ]
    assert await desk.send(HANDLER, "The roads office comes on Monday morning") == [
        f"The front desk has your report on {ref}."
    ]
    assert desk.unread(RECEPTIONIST) == [
        f"📨 Hu Area reports on {ref} (class 3 (outside the planning red line)): The roads "
        "office comes on Monday morning\nThe order is due by 30 Nov 2026, 10:00."
    ]
    history = "\n".join(await desk.send(RECEPTIONIST, f"/ticket {ref}"))
    assert "progress reported to the front desk · Hu Area" in history


async def test_a_report_in_time_stops_the_chase_and_class_1_has_none(desk: Desk) -> None:
    ref = await _asked_on_class_3(desk)
    await desk.at(local(28, 9, 0))
    await desk.send(HANDLER, f"/ticket {ref}")
    await desk.press(HANDLER, "Report progress")
    await desk.send(HANDLER, "Called the roads office, waiting for their visit")
    await desk.at(local(29, 16, 1))
    assert alerts(desk.unread(HANDLER)) == [] and alerts(desk.unread(RECEPTIONIST), ref) == []
    # A class 1 case is due in 4 office hours: its reply is the report, no second chase.
    ref1 = await file_case(desk, owner=OWNER)
    await record(desk, ref1)
    await desk.press(HANDLER, "Ask my superior")
    await desk.send(HANDLER, "Not sure whose fault it is")
    assert "complaint.feedback" not in {d.kind for d in await deadlines(desk, ref1)}


async def test_a_case_sent_back_is_a_new_order_with_its_own_report_to_chase(desk: Desk) -> None:
    ref = await _asked_on_class_3(desk)
    await answer(desk)
    await desk.press(RECEPTIONIST, "Send back")
    await desk.send(RECEPTIONIST, "The owner says nothing happened")  # new order, Fri 10:00
    await desk.send(HANDLER, f"/ticket {ref}")
    # not asked about this order yet: nothing to report on
    assert "Report progress" not in [t for t, _ in desk.emu.buttons(desk.emu.last(HANDLER))]
    await desk.press(HANDLER, "Ask my superior")
    await desk.send(HANDLER, "Still waiting for the roads office")
    desk.unread(HANDLER)
    await desk.at(local(29, 16, 1))
    assert alerts(desk.unread(HANDLER))[0].startswith(
        f"⏰ {ref}: you asked your superior for instructions."
    )


async def test_giving_an_unanswered_case_to_someone_else_keeps_the_two_days_to_the_executive(
    desk: Desk,
) -> None:
    # 4.2.4: two days without any reply go to the executive; a new holder does not restart
    # the owner's wait. The executive is told once, not again after a further change.
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)  # Friday 27 Nov 10:00, due 14:00; executive on 29 Nov 10:00
    await desk.at(local(28, 10, 0))
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Give to someone else")
    given = await desk.press(RECEPTIONIST, "Chen Lead · team lead")
    assert given[0].startswith(f"{ref}: work-contact order sent to Chen Lead, due by ")
    desk.unread(EXECUTIVE)
    await desk.at(local(29, 9, 59))
    assert desk.unread(EXECUTIVE) == []
    await desk.at(local(29, 10, 1))
    told = desk.unread(EXECUTIVE)
    assert len(told) == 1 and told[0].startswith(
        f"🚨🚨 {ref} ({CLASS1}): still no reply 2 d after the first work-contact order; given "
        "to Chen Lead on 28 Nov 2026, 10:00, due by "
    ), told
    # given on again: the executive already knows; nothing more to them
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Give to someone else")
    await desk.press(RECEPTIONIST, "Hu Area · service officer")
    await desk.tick(timedelta(days=5))
    assert desk.unread(EXECUTIVE) == []
    executive = [d for d in await deadlines(desk, ref) if d.level == 2]
    assert len([d for d in executive if d.fired_at is not None]) == 1
    assert all(d.fired_at is not None or d.done_at is not None for d in executive)
