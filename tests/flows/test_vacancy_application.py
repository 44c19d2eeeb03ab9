"""A vacancy application from /vacancy to the shut-off, with every person's messages checked,
and the owner's view of status, dates and fee rate in /my and /ticket."""

from decimal import Decimal

from sqlalchemy import select

from bot.clock import ManualClock
from models.deadline import Deadline
from models.notification import Notification
from models.vacancy_meters import MeterReading
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    CASHIER,
    EVERYONE,
    EXECUTIVE,
    INTRO_EN,
    OWNER,
    RECEPTIONIST,
    SERVICE,
    SERVICE2,
    STARTS,
    SUPERVISOR,
    TECH,
    TECH2,
    alerts,
    apply,
    approve,
    clear,
    shut_off,
    staffed,
    ticket,
    vacancy,
)

CARD = (
    "V-20261127-001 · vacancy application · unit 1-2-301\n"
    "Owner: 李伟, phone 13800000000\n"
    "Vacant from 1 Dec 2026 until 2 Mar 2027\n"
    "Reason: Working in Shenzhen for a year"
)


async def test_vacancy_from_application_to_shut_off_with_every_message(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    clear(desk)

    # Owner: dates offered as buttons, reason, precautions, summary, reference.
    start = await desk.send(OWNER, "/vacancy")
    assert start == [
        INTRO_EN,
        "From which date will the unit be vacant?\n"
        "Please type a date such as 2027-03-01 (also 2027/3/1 or 2027年3月1日).\n"
        "Send /cancel to stop.",
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["28 Nov 2026", "1 Dec 2026"]
    end = await desk.press(OWNER, "1 Dec 2026")
    assert end[0].startswith(
        "Until which date? The vacancy must last more than 3 months: from 1 Dec 2026, the end "
        "date is 2 Mar 2027 or later."
    )
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "2 Mar 2027",
        "1 Jun 2027",
        "1 Dec 2027",
    ]
    assert await desk.press(OWNER, "2 Mar 2027") == [
        "Why will the unit be vacant? For example: working abroad, not yet moved in."
    ]
    precautions = await desk.send(OWNER, "Working in Shenzhen for a year")
    assert precautions[0].startswith("Please read the precautions for a vacant unit (5.2.2):")
    for item in (
        "Water and electricity will be shut off",
        "more than 1 t of water or 5 kWh",
        "Items left inside remain your responsibility",
        "To cancel early: /my",
    ):
        assert item in precautions[0]
    summary = await desk.press(OWNER, "I have read and accept")
    assert summary == [
        "Please check your application:\nUnit: 1-2-301\nVacant from 1 Dec 2026 until 2 Mar 2027"
        "\nReason: Working in Shenzhen for a year\nPrecautions: read and accepted"
    ]
    assert await desk.press(OWNER, "Submit") == [
        "✅ Your vacancy application has been filed. Reference: V-20261127-001",
        "Please bring your original ID card to the property office (5.2.1): the application is "
        "processed once the service officer has seen it. It lapses if the ID has not been "
        "shown by 1 Dec 2026.",
    ]
    ref = "V-20261127-001"
    desk.unread(OWNER)
    assert alerts(desk, SERVICE) == [
        f"🆕 Vacancy application {ref}: the owner will bring the original ID to the office.\n"
        f"{CARD}\nPress the button once you have seen the original ID (5.2.1)."
    ]
    assert desk.unread(SERVICE2) == [] and desk.unread(SUPERVISOR) == []
    assert (await ticket(desk, ref)).state == "id_check"

    # Service officer: the original ID seen, then a signed opinion.
    await desk.press(SERVICE, "Original ID seen")
    assert desk.last_answer() == f"ID check recorded for {ref}."
    assert desk.unread(OWNER) == [
        f"Your original ID was checked for {ref}. The application now goes to the service "
        "officer's opinion and the supervisor's approval."
    ]
    await desk.press(SERVICE, "Recommend approval")
    assert await desk.send(SERVICE, "k") == [
        "That is too short: please write at least 2 characters.",
        f"Your opinion on {ref} (it is signed with your name and shown to the supervisor):\n"
        "Send /cancel to stop.",
    ]
    await desk.send(SERVICE, "Owner known to us, ID matches the directory")
    assert (
        desk.unread(SERVICE)[-1] == f"Your opinion on {ref} is signed and sent to the supervisor."
    )
    assert desk.unread(SUPERVISOR) == [
        f"✍️ Vacancy application {ref} needs your approval.\n{CARD}\n"
        "Service officer Hu Area: recommends approval — Owner known to us, ID matches the "
        "directory"
    ]

    # Supervisor approves: owner, cashier (50 % with dates) and front desk are told.
    await desk.press(SUPERVISOR, "Approve")
    assert desk.unread(SUPERVISOR) == [
        f"{ref} approved. The owner, the cashier and the front desk have been told."
    ]
    assert desk.unread(OWNER) == [
        f"✅ Your vacancy application {ref} is approved. Property fee and shared utilities are "
        "at 50 % as of 1 Dec 2026; from 2 Mar 2027 they are at 100 % again. A technician will "
        "shut off water and electricity and read the meters."
    ]
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): property fee and shared utilities at 50 % "
        "as of 1 Dec 2026; 100 % again from 2 Mar 2027."
    ]
    assert desk.unread(RECEPTIONIST) == [
        f"🔌 Shut-off order for {ref}\n{CARD}\nWater and electricity off and both meters read, "
        "from 1 Dec 2026; due by 2 Dec 2026, 17:30."
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))] == [
        "Dispatch → Zhang Wei",
        "Dispatch → Liu Qiang",
    ]

    # Receptionist dispatches; the technician records both readings, water and power off.
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert desk.unread(RECEPTIONIST) == [f"{ref}: order sent to Zhang Wei."]
    assert desk.unread(TECH) == [
        f"📋 Shut-off order {ref} — assigned to you\n{CARD}\n"
        "Turn off water and electricity and read both meters, from 1 Dec 2026."
    ]
    assert desk.unread(TECH2) == []
    # 5.2.8: off during the vacancy, so on its first day (the owner pays 100 % until then)
    await desk.at(STARTS)
    assert await desk.press(TECH, "Record shut-off") == [
        f"{ref}: water meter reading (t)?\nSend /cancel to stop."
    ]
    assert await desk.send(TECH, "12o") == [
        "Please send a number, for example 12.50.",
        f"{ref}: water meter reading (t)?\nSend /cancel to stop.",
    ]
    assert await desk.send(TECH, "120.50") == [f"{ref}: electricity meter reading (kWh)?"]
    assert await desk.send(TECH, "3050.2") == [
        f"{ref}: meter readings water 120.5 t, electricity 3,050.2 kWh."
    ]
    assert await desk.press(TECH, "Water and electricity are OFF: save") == [
        f"{ref} recorded; the owner has been told."
    ]
    assert desk.unread(OWNER) == [
        f"Water and electricity of 1-2-301 are now off ({ref}). Meter readings: water 120.5 t, "
        "electricity 3,050.2 kWh."
    ]
    assert alerts(desk, SERVICE) == [
        f"1-2-301 is vacant from 1 Dec 2026 ({ref}); it joins your monthly inspections. Meter "
        "readings: water 120.5 t, electricity 3,050.2 kWh."
    ]
    for nobody in (TECH2, SERVICE2, EXECUTIVE, CASHIER, RECEPTIONIST):
        assert alerts(desk, nobody) == [], nobody
    assert alerts(desk, SUPERVISOR) == []

    t = await ticket(desk, ref)
    assert t.state == "vacant" and t.assignee_id is None
    assert [e.action for e in t.events] == [
        "created",
        "id_seen",
        "opinion",
        "approved",
        "shutoff_dispatched",
        "shut_off",
    ]
    v = await vacancy(desk, ref)
    assert (str(v.half_from), str(v.half_until)) == ("2026-12-01", "2027-03-02")
    async with desk.session() as s:
        reading = (await s.execute(select(MeterReading))).scalar_one()
        assert (reading.water, reading.electricity, reading.kind) == (
            Decimal("120.50"),
            Decimal("3050.20"),
            "shutoff",
        )
        assert all(n.status == "sent" for n in (await s.execute(select(Notification))).scalars())
        open_steps = (
            await s.execute(
                select(Deadline.kind).where(Deadline.ticket_id == t.id, Deadline.done_at.is_(None))
            )
        ).scalars()
        assert sorted(open_steps) == ["vacancy.end", "vacancy.end_reminder"]


async def test_owner_sees_status_dates_and_fee_rate_in_my_and_ticket(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    listing = await desk.send(OWNER, "/my")
    assert (
        f"{ref} · Vacancy application · waiting for the original ID at the office\n"
        "Fee rate in force today: 100 %\nRequested: 1 Dec 2026 until 2 Mar 2027"
    ) in listing[0]
    await approve(desk, ref)
    await shut_off(desk)
    desk.clock.set(desk.clock.now().replace(month=12, day=15))
    card = (await desk.send(OWNER, f"/ticket {ref}"))[0]
    assert card.startswith(
        f"Vacancy application {ref} — vacant, water and electricity off\n"
        "Fee rate in force today: 50 %\n"
        "50 %: 1 Dec 2026 until 2 Mar 2027; 100 % again from 2 Mar 2027\nUnit: 1-2-301"
    )
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["Cancel application"]
    # Another owner sees nothing of it.
    await desk.owner(1009, "1-2-302", lang="en")
    assert await desk.send(1009, f"/ticket {ref}") == [f"No ticket {ref} was found among yours."]


async def test_staff_see_the_waiting_application_in_their_queue(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    assert (
        f"{ref} · 1-2-301 · waiting for the original ID at the office"
        in (await desk.send(SERVICE, "/queue"))[0]
    )
    assert await desk.send(SERVICE2, "/queue") == ["You have no open work."]
    await approve(desk, ref)
    assert f"{ref} · 1-2-301 · approved" in (await desk.send(RECEPTIONIST, "/queue"))[0]
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert ref in (await desk.send(TECH, "/queue"))[0]
    assert await desk.send(RECEPTIONIST, "/queue") == ["You have no open work."]
    for person in EVERYONE:
        desk.unread(person)


async def test_chinese_owner_applies_in_chinese_and_continues_after_a_restart(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, lang="zh-hans")
        first.unread(OWNER)
        asked = await first.send(OWNER, "/vacancy")
        assert asked[0].startswith("🏠 空置房申请（适用于已装修、暂不入住的房屋）")
        assert asked[1].startswith("房屋从哪一天开始空置？")
        buttons = [t for t, _ in first.emu.buttons(first.emu.last(OWNER))]
        assert buttons == ["2026年11月28日", "2026年12月1日"]
        refused = await first.send(OWNER, "2026年12月1日")
        assert refused[0].startswith("空置到哪一天？空置时间必须超过三个月")
    async with Desk(database_url, clock, emu=first.emu) as second:
        refused = await second.send(OWNER, "2027/3/1")
        assert refused[0] == (
            "空置时间必须超过 3 个月。开始日期为 2026年12月1日 时，"
            "结束日期须为 2027年3月2日 或之后。"
        )
        assert (await second.send(OWNER, "2027/3/2"))[0].startswith("请填写空置原由")
        await second.send(OWNER, "在外地工作")
        await second.press(OWNER, "已阅读并同意")
        filed = await second.press(OWNER, "提交")
        assert filed[0] == "✅ 空置房申请已提交，申请编号：V-20261127-001"


async def test_a_co_owners_application_names_the_applicant_whose_id_is_checked(
    desk: Desk,
) -> None:
    """5.2.1 持业主身份证原件: the officer checks the ID of whoever applied; a co-owner is named
    beside the registered owner, with her own phone, on every staff copy of the form."""
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")
    desk.emu.add_user(1002, "Zhao Min", "en")
    await desk.send(1002, f"/start {await desk.invite('1-2-301')}")
    await desk.send(1002, "/phone 13700000001")
    clear(desk)
    clear(desk, 1002)
    ref = await apply(desk, owner=1002)
    applicant = "Applicant: Zhao Min, phone 13700000001 (not the registered owner)"
    notice = desk.unread(SERVICE)[0]
    assert f"Owner: 李伟, phone 13800000000\n{applicant}\n" in notice
    assert notice.endswith(
        "Press the button once you have seen the original ID of the applicant, Zhao Min (5.2.1)."
    )
    await approve(desk, ref)
    assert applicant in desk.unread(SUPERVISOR)[0]
    assert applicant in desk.unread(RECEPTIONIST)[0]
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert applicant in desk.unread(TECH)[0]
