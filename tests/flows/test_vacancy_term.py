"""The end of a vacancy: the reminder before the end date (5.2.7), re-applying, the return to
100 % at the end date (5.2.6), and the owner cancelling early, which creates a restore order."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models.deadline import Deadline
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    CASHIER,
    OWNER,
    RECEPTIONIST,
    SERVICE,
    SUPERVISOR,
    TECH,
    TECH2,
    apply,
    approve,
    clear,
    shut_off,
    staffed,
    ticket,
)

MIN = timedelta(minutes=1)


def local(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


async def _vacant(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk)
    clear(desk)
    return ref


async def test_reminder_before_the_end_date_then_back_to_100_percent_at_the_end(
    desk: Desk,
) -> None:
    ref = await _vacant(desk)
    assert await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-01") == [
        "Unit 1-2-301 on 1 Mar 2027: property fee and shared utilities at 50 %.\n"
        f"Vacancy {ref}: 50 %, 1 Dec 2026 until 2 Mar 2027."
    ]
    assert await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-02") == [
        "Unit 1-2-301 on 2 Mar 2027: property fee and shared utilities at 100 %."
    ]
    # 14 days before the end date, when the office opens.
    await desk.at(local(2027, 2, 16, 8, 29))
    assert desk.unread(OWNER) == []
    await desk.tick(MIN)
    assert desk.unread(OWNER) == [
        f"⏰ Your vacancy {ref} for unit 1-2-301 ends on 2 Mar 2027; from then property fee and "
        "shared utilities are at 100 % again. To stay vacant you need a new application (with "
        "your original ID at the office again)."
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["Apply again", "Let it end"]
    assert await desk.press(OWNER, "Let it end") == [
        f"Noted: {ref} ends on 2 Mar 2027, and fees are at 100 % as of that day."
    ]
    clear(desk, OWNER, CASHIER, RECEPTIONIST)
    # The end date: 100 % again, the cashier told, water and electricity to be restored.
    await desk.at(local(2027, 3, 2, 8, 29))
    assert desk.unread(OWNER) == [] and desk.unread(CASHIER) == []
    await desk.tick(MIN)
    assert desk.unread(OWNER) == [
        f"Your vacancy {ref} ended on 2 Mar 2027: property fee and shared utilities are at 100 % "
        "as of that day.\nA technician will turn water and electricity back on and read the "
        "meters."
    ]
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): vacancy period over; 100 % again from "
        "2 Mar 2027."
    ]
    order = desk.unread(RECEPTIONIST)
    assert len(order) == 1 and order[0].startswith(f"🔌 Restore order for {ref}\n")
    card = await desk.send(OWNER, f"/ticket {ref}")
    assert (
        "— water and electricity to be turned back on\nFee rate in force today: 100 %" in (card[0])
    )
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Record restore")
    await desk.send(TECH, "120.8")
    await desk.send(TECH, "3051")
    await desk.press(TECH, "Water and electricity are ON: save")
    assert desk.unread(OWNER)[-1] == (
        f"Water and electricity of 1-2-301 are back on ({ref}). Meter readings: water 120.8 t, "
        "electricity 3,051 kWh."
    )
    t = await ticket(desk, ref)
    assert t.state == "ended" and t.closed_at is not None
    assert [e.action for e in t.events][-5:] == [
        "reminded",
        "will_end",
        "term_ended",
        "restore_dispatched",
        "restored",
    ]


async def test_applying_again_from_the_reminder_starts_on_the_old_end_date(desk: Desk) -> None:
    ref = await _vacant(desk)
    await desk.at(local(2027, 2, 16, 8, 30))
    first = await desk.press(OWNER, "Apply again")
    assert first[0].startswith("From which date will the unit be vacant?")
    options = [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))]
    assert options[0] == "2 Mar 2027"
    ends = await desk.press(OWNER, "2 Mar 2027")
    assert "the end date is 3 Jun 2027 or later" in ends[0]
    await desk.press(OWNER, "3 Jun 2027")
    await desk.send(OWNER, "Still abroad")
    await desk.press(OWNER, "I have read and accept")
    filed = await desk.press(OWNER, "Submit")
    new_ref = filed[0].rsplit(" ", 1)[1]
    assert new_ref == "V-20270216-001"
    assert [e.action for e in (await ticket(desk, ref)).events][-1] == "renewed"
    # The new application needs the ID again and its own approval (5.2.7).
    await desk.press(SERVICE, "Original ID seen", desk.with_button(SERVICE, "Original ID seen"))
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, "Same owner, continuing")
    await desk.press(SUPERVISOR, "Approve")
    for day, rate in (
        ("2027-03-01", 50),
        ("2027-03-02", 50),
        ("2027-06-02", 50),
        ("2027-06-03", 100),
    ):
        answer = await desk.send(CASHIER, f"/fee_rate 1-2-301 {day}")
        assert f"utilities at {rate} %." in answer[0], day
    assert new_ref in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-02"))[0]


async def _renewed(desk: Desk) -> tuple[str, str]:
    """A vacant unit whose owner applied again from the reminder and was approved."""
    ref = await _vacant(desk)
    await desk.at(local(2027, 2, 16, 8, 30))
    await desk.press(OWNER, "Apply again")
    await desk.press(OWNER, "2 Mar 2027")
    await desk.press(OWNER, "3 Jun 2027")
    await desk.send(OWNER, "Still abroad")
    await desk.press(OWNER, "I have read and accept")
    new_ref = (await desk.press(OWNER, "Submit"))[0].rsplit(" ", 1)[1]
    await desk.press(SERVICE, "Original ID seen", desk.with_button(SERVICE, "Original ID seen"))
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, "Same owner, continuing")
    clear(desk)
    await desk.press(SUPERVISOR, "Approve")
    return ref, new_ref


async def test_an_approved_renewal_keeps_water_and_electricity_off_from_one_to_the_next(
    desk: Desk,
) -> None:
    # 5.2.7/5.2.8: the unit stays vacant; its water and electricity stay off
    ref, new_ref = await _renewed(desk)
    assert desk.unread(OWNER) == [
        f"✅ Your vacancy application {new_ref} is approved. Property fee and shared utilities "
        "are at 50 % as of 2 Mar 2027; from 3 Jun 2027 they are at 100 % again. It follows on "
        f"from {ref}: water and electricity stay off."
    ]
    assert desk.unread(RECEPTIONIST) == []  # no shut-off order
    assert (await ticket(desk, new_ref)).state == "vacant"
    clear(desk)
    await desk.at(local(2027, 3, 2, 8, 31))  # the old one's end date
    assert (await ticket(desk, ref)).state == "ended"
    assert desk.unread(RECEPTIONIST) == []  # no restore order
    assert desk.unread(CASHIER) == []  # the rate does not change
    assert desk.unread(OWNER) == [
        f"Your vacancy {ref} ended on 2 Mar 2027; {new_ref} continues from that day: fees stay "
        "at 50 %, water and electricity stay off."
    ]
    assert "utilities at 50 %." in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-02"))[0]
    # and at the renewal's own end, the unit is turned back on as usual
    clear(desk)
    await desk.at(local(2027, 6, 3, 8, 31))
    assert (await ticket(desk, new_ref)).state == "restore"
    assert desk.unread(RECEPTIONIST)[0].startswith(f"🔌 Restore order for {new_ref}")


async def test_cancelling_one_of_a_renewal_pair_does_not_turn_the_water_back_on(
    desk: Desk,
) -> None:
    ref, new_ref = await _renewed(desk)
    clear(desk)
    # the owner will not need the second period after all
    await desk.send(OWNER, f"/ticket {new_ref}")
    assert await desk.press(OWNER, "Cancel application") == [
        f"Cancel {new_ref}?\n{new_ref} is then dropped: from 2 Mar 2027 the fee stays at "
        f"100 %, not 50 %. Your current vacancy {ref} goes on as approved until 2 Mar 2027; "
        "water and electricity are turned back on then."
    ]
    assert await desk.press(OWNER, "Yes, cancel it") == [f"{new_ref} has been cancelled."]
    assert (await ticket(desk, new_ref)).state == "cancelled"
    assert (await ticket(desk, ref)).state == "vacant"  # the first goes on, water off
    assert [m for m in desk.unread(RECEPTIONIST) if m.startswith("🔌 Restore order")] == []
    # so at its end date it is turned back on
    await desk.at(local(2027, 3, 2, 8, 31))
    assert (await ticket(desk, ref)).state == "restore"


async def test_cancelling_the_running_period_of_a_renewal_pair_says_water_stays_off(
    desk: Desk,
) -> None:
    """The owner is told what will happen: no technician comes, the approved renewal keeps the
    unit shut off and at 50 % from its own start."""
    ref, new_ref = await _renewed(desk)
    await desk.at(local(2027, 2, 20, 10))
    clear(desk)
    await desk.send(OWNER, f"/ticket {ref}")
    assert await desk.press(OWNER, "Cancel application") == [
        f"Cancel {ref}?\nFees return to 100 % as of today. Water and electricity stay off: your "
        f"next application {new_ref} still runs from 2 Mar 2027, at 50 %. To have them turned "
        f"back on, cancel {new_ref} as well."
    ]
    assert await desk.press(OWNER, "Yes, cancel it") == [f"{ref} has been cancelled."]
    assert [m for m in desk.unread(RECEPTIONIST) if m.startswith("🔌 Restore order")] == []
    assert (await ticket(desk, new_ref)).state == "vacant"
    assert "at 100 %" in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-02-21"))[0]
    assert "at 50 %" in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-02"))[0]


async def test_owner_cancels_early_from_my_and_a_restore_order_is_created(desk: Desk) -> None:
    ref = await _vacant(desk)
    await desk.at(local(2026, 12, 15, 10))
    clear(desk)
    listing = await desk.send(OWNER, "/my")
    assert "Fee rate in force today: 50 %" in listing[0]
    await desk.press(OWNER, ref)
    assert await desk.press(OWNER, "Cancel application") == [
        f"Cancel {ref}?\nFees return to 100 % as of today, and a technician will turn water and "
        "electricity back on and read the meters."
    ]
    assert await desk.press(OWNER, "Yes, cancel it") == [
        f"{ref} is cancelled. A technician will turn water and electricity back on."
    ]
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): cancelled early by the owner; 100 % again "
        "from 15 Dec 2026."
    ]
    order = desk.unread(RECEPTIONIST)
    assert order[0].startswith(f"🔌 Restore order for {ref}\n")
    assert order[0].endswith(
        "Water and electricity back on and both meters read; due by 16 Dec 2026, 17:30."
    )
    assert "Fee rate in force today: 100 %" in (await desk.send(OWNER, "/my"))[0]
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2026-12-14"))[0].endswith(
        f"50 %.\nVacancy {ref}: 50 %, 1 Dec 2026 until 15 Dec 2026."
    )
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    assert desk.unread(TECH2)[0].startswith(f"📋 Restore order {ref} — assigned to you")
    await desk.press(TECH2, "Record restore")
    await desk.send(TECH2, "120.5")
    await desk.send(TECH2, "3050.2")
    await desk.press(TECH2, "Water and electricity are ON: save")
    t = await ticket(desk, ref)
    assert t.state == "cancelled" and t.assignee_id is None
    # Cancelled: no end reminder, no end-date notice.
    await desk.tick(timedelta(days=100))
    assert [m for m in desk.unread(OWNER) if "ends on" in m or "ended on" in m] == []


async def test_withdrawing_before_approval_tells_the_officer_and_stops_the_deadlines(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    clear(desk)
    await desk.send(OWNER, f"/ticket {ref}")
    assert await desk.press(OWNER, "Cancel application") == [f"Cancel {ref}?"]
    question = desk.with_button(OWNER, "Yes, cancel it")
    assert await desk.press(OWNER, "Yes, cancel it") == [f"{ref} has been cancelled."]
    assert desk.unread(SERVICE) == [f"{ref} was withdrawn by the owner."]
    assert desk.unread(CASHIER) == []
    async with desk.session() as s:
        t = await ticket(desk, ref)
        waiting = (
            await s.execute(
                select(Deadline).where(
                    Deadline.ticket_id == t.id,
                    Deadline.done_at.is_(None),
                    Deadline.fired_at.is_(None),
                )
            )
        ).all()
        assert waiting == []
    assert (await desk.press_data(OWNER, question, f"v:cxy:{t.id}"))[0] == (
        f"{ref} is now in a state where this is no longer possible (cancelled)."
    )


async def test_heavy_use_found_at_the_restore_visit_counts_as_occupied_from_the_last_reading(
    desk: Desk,
) -> None:
    # 5.2.6: more than 1 t of water a month used while the water was meant to be off. The
    # restore visit is the last reading of the vacancy, so it is checked like a monthly one.
    ref = await _vacant(desk)  # shut off on 27 Nov at 120.50 t / 3050.2 kWh
    await desk.at(local(2026, 12, 15, 10))
    await desk.send(OWNER, "/my")
    await desk.press(OWNER, ref)
    await desk.press(OWNER, "Cancel application")
    await desk.press(OWNER, "Yes, cancel it")
    clear(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Record restore")
    await desk.send(TECH, "126.5")
    await desk.send(TECH, "3051")
    await desk.press(TECH, "Water and electricity are ON: save")
    numbers = (
        "water 6 t and electricity 0.8 kWh used since 1 Dec 2026, 08:00 (the limits are 1 t "
        "and 5 kWh a month)"
    )
    assert desk.unread(OWNER) == [
        "The meter readings taken when the water and electricity of 1-2-301 were turned back "
        f"on show {numbers}. Under the vacancy rules the unit counts as occupied for that time: "
        f"property fee and shared utilities of {ref} are at 100 % as of 1 Dec 2026.",
        f"Water and electricity of 1-2-301 are back on ({ref}). Meter readings: water 126.5 t, "
        "electricity 3,051 kWh.",
    ]
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): the unit is in use ({numbers}); 100 % "
        "again from 1 Dec 2026."
    ]
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2026-12-14"))[0] == (
        "Unit 1-2-301 on 14 Dec 2026: property fee and shared utilities at 100 %."
    )
    t = await ticket(desk, ref)
    assert t.state == "cancelled"
    assert [e.action for e in t.events][-2:] == ["restored", "used_before_end"]


async def test_use_found_during_a_vacancy_also_ends_its_approved_renewal(desk: Desk) -> None:
    """5.2.6 视为入住收费: the unit is lived in, so the renewal that would take over at 50 %
    from the old end date ends too; owner and cashier are told of both."""
    ref, new_ref = await _renewed(desk)
    await desk.at(local(2027, 2, 20, 10))
    await desk.send(SUPERVISOR, "/weather_alert storm")
    clear(desk)
    await desk.press(SERVICE, "Inspect 1-2-301")
    await desk.send(SERVICE, "140.50")  # 20 t since the shut-off
    await desk.send(SERVICE, "3050.2")
    await desk.press(SERVICE, "Readings are right")
    await desk.press(SERVICE, "All in order")
    assert (await ticket(desk, ref)).state == "occupied"
    assert (await ticket(desk, new_ref)).state == "occupied"
    told = desk.unread(OWNER)
    assert len(told) == 2 and "counts as occupied" in told[0]
    assert told[1] == (
        f"As the unit was found in use during {ref}, your following vacancy {new_ref} (from "
        "2 Mar 2027) has ended too: property fee and shared utilities stay at 100 %. If the "
        "unit stands empty again, you can apply anew with /vacancy."
    )
    cashier = desk.unread(CASHIER)
    assert cashier[0].endswith("100 % again from 1 Dec 2026.")
    assert cashier[1] == (
        f"💰 Fee rate change, unit 1-2-301 ({new_ref}): ended with {ref} (the unit is in use): "
        "from 2 Mar 2027 the fee stays at 100 %, not 50 %."
    )
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-10"))[0].endswith("at 100 %.")


async def test_an_approved_vacancy_cancelled_before_it_begins_never_was_at_50(desk: Desk) -> None:
    # Approved on 27 Nov for 1 Dec: cancelled the next day, the fee was never reduced.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await desk.at(local(2026, 11, 28, 10))
    clear(desk)
    await desk.send(OWNER, f"/ticket {ref}")
    assert await desk.press(OWNER, "Cancel application") == [
        f"Cancel {ref}?\nIt has not begun yet (1 Dec 2026): the fee simply stays at 100 %."
    ]
    await desk.press(OWNER, "Yes, cancel it")
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): cancelled by the owner before it began; "
        "the fee stays at 100 %."
    ]


async def test_the_months_inspection_passes_to_the_renewal_that_takes_over(desk: Desk) -> None:
    """5.2.7/5.3: the March round is handed out on 1 March while the old application still
    runs; it ends on 2 March and its renewal takes over. The unit still has to be inspected
    that month, and what the visit finds concerns the renewal, not the ended application."""
    ref, new_ref = await _renewed(desk)
    for _ in range(3):  # the months the test skipped: no round is handed out late
        await desk.tick(MIN)
    await desk.at(local(2027, 3, 1, 8, 31))  # the March round
    announcement = desk.with_button(SERVICE, "Inspect 1-2-301")
    assert announcement.content.startswith("🔎 monthly inspection, building 1: inspect these")
    await desk.at(local(2027, 3, 2, 10))  # the old one has ended, the renewal runs
    assert (await ticket(desk, ref)).state == "ended"
    clear(desk)
    listed = await desk.send(SERVICE, "/inspections")
    assert "• 1-2-301 (vacant), monthly inspection due 31 Mar 2027, 17:30" in listed[0]
    # the button of the round's announcement, made while the old application ran
    await desk.press(SERVICE, "Inspect 1-2-301", announcement)
    await desk.send(SERVICE, "130.50")  # 10 t since the shut-off on 1 Dec
    asked = await desk.send(SERVICE, "3050.2")
    assert f"saving it ends vacancy {new_ref} as occupied" in asked[0]
    await desk.press(SERVICE, "Readings are right")
    done = await desk.press(SERVICE, "All in order")
    assert f"vacancy {new_ref} has ended" in done[0]
    assert (await ticket(desk, new_ref)).state == "occupied"
    assert [e.action for e in (await ticket(desk, ref)).events][-1] == "term_ended"
    assert "utilities at 100 %." in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-03-10"))[0]
