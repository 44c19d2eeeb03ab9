"""Repair defects found in review, each checked the way the person concerned notices it."""

from datetime import timedelta

from bot.clock import ManualClock
from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    LEAD,
    OWNER,
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

MIN = timedelta(minutes=1)


async def public_repair_done(desk: Desk) -> str:
    """A staffed office; the owner's public-area repair dispatched to Zhang Wei, who has
    arrived and pressed Done (the service officer signs next). Returns its reference."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    return ref


async def test_the_reporter_of_a_public_repair_hears_each_step_they_were_promised(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    desk.unread(OWNER)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert desk.unread(OWNER) == [f"Your repair {ref} has been dispatched to Zhang Wei."]
    await desk.press(TECH, "Arrived")
    assert desk.unread(OWNER) == [f"The technician has arrived for {ref}."]
    await desk.press(TECH, "Done")
    assert desk.unread(OWNER) == [
        f"The work on your repair {ref} is done. The area's service officer will check it "
        "and sign it off."
    ]
    await desk.press(SERVICE, "Confirm and rate")
    await desk.press(SERVICE, "★★★★")
    assert (await ticket(desk, ref)).state == "closed"
    assert desk.unread(OWNER) == [
        f"Your repair {ref} has been checked by the area's service officer and is closed. "
        "Thank you for reporting it."
    ]


async def test_the_reporter_of_a_public_repair_gets_the_apology_when_it_runs_late(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    desk.unread(OWNER)
    # Friday 10:00 + 24 office hours (08:30-17:30 daily) = Sunday 16:00, nothing reported done.
    await desk.tick(timedelta(days=2, hours=6))
    assert desk.unread(OWNER) == [
        f"We are sorry: your repair {ref} is taking longer than it should (now: technician "
        "on site). The office has been told and is following it up."
    ]


async def test_the_reporter_hears_when_the_service_officer_finds_a_public_repair_not_fixed(
    desk: Desk,
) -> None:
    ref = await public_repair_done(desk)
    desk.unread(OWNER)
    await desk.press(SERVICE, "Not fixed")
    await desk.send(SERVICE, "Light still flickers")
    assert desk.unread(OWNER) == [
        f"The area's service officer found that your repair {ref} is not fixed yet; it has "
        "gone back to the maintenance team."
    ]


async def test_the_front_desk_learns_how_a_public_repair_ended(desk: Desk) -> None:
    # seed ch.4 四.1: the result is reported back to the receptionist (客户接待员)
    ref = await public_repair_done(desk)
    desk.unread(RECEPTIONIST)
    await desk.press(SERVICE, "Confirm and rate")
    await desk.press(SERVICE, "★★★★")
    assert desk.unread(RECEPTIONIST) == [
        f"✅ Public repair {ref} was checked and signed off by the service officer Hu Area "
        "(rating 4/5); it is closed."
    ]


async def test_the_front_desk_learns_when_a_public_repair_is_closed_unsigned(desk: Desk) -> None:
    ref = await public_repair_done(desk)
    desk.unread(RECEPTIONIST)
    await desk.tick(timedelta(hours=48))
    assert [m for m in desk.unread(RECEPTIONIST) if m.startswith("🚨 Public repair")] == [
        f"🚨 Public repair {ref} was not confirmed by the area's service officer within 48 "
        "hours; it has been closed as unconfirmed."
    ]


async def test_an_owner_can_sign_a_done_repair_from_its_card_in_my(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.send(OWNER, "/my")
    await desk.press(OWNER, ref)
    card = desk.emu.last(OWNER)
    assert "done, waiting for confirmation" in card.content
    assert [b for b, _ in desk.emu.buttons(card)] == ["Confirm and rate", "Not fixed"]
    await desk.press(OWNER, "Confirm and rate", card)
    await desk.press(OWNER, "★★★★★")
    assert (await ticket(desk, ref)).state == "confirmed"


async def test_an_owner_can_report_not_fixed_from_the_ticket_card(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Not fixed", desk.emu.last(OWNER))
    await desk.send(OWNER, "Still drips")
    assert (await ticket(desk, ref)).state == "new"


async def test_an_owner_can_cancel_a_job_paused_for_parts_before_anyone_came(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk)
    await desk.press(TECH, "Accept")
    await desk.press(TECH, "Waiting for parts")
    await desk.send(TECH, "Valve DN15 ordered")
    assert (await ticket(desk, ref)).state == "paused"
    await desk.send(OWNER, f"/ticket {ref}")
    assert "Cancel request" in [b for b, _ in desk.emu.buttons(desk.emu.last(OWNER))]
    assert await desk.press(OWNER, "Cancel request") == [f"{ref} has been cancelled."]
    assert desk.unread(TECH)[-1] == f"{ref} was cancelled by the owner."
    assert (await ticket(desk, ref)).state == "cancelled"


async def test_an_owner_cannot_cancel_a_job_paused_after_the_technician_came(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Waiting for parts")
    await desk.send(TECH, "Valve DN15 ordered")
    await desk.send(OWNER, f"/ticket {ref}")
    assert "Cancel request" not in [b for b, _ in desk.emu.buttons(desk.emu.last(OWNER))]
    t = await ticket(desk, ref)
    replies = await desk.press_data(OWNER, desk.emu.last(OWNER), f"r:cxl:{t.id}")
    assert replies == [
        f"{ref} is now in a state where this is no longer possible (waiting for parts)."
    ]
    assert (await ticket(desk, ref)).state == "paused"


async def test_the_owner_is_told_when_the_front_desk_takes_the_job_back(desk: Desk) -> None:
    ref = await dispatched_to_zhang(desk)
    assert desk.unread(OWNER)[-1] == f"Your repair {ref} has been dispatched to Zhang Wei."
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    await desk.press(RECEPTIONIST, "Return to the queue")
    assert (await ticket(desk, ref)).state == "new"
    assert desk.unread(OWNER) == [
        f"Your repair {ref} has been taken back by the front desk and will be dispatched "
        "again; you will get a message when it is."
    ]
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    assert desk.unread(OWNER) == [f"Your repair {ref} has been dispatched to Liu Qiang."]


async def test_late_arrival_on_an_as_soon_as_possible_job_speaks_of_no_appointment(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk)  # "As soon as possible"
    desk.unread(TECH)
    desk.unread(LEAD)
    await desk.tick(16 * MIN)
    assert desk.unread(TECH) == [
        f"⏰ You should be at {ref} by now (15 minutes after the job was dispatched or "
        "resumed). Press Arrived when you are there."
    ]
    assert desk.unread(LEAD) == [
        f"⏰ Zhang Wei has not arrived at {ref} within 15 minutes of the job being dispatched "
        "or resumed."
    ]


async def test_a_four_character_chinese_description_is_filed(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER)  # zh_CN
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "入户维修")
    await desk.press(OWNER, desk.emu.buttons(desk.emu.last(OWNER))[0][0])
    replies = await desk.send(OWNER, "水管漏水")
    assert not any("太短" in r for r in replies), replies
    await desk.press(OWNER, "跳过照片")
    await desk.press(OWNER, "尽快上门")
    filed = await desk.press(OWNER, "提交")
    assert filed[0].startswith("✅ 报修已受理，维修单号：R-"), filed
    assert (await ticket(desk, filed[0].rsplit("：", 1)[1])).summary == "水管漏水"


async def test_a_one_character_description_is_still_refused(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER)  # zh_CN
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "入户维修")
    await desk.press(OWNER, desk.emu.buttons(desk.emu.last(OWNER))[0][0])
    replies = await desk.send(OWNER, "漏")
    assert replies[0] == "内容太短，请至少写 2 个字。"


async def test_the_service_officer_gets_the_daily_report_and_may_ask_for_it(desk: Desk) -> None:
    # seed ch.3 step 7 note 1: 客户服务员要分类汇总，分为入户维修和公共保修（客服中心日报表）
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await file_public_repair(desk)
    asked = await desk.send(SERVICE, "/report")
    assert asked[0].startswith("📊 Daily report (客服中心日报表), 26 Nov 2026, 17:30 – 27 Nov")
    assert "Public repairs: filed 1," in asked[0]
    desk.unread(SERVICE)
    desk.unread(SUPERVISOR)
    await desk.at(desk.clock.now().replace(hour=9, minute=30))  # 17:30 in Shanghai
    reports = [m for m in desk.unread(SERVICE) if m.startswith("📊 Daily report")]
    assert len(reports) == 1 and "Public repairs: filed 1," in reports[0]
    assert len([m for m in desk.unread(SUPERVISOR) if m.startswith("📊 Daily report")]) == 1


async def test_a_review_started_late_in_the_day_is_chased_30_clock_minutes_later(
    desk: Desk,
) -> None:
    # seed ch.3 step 4: 评审至返回现场维修不能超过30分钟 — the technician waits on site
    desk.clock.set(desk.clock.now().replace(hour=9, minute=0))  # 17:00 Shanghai
    ref = await dispatched_to_zhang(desk, arrived=True)
    desk.clock.advance(20 * MIN)  # 17:20
    await desk.press(TECH, "Technical review")
    await desk.send(TECH, "Pipe behind the wall may be cracked")
    desk.unread(LEAD)
    await desk.tick(29 * MIN)  # 17:49
    assert desk.unread(LEAD) == []
    await desk.tick(2 * MIN)  # 17:51, after closing time
    assert desk.unread(LEAD) == [
        f"⏰ The technical review of {ref} has taken more than 30 minutes; the technician "
        "must be back on site."
    ]


async def test_a_reassign_list_overtaken_by_a_colleague_is_refused_as_out_of_date(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk)
    await desk.staff(2002, "receptionist", name="Zhao Desk", lang="en")
    await desk.staff(3003, "technician", name="Ma Three", buildings=("1",), lang="en")
    # Both receptionists open the list while Zhang Wei has the job.
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    menu_a = desk.with_button(RECEPTIONIST, "Dispatch → Ma Three")
    await desk.send(2002, f"/ticket {ref}")
    await desk.press(2002, "Dispatch / reassign")
    await desk.press(2002, "Dispatch → Liu Qiang")
    liu = await desk.person(TECH2)
    assert (await ticket(desk, ref)).assignee_id == liu.id
    desk.unread(TECH2)
    desk.unread(OWNER)
    # A presses her old list: Liu keeps the job and A is told why.
    await desk.press(RECEPTIONIST, "Dispatch → Ma Three", menu_a)
    assert desk.last_answer() == (
        f"{ref} has been given to Liu Qiang since this list was made. Nothing was changed: "
        f"open /ticket {ref} for a fresh list."
    )
    assert (await ticket(desk, ref)).assignee_id == liu.id
    assert desk.unread(TECH2) == [] and desk.unread(3003) == [] and desk.unread(OWNER) == []
    # A fresh list works.
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    await desk.press(RECEPTIONIST, "Dispatch / reassign")
    await desk.press(RECEPTIONIST, "Dispatch → Ma Three")
    assert desk.last_answer() == f"{ref} reassigned to Ma Three."


async def test_a_reassign_button_without_the_current_technician_is_out_of_date(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk)
    t = await ticket(desk, ref)
    liu = await desk.person(TECH2)
    await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"r:rsg:{t.id}:{liu.id}")
    assert desk.last_answer() == "This button is out of date. Nothing was changed."
    assert (await ticket(desk, ref)).assignee_id == (await desk.person(TECH)).id


async def test_the_second_visit_work_order_says_what_is_still_wrong(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0, when="27 Nov 2026, 12:30")
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    first = desk.unread(TECH)[-1]
    assert "Appointment: 27 Nov 2026, 12:30\n" in first and "Visit" not in first
    await desk.at(desk.clock.now().replace(hour=4, minute=30))  # 12:30 Shanghai
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Not fixed")
    await desk.send(OWNER, "Still drips from the base of the tap, worse at night")
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    order = [m for m in desk.unread(TECH2) if "Work order" in m][-1]
    assert order.startswith(
        f"📋 Work order (维修单) {ref} — assigned to you\n"
        "🔁 Visit 2: reopened after the last visit. Still wrong: Still drips from the base of "
        "the tap, worse at night\n"
    ), order
    assert "Appointment: 27 Nov 2026, 12:30 (passed: agree a new time with the owner)" in order


async def test_a_work_order_after_an_unhappy_follow_up_carries_the_callers_note(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★")
    await desk.press(OWNER, "No comment")
    await desk.press(RECEPTIONIST, "Not satisfied")
    await desk.send(RECEPTIONIST, "Owner says it leaks again under the sink")
    assert (await ticket(desk, ref)).state == "new"
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    order = [m for m in desk.unread(TECH2) if "Work order" in m][-1]
    assert (
        "🔁 Visit 2: reopened after the last visit. Still wrong: Owner says it leaks again "
        "under the sink" in order
    )
    assert "Appointment: as soon as possible" in order


async def test_the_ticket_card_of_a_repair_shows_its_work_order(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_public_repair(desk)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.press(TECH, "Arrived")
    await desk.press(TECH, "Add material")
    for answer in ("LED bulb", "E27", "9W", "2", "15"):
        await desk.send(TECH, answer)
    await desk.press(TECH, "Record fee")
    await desk.send(TECH, "30")
    await desk.send(TECH, "bulbs")
    await desk.press(TECH, "Done")
    await desk.press(SERVICE, "Confirm and rate")
    await desk.press(SERVICE, "★★★★")
    card = (await desk.send(SUPERVISOR, f"/ticket {ref}"))[0]
    assert card.startswith(
        f"Repair {ref} — closed\nReported from unit 1-2-301\nDetails: Stairwell light on floor 3 "
        "is out\n"
        f"{ref} · public area repair · Electricity\n"
    )
    for line in (
        "Location: Building 1, unit 2, 3rd floor (building 1)",
        "Owner: 李伟, phone 13800000000",
        "Technician: Zhang Wei",
        "• LED bulb, E27, 9W: 2 × CN¥15.00 = CN¥30.00",
        "Fee charged: CN¥30.00 (bulbs)",
        "Rating: ★★★★ (4/5)",
        "History:",
    ):
        assert line in card, (line, card)
    # The owner sees their own 维修单, without phone numbers.
    mine = (await desk.send(OWNER, f"/ticket {ref}"))[0]
    assert "Technician: Zhang Wei" in mine and "Rating: ★★★★ (4/5)" in mine
    assert "13800000000" not in mine and "phone" not in mine


async def test_the_card_of_an_in_home_repair_shows_the_follow_up_and_keeps_its_buttons(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★★★★")
    await desk.send(OWNER, "Quick and tidy")
    await desk.send(RECEPTIONIST, f"/ticket {ref}")
    buttons = [b for b, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert buttons == ["Satisfied", "Not satisfied"]
    await desk.press(RECEPTIONIST, "Satisfied")
    await desk.send(RECEPTIONIST, "Owner happy")
    card = (await desk.send(RECEPTIONIST, f"/ticket {ref}"))[0]
    assert "Appointment: as soon as possible" in card
    assert "Comment: Quick and tidy" in card
    assert (
        "Follow-up call (回访) 27 Nov 2026, 10:00: Satisfied\nFollow-up notes: Owner happy" in card
    )
    assert "No materials were used." not in card


async def test_a_material_form_finished_after_done_is_kept_and_shown_to_the_owner(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Add material")  # the form opens while on site
    for answer in ("Tap cartridge", "DN15", "JM-40", "1"):
        await desk.send(TECH, answer)
    await desk.press(TECH, "Done")  # the work order's button, before the last answer
    first = desk.unread(OWNER)[-1]
    assert first.startswith(f"✅ Repair {ref} is done.") and "No materials were used." in first
    replies = await desk.send(TECH, "35")
    assert replies == [
        f"Recorded on {ref}: Tap cartridge, DN15, JM-40: 1 × CN¥35.00 = CN¥35.00. The owner "
        "will verify it at completion.\n"
        "The work was already marked done: it is shown again to whoever signs."
    ]
    again = desk.unread(OWNER)
    assert len(again) == 1
    assert again[0].startswith(
        f"🧾 A material was added to repair {ref} after it was marked done. Please check it "
        "below before you confirm."
    )
    assert "• Tap cartridge, DN15, JM-40: 1 × CN¥35.00 = CN¥35.00" in again[0]
    await desk.press(OWNER, "Confirm and rate")
    await desk.press(OWNER, "★★★★")
    assert (await ticket(desk, ref)).state == "confirmed"


async def test_the_technician_can_add_a_forgotten_material_from_the_card_after_done(
    desk: Desk,
) -> None:
    ref = await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Done")
    await desk.send(TECH, f"/ticket {ref}")
    assert [b for b, _ in desk.emu.buttons(desk.emu.last(TECH))] == ["Add material", "Record fee"]
    await desk.press(TECH, "Add material")
    for answer in ("Washer", "DN15", "R-1", "2", "1.5"):
        await desk.send(TECH, answer)
    assert "• Washer, DN15, R-1: 2 × CN¥1.50 = CN¥3.00" in desk.unread(OWNER)[-1]


async def test_when_every_technician_is_full_the_front_desk_is_told_why_and_what_to_do(
    database_url: str, clock: ManualClock
) -> None:
    full = (
        "⚠️ No technician is free: building 1 has 2 technician(s), all at the open-job limit "
        "(1). Return a job not yet started to the queue (/ticket REF → Dispatch / reassign), "
        "or raise it with the supervisor."
    )
    async with Desk(database_url, clock, repair={"max_open_per_technician": 1}) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        await file_home_repair(desk, text="The kitchen tap drips all night")
        await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
        await file_home_repair(desk, text="Bathroom light switch sparks when used")
        await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
        desk.unread(RECEPTIONIST)
        ref = await file_home_repair(desk, text="Front door lock is stuck, cannot open")
        new = desk.unread(RECEPTIONIST)[-1]
        assert new.startswith(f"🆕 New repair: {ref}") and new.endswith(full), new
        assert desk.emu.buttons(desk.emu.last(RECEPTIONIST)) == []
        await desk.tick(30 * MIN)
        assert desk.unread(RECEPTIONIST) == [
            f"⏰ {ref} has been waiting for dispatch for 30 minutes.\n{full}"
        ]
