"""Who may do what on a repair, and the limits against abuse."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import DEFAULT_CATEGORIES, FeeItem, LocalizedText, RepairCategory
from models.repair import Fee, Repair
from models.repair_deadlines import daily_counts, report_period
from models.ticket import Ticket, TicketEvent
from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    CASHIER,
    OWNER,
    OWNER2,
    RECEPTIONIST,
    SERVICE,
    SUPERVISOR,
    TECH,
    TECH2,
    dispatched_to_zhang,
    file_home_repair,
    file_public_repair,
    staffed,
    ticket,
)


async def _events(desk: Desk) -> int:
    async with desk.session() as s:
        return int(await s.scalar(select(func.count()).select_from(TicketEvent)) or 0)


async def test_forged_staff_buttons_from_an_owner_change_nothing(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    t = await ticket(desk, ref)
    tech = await desk.person(TECH)
    any_message = desk.emu.last(OWNER)
    before = await _events(desk)
    for data in (
        f"r:dsp:{t.id}:{tech.id}",
        f"r:done:{t.id}",
        f"r:fu:{t.id}:y",
        f"r:rate:{t.id}:5",
        f"r:dsp:999999:{tech.id}",
        "r:dsp:x:y",
        "r:acc:1:2:3:4",
    ):
        await desk.press_data(OWNER, any_message, data)
        assert desk.last_answer() in {
            "You are not allowed to do this.",
            "This button is out of date. Nothing was changed.",
            f"{ref} is now in a state where this is no longer possible (waiting for dispatch).",
        }, data
    assert await _events(desk) == before
    assert (await ticket(desk, ref)).state == "new"


async def test_a_technician_cannot_act_on_a_job_dispatched_to_someone_else(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    order = desk.with_button(TECH, "Arrived")
    t = await ticket(desk, ref)
    for action in ("acc", "arr", "done", "mat", "fee", "pau"):
        await desk.press_data(TECH2, order, f"r:{action}:{t.id}")
        assert desk.last_answer() == "You are not allowed to do this."
    assert (await ticket(desk, ref)).state == "dispatched"


async def test_a_stale_dispatch_button_cannot_take_the_job_from_its_technician(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.staff(2002, "receptionist", name="Second Desk", lang="en")
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(2002, "Dispatch → Liu Qiang")
    assert desk.last_answer() == (
        f"{ref} is now in a state where this is no longer possible (dispatched)."
    )
    assert (await ticket(desk, ref)).assignee_id == (await desk.person(TECH)).id
    # Reassigning is its own deliberate action.
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    assert desk.unread(TECH)[-1] == (
        f"{ref} has been reassigned to Liu Qiang; you no longer need to attend."
    )
    assert "Work order (维修单)" in desk.unread(TECH2)[-1]


async def test_not_fixed_reopens_the_repair_and_alerts_the_receptionists(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    desk.unread(RECEPTIONIST)
    await desk.press(OWNER, "Not fixed")
    replies = await desk.send(OWNER, "Still dripping")
    assert replies == [f"Sorry about that. {ref} has been reopened and the front desk alerted."]
    alerts = desk.unread(RECEPTIONIST)
    assert f"🔁 Repair reopened: {ref}" in alerts[0]
    assert alerts[1] == f"⚠️ {ref} was reported NOT fixed: Still dripping"
    assert desk.unread(TECH)[-1] == f"⚠️ {ref} was reported not fixed: Still dripping"
    t = await ticket(desk, ref)
    assert t.state == "new" and t.assignee_id is None


async def test_unhappy_follow_up_reopens_to_the_maintenance_team(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★")
    await desk.press(RECEPTIONIST, "Not satisfied")
    await desk.send(RECEPTIONIST, "Leaks again under the sink")
    assert (await ticket(desk, ref)).state == "new"
    assert any(f"🔁 Repair reopened: {ref}" in m for m in desk.unread(RECEPTIONIST))


async def test_a_reopened_repair_is_signed_and_commented_afresh_on_its_second_visit(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★")
    await desk.send(OWNER, "First visit: still drips a bit")
    await desk.press(RECEPTIONIST, "Not satisfied")
    await desk.send(RECEPTIONIST, "Leaks again")
    async with desk.session() as s:
        repair = await s.get(Repair, (await ticket(desk, ref)).id)
        assert repair is not None
        assert (repair.rating_comment, repair.confirmed_by_id, repair.arrived_at) == (
            None, None, None,
        )  # fmt: skip
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    await desk.press(TECH2, "Arrived")
    await desk.press(TECH2, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★★★★")
    assert await desk.send(OWNER, "Second visit fixed it") == ["Thank you for your comment."]
    assert not any("First visit" in m for m in desk.unread(RECEPTIONIST)[-2:])
    async with desk.session() as s:
        repair = await s.get(Repair, (await ticket(desk, ref)).id)
        assert repair is not None and repair.rating_comment == "Second visit fixed it"


async def test_the_eleventh_request_of_a_day_is_refused(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    problems = [
        "Kitchen tap drips", "Bathroom light flickers", "Front door lock sticks",
        "Balcony drain is blocked", "Radiator in bedroom is cold", "Gas smell near the meter",
        "Intercom does not ring", "Window handle came off", "Socket in hall sparks",
        "Toilet cistern keeps running",
    ]  # fmt: skip
    for problem in problems:
        await file_home_repair(desk, text=problem, photos=0)
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, "Yet another, different problem entirely")
    await desk.press(OWNER, "Skip photos")
    await desk.press(OWNER, "As soon as possible")
    replies = await desk.press(OWNER, "Submit")
    assert replies == [
        "You have filed 10 repair requests today, the most allowed in one day. Please call the "
        "front desk if it is urgent.",
        "Nothing was submitted.",
    ]
    assert await desk.send(OWNER, "/cancel") == ["There is nothing to cancel."]  # not stuck
    async with desk.session() as s:
        assert await s.scalar(select(func.count()).select_from(Ticket)) == 10
    desk.clock.advance(timedelta(days=1))
    await file_home_repair(desk, text="Next day problem", photos=0)


async def test_a_duplicate_of_an_open_request_is_pointed_out_instead_of_filed(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, text="The kitchen tap drips all night")
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, "the kitchen tap drips all night!")
    await desk.press(OWNER, "Skip photos")
    await desk.press(OWNER, "As soon as possible")
    replies = await desk.press(OWNER, "Submit")
    assert replies == [
        f"You already have an open request for this: {ref}. It was not filed again; send "
        f"/ticket {ref} to follow it or urge it.",
        "Nothing was submitted.",
    ]


async def test_public_repair_is_confirmed_by_the_area_service_officer(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert "Location: Building 1, unit 2, 3rd floor (building 1)" in desk.unread(TECH)[-1]
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    assert f"✅ Repair {ref} is done." in desk.unread(SERVICE)[-1]
    # The owner who reported it cannot sign a public repair.
    t = await ticket(desk, ref)
    await desk.press_data(OWNER, desk.emu.last(OWNER), f"r:rate:{t.id}:5")
    assert desk.last_answer() == "You are not allowed to do this."
    await desk.press(SERVICE, "Confirm and rate")
    await desk.press(SERVICE, "★★★★")
    # The officer's signature closes it: the follow-up call is for in-home repairs (ch.3 7).
    closed = await ticket(desk, ref)
    assert closed.state == "closed" and closed.closed_at is not None
    assert not any("Follow-up call" in m for m in desk.unread(RECEPTIONIST))


async def test_unsigned_public_repair_is_closed_and_the_supervisor_told(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(
        desk,
        category="Drainage",
        text="Drain in the courtyard is blocked",
        place="Courtyard behind building 1",
    )
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    desk.unread(SUPERVISOR)
    await desk.tick(timedelta(hours=48))
    assert [m for m in desk.unread(SUPERVISOR) if m.startswith("🚨 Public repair")] == [
        f"🚨 Public repair {ref} was not confirmed by the area's service officer within 48 "
        "hours; it has been closed as unconfirmed."
    ]
    assert (await ticket(desk, ref)).state == "unconfirmed"


async def test_daily_report_numbers_match_the_database(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-3-502", lang="en")
    ref1 = await file_home_repair(desk, photos=0)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await file_home_repair(desk, OWNER2, text="Door lock is stuck", photos=0)

    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★★★")
    desk.unread(SUPERVISOR)
    await desk.at(desk.clock.now().replace(hour=9, minute=30))  # 17:30 in Shanghai
    report = desk.unread(SUPERVISOR)
    assert report[-1:] == [
        "📊 Daily report (客服中心日报表), 26 Nov 2026, 17:30 – 27 Nov 2026, 17:30\n"
        "In-home repairs: filed 2, dispatched 1, done 1, overdue 1, average rating 4.0\n"
        "Public repairs: filed 0, dispatched 0, done 0, overdue 0, average rating —"
    ]
    async with desk.session() as s:
        start, end = report_period(desk.clock.now(), desk.rt.env)
        counts = await daily_counts(s, start, end, desk.rt.env)
    assert counts["home"].filed == 2 and counts["home"].ratings == [4]
    assert ref1
    # The next report is scheduled for tomorrow, once.
    await desk.tick(timedelta(hours=1))
    assert desk.unread(SUPERVISOR) == []
    await desk.tick(timedelta(hours=23))
    assert desk.unread(SUPERVISOR)[0].startswith(
        "📊 Daily report (客服中心日报表), 27 Nov 2026, 17:30 – 28 Nov 2026, 17:30"
    )


async def test_what_happens_after_the_evening_report_is_in_the_next_days_report(
    desk: Desk,
) -> None:
    # A repair filed at 18:00 and dispatched at 21:00 was in no report when each report
    # counted its calendar day but was sent at 17:30.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.at(desk.clock.now().replace(hour=10, minute=0))  # 18:00 in Shanghai
    await file_home_repair(desk, photos=0)
    await desk.at(desk.clock.now().replace(hour=13, minute=0))  # 21:00
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.at(desk.clock.now().replace(hour=16, minute=30))  # 00:30, the next day
    desk.unread(SUPERVISOR)
    assert (await desk.send(SUPERVISOR, "/report"))[0].startswith(
        "📊 Daily report (客服中心日报表), 27 Nov 2026, 17:30 – 28 Nov 2026, 00:30\n"
        "In-home repairs: filed 1, dispatched 1,"
    )
    await desk.at(datetime(2026, 11, 28, 9, 30, tzinfo=UTC))  # 28 Nov, 17:30
    assert desk.unread(SUPERVISOR)[-1].startswith(
        "📊 Daily report (客服中心日报表), 27 Nov 2026, 17:30 – 28 Nov 2026, 17:30\n"
        "In-home repairs: filed 1, dispatched 1,"
    )


async def test_a_notice_for_a_role_nobody_holds_goes_to_the_supervisors(desk: Desk) -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang Fang", lang="en")
    await desk.staff(TECH, "technician", name="Zhang Wei", lang="en")
    await desk.staff(SUPERVISOR, "supervisor", name="Sun Boss", lang="en")  # no cashier
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Record fee")
    await desk.send(TECH, "20")
    await desk.send(TECH, "new washer")
    assert [m for m in desk.unread(SUPERVISOR) if "Fee recorded" in m] == [
        "(For the cashier, but nobody holds that role:)\n"
        f"💰 Fee recorded on {ref} by Zhang Wei: CN¥20.00 (new washer). Invoice to be "
        "delivered to the owner."
    ]


async def test_reassigning_to_the_same_technician_is_refused_clearly(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk)
    t = await ticket(desk, ref)
    tech = await desk.person(TECH)
    forged = f"r:rsg:{t.id}:{tech.id}:{tech.id}"  # (to Zhang Wei, from Zhang Wei)
    await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), forged)
    assert desk.last_answer() == f"{ref} is already assigned to Zhang Wei."


async def test_a_charged_repair_shows_its_fees_and_is_filed_only_once_they_are_accepted(
    database_url: str, clock: ManualClock
) -> None:
    # Seed ch.3 step 1: the owner is told the fee items and amounts before anything is filed.
    lock = RepairCategory(
        code="lock",
        name=LocalizedText(zh_CN="门锁", en="Door lock"),
        fees=[FeeItem(item=LocalizedText(zh_CN="更换锁芯", en="New lock cylinder"),
                      amount=Decimal("35.00"))],
    )  # fmt: skip
    async with Desk(database_url, clock, repair_categories=[*DEFAULT_CATEGORIES, lock]) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")

        async def up_to_fees(text: str) -> list[str]:
            await desk.send(OWNER, "/repair")
            await desk.press(OWNER, "In my home")
            await desk.press(OWNER, "Door lock")
            await desk.send(OWNER, text)
            await desk.press(OWNER, "Skip photos")
            return await desk.press(OWNER, "As soon as possible")

        shown = await up_to_fees("The front door lock is jammed")
        assert shown == [
            "This kind of repair is charged. The fees are:\n"
            "• New lock cylinder: CN¥35.00\n"
            "Materials, if any are needed, are charged at their listed price."
        ]
        assert await desk.press(OWNER, "Do not file") == ["Cancelled. Nothing was submitted."]
        async with desk.session() as s:
            assert await s.scalar(select(func.count()).select_from(Ticket)) == 0

        await up_to_fees("The front door lock is jammed")
        await desk.press(OWNER, "I accept the fees")
        assert (await desk.press(OWNER, "Submit"))[0].startswith("✅ Your repair request")
        async with desk.session() as s:
            repair = (await s.execute(select(Repair))).scalar_one()
        assert repair.category == "lock"
        assert repair.fees_accepted == [
            {"item": {"zh_CN": "更换锁芯", "en": "New lock cylinder"}, "amount": "35.00"}
        ]


async def test_the_cashier_marks_a_fees_invoice_delivered_once(desk: Desk) -> None:
    # Seed ch.3 step 5: fees charged on site are invoiced to the owner; the cashier says when.
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Record fee")
    await desk.send(TECH, "50")
    await desk.send(TECH, "labour")
    notice = desk.with_button(CASHIER, "Invoice delivered")
    assert notice.content.startswith(f"💰 Fee recorded on {ref} by Zhang Wei: CN¥50.00 (labour).")
    data = next(d for text, d in desk.emu.buttons(notice) if text == "Invoice delivered")
    await desk.press_data(TECH, notice, data)
    assert desk.last_answer() == "You are not allowed to do this."
    await desk.press(CASHIER, "Invoice delivered", notice)
    assert desk.last_answer() == f"The invoice for {ref} is marked as delivered."
    async with desk.session() as s:
        fee = (await s.execute(select(Fee))).scalar_one()
        assert fee.invoice_delivered_at == desk.clock.now()
    assert await desk.press_data(CASHIER, notice, data) == [
        "This button is out of date. Nothing was changed."
    ]
    card = "\n".join(await desk.send(RECEPTIONIST, f"/ticket {ref}"))
    assert "invoice delivered · Zhou Cash" in card
