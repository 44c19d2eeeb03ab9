"""What the vacancy form and the staff buttons refuse: periods of 3 months or less, dates in
the past or unreadable, units the owner is not bound to, forged or wrong-role presses, and
readings lower than the last. A refusal changes nothing."""

from datetime import UTC, datetime

from sqlalchemy import func, select

from models.draft import Draft
from models.property import unit_by_code
from models.ticket import Ticket
from models.vacancy_meters import MeterReading
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    CASHIER,
    INTRO_EN,
    OWNER,
    OWNER2,
    RECEPTIONIST,
    SERVICE,
    SERVICE2,
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

SHORT = (
    "A vacancy must last more than 3 months (空置时间必须超过三个月). Starting on {start}, the "
    "end date must be {earliest} or later."
)


async def _tickets(desk: Desk) -> int:
    async with desk.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Ticket)) or 0)


async def _draft_step(desk: Desk, tg_id: int) -> str | None:
    async with desk.session() as s:
        draft = await s.get(Draft, tg_id)
        return draft.step if draft else None


async def _to_end_step(desk: Desk, start: str) -> None:
    await desk.send(OWNER, "/vacancy")
    await desk.send(OWNER, start)


async def test_exactly_three_months_is_refused_and_one_day_more_accepted(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    # A start on the 31st: 31 Dec + 3 months = 31 Mar.
    await _to_end_step(desk, "2026-12-31")
    refused = await desk.send(OWNER, "2027-03-31")
    assert refused[0] == SHORT.format(start="31 Dec 2026", earliest="1 Apr 2027")
    assert await _draft_step(desk, OWNER) == "end" and await _tickets(desk) == 0
    assert await desk.send(OWNER, "2027/4/1") == [
        "Why will the unit be vacant? For example: working abroad, not yet moved in."
    ]
    assert await desk.send(OWNER, "/cancel")
    # Across February: 30 Nov + 3 months = 28 Feb (2027 is not a leap year).
    await _to_end_step(desk, "2026年11月30日")
    for too_short in ("2027-02-28", "2027-01-15", "2026-12-01"):
        refused = await desk.send(OWNER, too_short)
        assert refused[0] == SHORT.format(start="30 Nov 2026", earliest="1 Mar 2027")
    assert (await desk.send(OWNER, "2026-11-30"))[0] == (
        "The end date must be after the start date (30 Nov 2026)."
    )
    assert (await desk.send(OWNER, "2027-03-01"))[0].startswith("Why will the unit be vacant?")
    await desk.send(OWNER, "Travelling")
    await desk.press(OWNER, "I have read and accept")
    filed = await desk.press(OWNER, "Submit")
    assert filed[0].startswith("✅ Your vacancy application has been filed.")
    assert await _tickets(desk) == 1


async def test_dates_typed_wrongly_are_explained_and_asked_again(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/vacancy")
    again = "From which date will the unit be vacant?"
    cases = {
        "next week": "Please type a date such as 2027-03-01 (also 2027/3/1 or 2027年3月1日).",
        "2027-02-30": "There is no such date: 2027-02-30.",
        "2026-11-26": "The start date cannot be in the past (today is 27 Nov 2026).",
        "2028-12-01": "The start date must be no later than 27 Nov 2027.",
    }
    for typed, reason in cases.items():
        replies = await desk.send(OWNER, typed)
        assert replies[0] == reason and replies[1].startswith(again), typed
        assert await _draft_step(desk, OWNER) == "start"
    # Today is allowed; full-width digits are read too.
    assert (await desk.send(OWNER, "２０２６－１１－２７"))[0].startswith("Until which date?")
    assert (await desk.send(OWNER, "2030-01-01"))[0] == (
        "A vacancy can be applied for at most 36 months at a time: the end date must be no "
        "later than 27 Nov 2029."
    )
    assert await _tickets(desk) == 0


async def test_only_units_the_owner_owns_can_be_chosen_even_with_forged_buttons(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.owner(OWNER, "1-2-302", lang="en")
    await desk.owner(OWNER2, "2-1-101", lang="en")
    async with desk.session() as s:
        other = await unit_by_code(s, "2-1-101")
        assert other is not None
    first = await desk.send(OWNER, "/vacancy")
    assert first == [INTRO_EN, "Which unit will be vacant?\nSend /cancel to stop."]
    question = desk.emu.last(OWNER)
    assert [t for t, _ in desk.emu.buttons(question)] == ["1-2-301", "1-2-302"]
    forged = await desk.press_data(OWNER, question, f"f:vacancy:unit:{other.id}")
    assert forged[0] == "Please choose one of the buttons."
    assert await _draft_step(desk, OWNER) == "unit"
    await desk.press(OWNER, "1-2-302")
    assert await _draft_step(desk, OWNER) == "start"
    # A tenant's binding does not allow an application.
    from models.invite import issue_unit_code

    async with desk.runtime.uow() as s:
        unit = await unit_by_code(s, "1-2-301")
        assert unit is not None
        code = await issue_unit_code(s, unit, desk.clock.now(), 30, relation="tenant")
    desk.emu.add_user(1500, "Tenant", "en")
    await desk.send(1500, f"/start {code}")
    assert await desk.send(1500, "/vacancy") == ["You can only apply for a unit you own."]


async def test_overlapping_application_for_the_same_unit_is_refused(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await desk.send(OWNER, "/vacancy")
    await desk.send(OWNER, "2027-01-01")
    assert (await desk.send(OWNER, "2027-06-01"))[0] == (
        f"These dates overlap your application {ref} for the same unit."
    )
    # Consecutive is fine: it starts on the day the first one ends.
    await desk.send(OWNER, "/cancel")
    await desk.send(OWNER, "/vacancy")
    await desk.send(OWNER, "2027-03-02")
    assert (await desk.send(OWNER, "2027-07-01"))[0].startswith("Why will the unit be vacant?")


async def test_wrong_role_and_forged_presses_change_nothing(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    ref = await apply(desk)
    t = await ticket(desk, ref)
    # Another building's officer, the owner, and garbage callback data.
    not_allowed = "You are not allowed to do this."
    stale = "This button is out of date. Nothing was changed."
    cases = [
        (SERVICE2, f"v:id:{t.id}", not_allowed),  # another building's officer
        (OWNER, f"v:id:{t.id}", not_allowed),
        (
            SUPERVISOR,
            f"v:ap:{t.id}",
            f"{ref} is now in a state where this is no longer possible "
            "(waiting for the original ID at the office).",
        ),
        (SERVICE, "v:id:abc", stale),
        (SERVICE, f"v:op:{t.id}:x", stale),
        (SERVICE, "v:id:99999", stale),
    ]
    for who, data, expected in cases:
        await desk.send(who, "/help")
        assert await desk.press_data(who, desk.emu.last(who), data) == [expected], data
    assert (await ticket(desk, ref)).state == "id_check"
    await approve(desk, ref)
    # Someone else's owner cannot cancel; an unassigned technician cannot record the shut-off;
    # a receptionist cannot dispatch to someone who is not a technician.
    assert await desk.press_data(OWNER2, desk.emu.last(OWNER2), f"v:cxy:{t.id}") == [not_allowed]
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.send(TECH2, "/help")
    assert await desk.press_data(TECH2, desk.emu.last(TECH2), f"v:off:{t.id}") == [not_allowed]
    owner2 = await desk.person(OWNER2)
    forged = f"v:dsp:{t.id}:{owner2.id}"
    assert await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), forged) == [
        "Li is not a technician for this building."
    ]
    assert (await ticket(desk, ref)).assignee_id == (await desk.person(TECH)).id
    assert (await ticket(desk, ref)).state == "shutoff"


async def test_readings_lower_than_the_last_or_implausible_are_refused(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk, water="120.50", electricity="3050.2")
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Cancel application")
    await desk.press(OWNER, "Yes, cancel it")
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    await desk.press(TECH2, "Record restore")
    lower = await desk.send(TECH2, "119")
    assert lower[0] == (
        "That is lower than the last reading of this meter (120.5, on 1 Dec 2026, 08:00). If "
        "the meter was replaced, the building's service officer records it (/meter_replaced "
        "1-2-301); then enter the reading again. Otherwise please check the meter."
    )
    jump = await desk.send(TECH2, "999")
    assert jump[0].startswith("That is 878.5 more than the last reading (120.5, on")
    assert (await desk.send(TECH2, "-3"))[0] == "Please send a number between 0 and 999,999.99."
    assert await desk.send(TECH2, "120.50") == [f"{ref}: electricity meter reading (kWh)?"]
    await desk.send(TECH2, "3050.2")
    assert await desk.press(TECH2, "Water and electricity are ON: save") == [
        f"{ref} recorded; the owner has been told."
    ]
    async with desk.session() as s:
        kinds = (await s.execute(select(MeterReading.kind).order_by(MeterReading.id))).scalars()
        assert list(kinds) == ["shutoff", "restore"]
    assert (await ticket(desk, ref)).state == "cancelled"
    assert TECH  # the shut-off technician is not involved in the restore


async def test_the_owner_is_told_first_that_an_unrenovated_home_needs_no_application(
    desk: Desk,
) -> None:
    """5.2.1: 未装修的不用申请, said before the first question, in the owner's language; a
    forged re-ask of a question does not repeat it."""
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="zh_CN")
    first = await desk.send(OWNER, "/vacancy")
    assert first[0] == (
        "🏠 空置房申请（适用于已装修、暂不入住的房屋）。未装修的房屋无需申请（5.2.1）；"
        "如不确定，请咨询管理处。"
    )
    assert first[1].startswith("房屋从哪一天开始空置？")
    again = await desk.send(OWNER, "下周")
    assert not any("未装修" in text for text in again)


async def test_water_and_electricity_are_not_shut_off_before_the_vacancy_starts(
    desk: Desk,
) -> None:
    """5.2.8: 空置时间内 water and electricity are off; before the start date the owner may
    still live there and pays 100 %."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)  # today 27 Nov, vacant from 1 Dec
    await approve(desk, ref)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    clear(desk)
    not_yet = (
        "The vacancy begins on 1 Dec 2026: water and electricity are shut off from that day "
        "(5.2.8), not before. Until then the owner may still live there."
    )
    assert await desk.press(TECH, "Record shut-off") == [not_yet]
    assert (await ticket(desk, ref)).state == "shutoff"
    assert desk.unread(OWNER) == [] and desk.unread(CASHIER) == []
    async with desk.session() as s:
        assert await s.scalar(select(func.count()).select_from(MeterReading)) == 0
    # the order card does not offer it either until the day comes
    await desk.send(TECH, f"/ticket {ref}")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(TECH))] == []
    await desk.at(datetime(2026, 11, 30, 15, 59, tzinfo=UTC))  # 30 Nov 23:59
    assert await desk.press(TECH, "Record shut-off") == [not_yet]
    await desk.at(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # 1 Dec 08:30
    await desk.send(TECH, f"/ticket {ref}")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(TECH))] == ["Record shut-off"]
    assert await desk.press(TECH, "Record shut-off") == [
        f"{ref}: water meter reading (t)?\nSend /cancel to stop."
    ]
    await desk.send(TECH, "120.50")
    await desk.send(TECH, "3050.2")
    await desk.press(TECH, "Water and electricity are OFF: save")
    assert (await ticket(desk, ref)).state == "vacant"
    assert desk.unread(OWNER)[-1].startswith("Water and electricity of 1-2-301 are now off")


async def test_a_second_dispatch_press_on_the_order_is_refused_and_moving_is_deliberate(
    desk: Desk,
) -> None:
    """SPEC §3: two receptionists on the same order message: the second press is told who has
    it and changes nothing; the order moves only from the reassign menu."""
    await staffed(desk)
    await desk.staff(2002, "receptionist", name="Li Desk", lang="en")
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    clear(desk, RECEPTIONIST, 2002, TECH, TECH2)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    assert await desk.press(2002, "Dispatch → Liu Qiang") == [
        f"{ref} has already been sent to Zhang Wei. Nothing was changed; to give it to someone "
        f"else, use Dispatch / reassign on /ticket {ref}."
    ]
    t = await ticket(desk, ref)
    assert t.assignee is not None and t.assignee.name == "Zhang Wei"
    assert [e.action for e in t.events].count("shutoff_dispatched") == 1
    assert desk.unread(TECH)[0].startswith(f"📋 Shut-off order {ref} — assigned to you")
    assert desk.unread(TECH2) == []
    # a deliberate move from /ticket still works
    await desk.send(2002, f"/ticket {ref}")
    await desk.press(2002, "Dispatch / reassign")
    assert await desk.press(2002, "Dispatch → Liu Qiang") == [f"{ref}: order sent to Liu Qiang."]
    assert desk.unread(TECH) == [f"{ref} has been given to Liu Qiang; you no longer need to go."]
    assert desk.unread(TECH2)[0].startswith(f"📋 Shut-off order {ref} — assigned to you")


async def test_a_reassign_menu_a_colleague_has_overtaken_is_refused_naming_who_has_it(
    desk: Desk,
) -> None:
    """Two receptionists open the reassign menu of the same order at once: the first move
    goes through; the second, made on a menu built while the first technician had it, is
    refused as out of date, names who has the order now, and changes nothing."""
    await staffed(desk)
    await desk.staff(2002, "receptionist", name="Li Desk", lang="en")
    await desk.staff(3003, "technician", name="Chen Yu", buildings=("1",), lang="en")
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    for desk_clerk in (RECEPTIONIST, 2002):
        await desk.send(desk_clerk, f"/ticket {ref}")
        await desk.press(desk_clerk, "Dispatch / reassign")
    clear(desk, RECEPTIONIST, 2002, TECH, TECH2, 3003)
    assert await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang") == [
        f"{ref}: order sent to Liu Qiang."
    ]
    assert await desk.press(2002, "Dispatch → Chen Yu") == [
        f"{ref} has been given to Liu Qiang since this list was made. Nothing was changed: "
        f"open /ticket {ref} for a fresh list."
    ]
    t = await ticket(desk, ref)
    assert t.assignee is not None and t.assignee.name == "Liu Qiang"
    assert [e.action for e in t.events].count("shutoff_dispatched") == 2
    assert desk.unread(3003) == []
    assert desk.unread(TECH2)[0].startswith(f"📋 Shut-off order {ref} — assigned to you")
    # a fresh menu moves it
    await desk.send(2002, f"/ticket {ref}")
    await desk.press(2002, "Dispatch / reassign")
    assert await desk.press(2002, "Dispatch → Chen Yu") == [f"{ref}: order sent to Chen Yu."]
    assert desk.unread(TECH2) == [f"{ref} has been given to Chen Yu; you no longer need to go."]


async def test_a_reassign_menu_made_before_the_order_was_sent_is_refused_once_it_is(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.staff(2002, "receptionist", name="Li Desk", lang="en")
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await desk.send(2002, f"/ticket {ref}")
    await desk.press(2002, "Dispatch / reassign")  # nobody has the order yet
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")  # from the order message
    clear(desk, TECH, TECH2)
    assert await desk.press(2002, "Dispatch → Liu Qiang") == [
        f"{ref} has been given to Zhang Wei since this list was made. Nothing was changed: "
        f"open /ticket {ref} for a fresh list."
    ]
    assert (await ticket(desk, ref)).assignee_id == (await desk.person(TECH)).id
    assert desk.unread(TECH) == [] and desk.unread(TECH2) == []
