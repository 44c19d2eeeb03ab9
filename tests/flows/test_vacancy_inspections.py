"""Monthly and severe-weather inspections of vacant, unsold, basement and not yet renovated
units (5.1, 5.2.1, 5.3-5.5):
tasks per officer, readings that end a vacancy (more than 1 t or 5 kWh a month), overdue
tasks to the supervisor at month end, the supervisor's spot check, the admin's marks."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from models.deadline import Deadline
from models.ticket import Kind, Ticket
from models.vacancy_inspection import Inspection, Round
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    ADMIN,
    CASHIER,
    OWNER,
    RECEPTIONIST,
    SERVICE,
    SERVICE2,
    SUPERVISOR,
    TECH,
    alerts,
    apply,
    approve,
    clear,
    shut_off,
    staffed,
    ticket,
)

MIN = timedelta(minutes=1)
ROUND_OPENS = datetime(2026, 12, 1, 0, 30, tzinfo=UTC)  # 1 Dec 08:30 office time
MONTH_END = datetime(2026, 12, 31, 9, 30, tzinfo=UTC)  # 31 Dec 17:30 office time


async def _office(desk: Desk) -> str:
    """A vacant unit (shut off at 120.5 t / 3050.2 kWh) and three marked units."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk, water="120.50", electricity="3050.2")
    for code in ("1-1-101", "1-B-001", "2-1-101"):
        await desk.add_unit(code, owner_name="开发商")
    assert await desk.send(ADMIN, "/mark_unit 1-1-101 unsold") == [
        "1-1-101 is marked unsold: it gets the monthly inspection."
    ]
    await desk.send(ADMIN, "/mark_unit 1-b-001 basement")
    await desk.send(ADMIN, "/mark_unit 2-1-101 unsold")
    clear(desk)
    return ref


async def _inspect(
    desk: Desk, unit: str, water: str, electricity: str, condition: str = ""
) -> list[str]:
    await desk.press(SERVICE, f"Inspect {unit}")
    await desk.send(SERVICE, water)
    asked = await desk.send(SERVICE, electricity)
    if asked[-1].endswith("Are the readings right?"):  # over the limits: confirmed first
        await desk.press(SERVICE, "Readings are right")
    if condition:
        return await desk.send(SERVICE, condition)
    return await desk.press(SERVICE, "All in order")


async def test_monthly_round_gives_each_officer_their_units(desk: Desk) -> None:
    await _office(desk)
    await desk.at(ROUND_OPENS - MIN)
    assert alerts(desk, SERVICE) == []
    await desk.tick(MIN)
    assert alerts(desk, SERVICE) == [
        "🔎 monthly inspection, building 1: inspect these units by 31 Dec 2026, 17:30 and "
        "record both meter readings and the condition (空置房检查记录表).\n"
        "• 1-1-101 (unsold)\n• 1-2-301 (vacant)\n• 1-B-001 (basement)"
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE))] == [
        "Inspect 1-1-101",
        "Inspect 1-2-301",
        "Inspect 1-B-001",
    ]
    assert alerts(desk, SERVICE2)[0].endswith("• 2-1-101 (unsold)")
    # Once a month: the next round opens on 1 January.
    await desk.tick(timedelta(days=30))
    assert alerts(desk, SERVICE) == []
    await desk.tick(timedelta(days=1))
    assert alerts(desk, SERVICE)[0].startswith(
        "🔎 monthly inspection, building 1: inspect these units by 31 Jan 2027, 17:30"
    )
    async with desk.session() as s:
        months = (await s.execute(select(Round.month).order_by(Round.id))).scalars().all()
        assert months == ["2026-12", "2027-01"]


async def test_readings_of_1_2_tons_end_the_vacancy_and_tell_owner_and_cashier(
    desk: Desk,
) -> None:
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    desk.unread(SERVICE)
    replies = await _inspect(desk, "1-2-301", "121.70", "3052")
    assert replies == [
        "Inspection of 1-2-301 recorded: water 121.7 t, electricity 3,052 kWh.\n"
        "Used since the last reading: water 1.2 t, electricity 1.8 kWh.\n"
        f"The unit is in use: vacancy {ref} has ended, and the owner and the cashier have been "
        "told."
    ]
    numbers = (
        "water 1.2 t and electricity 1.8 kWh used since 1 Dec 2026, 08:00 (the limits are 1 t "
        "and 5 kWh a month)"
    )
    assert desk.unread(OWNER) == [
        f"The meter readings of 1-2-301 show {numbers}. Under the vacancy rules the unit counts "
        f"as occupied: {ref} has ended and property fee and shared utilities are at 100 % as of "
        "1 Dec 2026."
    ]
    assert desk.unread(CASHIER) == [
        f"💰 Fee rate change, unit 1-2-301 ({ref}): the unit is in use ({numbers}); 100 % again "
        "from 1 Dec 2026."
    ]
    t = await ticket(desk, ref)
    assert t.state == "occupied" and t.closed_at is not None
    assert t.events[-1].data == {"water": "1.20", "electricity": "1.80"}
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2026-12-20"))[0].endswith("at 100 %.")
    # Its end date no longer does anything.
    await desk.at(datetime(2027, 3, 2, 1, tzinfo=UTC))
    assert [m for m in desk.unread(OWNER) if "ended on" in m or "ends on" in m] == []


async def test_0_8_tons_and_4_9_kwh_do_not_end_the_vacancy(desk: Desk) -> None:
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    desk.unread(SERVICE)
    replies = await _inspect(desk, "1-2-301", "121.30", "3055.1")
    assert replies == [
        "Inspection of 1-2-301 recorded: water 121.3 t, electricity 3,055.1 kWh.\n"
        "Used since the last reading: water 0.8 t, electricity 4.9 kWh."
    ]
    assert desk.unread(OWNER) == [] and desk.unread(CASHIER) == []
    assert (await ticket(desk, ref)).state == "vacant"
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2026-12-20"))[0].endswith(
        f"at 50 %.\nVacancy {ref}: 50 %, 1 Dec 2026 until 2 Mar 2027."
    )


async def test_problem_found_is_reported_to_supervisor_and_owner(desk: Desk) -> None:
    await _office(desk)
    await desk.at(ROUND_OPENS)
    desk.unread(SERVICE)
    replies = await _inspect(desk, "1-2-301", "120.5", "3050.2", "Water stain on the ceiling")
    assert replies[0].startswith("Inspection of 1-2-301 recorded")
    assert alerts(desk, SUPERVISOR) == [
        "⚠️ Inspection of 1-2-301 by Hu Area found a problem: Water stain on the ceiling"
    ]
    assert desk.unread(OWNER) == [
        "The monthly inspection of your vacant unit 1-2-301 found a problem: Water stain on the "
        "ceiling. The service officer will contact you."
    ]


async def test_overdue_inspections_go_to_the_supervisor_at_month_end(desk: Desk) -> None:
    await _office(desk)
    await desk.at(ROUND_OPENS)
    desk.unread(SERVICE)
    await _inspect(desk, "1-2-301", "120.6", "3050.2")
    await _inspect(desk, "1-1-101", "0", "0")
    await desk.at(MONTH_END - MIN)
    assert alerts(desk, SUPERVISOR) == []
    await desk.tick(MIN)
    assert _overdue(desk) == [
        "🚨 Not inspected by 31 Dec 2026, 17:30 (monthly inspection): 2 units\n"
        "• 1-B-001 (basement), building 1\n• 2-1-101 (unsold), building 2"
    ]
    await desk.tick(timedelta(days=1))
    assert _overdue(desk) == []


def _overdue(desk: Desk) -> list[str]:
    """The supervisor's new messages but the month's spot-check sample (tested below)."""
    return [m for m in alerts(desk, SUPERVISOR) if not m.startswith("🔍 Monthly spot check")]


async def test_round_done_in_time_sends_no_overdue_notice(desk: Desk) -> None:
    await _office(desk)
    await desk.send(ADMIN, "/mark_unit 2-1-101 clear")
    await desk.at(ROUND_OPENS)
    for unit in ("1-1-101", "1-2-301", "1-B-001"):
        await _inspect(desk, unit, "120.6" if unit == "1-2-301" else "7", "3050.2")
    await desk.at(MONTH_END + MIN)
    assert _overdue(desk) == []
    async with desk.session() as s:
        due = (
            (await s.execute(select(Deadline).where(Deadline.kind == "vacancy.round_due")))
            .scalars()
            .first()
        )
        assert due is not None and due.done_at is not None and due.fired_at is None


async def test_weather_alert_creates_one_task_per_vacant_unsold_and_basement_unit(
    desk: Desk,
) -> None:
    await _office(desk)
    assert await desk.send(SERVICE, "/weather_alert") == ["You are not allowed to do this."]
    desk.unread(SERVICE)
    replies = await desk.send(SUPERVISOR, "/weather_alert Typhoon warning tonight")
    assert replies == [
        "⛈ Severe-weather inspection ordered: 4 units, to be done by 1 Dec 2026, 17:30."
    ]
    assert alerts(desk, SERVICE) == [
        "🔎 severe-weather inspection, building 1: inspect these units by 1 Dec 2026, 17:30 "
        "and record both meter readings and the condition (空置房检查记录表).\n"
        "Note: Typhoon warning tonight\n"
        "• 1-1-101 (unsold)\n• 1-2-301 (vacant)\n• 1-B-001 (basement)"
    ]
    assert "• 2-1-101 (unsold)" in alerts(desk, SERVICE2)[0]
    async with desk.session() as s:
        tasks = (await s.execute(select(Inspection))).scalars().all()
        assert len(tasks) == 4 and len({t.unit_id for t in tasks}) == 4
        assert {t.reason for t in tasks} == {"vacant", "unsold", "basement"}


async def test_supervisor_records_a_spot_check(desk: Desk) -> None:
    await _office(desk)
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.6", "3050.2")
    listing = await desk.send(SUPERVISOR, "/inspections")
    assert "Inspections of the last month to spot-check (5.5): 1" in listing[0]
    assert "• 1-2-301: water 120.6 t, electricity 3,050.2 kWh by 1 Dec 2026, 08:30" in listing[0]
    card = desk.emu.last(SUPERVISOR)
    await desk.send(SERVICE, "/help")
    assert await desk.press_data(SERVICE, desk.emu.last(SERVICE), "v:spot:1:y") == [
        "You are not allowed to do this."
    ]
    await desk.press(SUPERVISOR, "1-2-301: confirmed", card)
    assert await desk.send(SUPERVISOR, "Meters checked on site, valves closed") == [
        "Spot check of 1-2-301 recorded."
    ]
    async with desk.session() as s:
        done = (
            await s.execute(select(Inspection).where(Inspection.spot_at.is_not(None)))
        ).scalar_one()
        assert done.spot_ok is True and done.spot_note == "Meters checked on site, valves closed"
    assert (await desk.press_data(SUPERVISOR, card, f"v:spot:{done.id}:n"))[0] == (
        "The inspection of 1-2-301 cannot be spot-checked now."
    )
    officer = await desk.send(SERVICE, "/inspections")
    assert officer[0].startswith("Inspections waiting for you: 2")


async def test_marking_units_is_for_the_admin(desk: Desk) -> None:
    await staffed(desk)
    await desk.add_unit("1-B-001")
    assert await desk.send(SERVICE, "/mark_unit 1-B-001 basement") == [
        "You are not allowed to do this."
    ]
    assert await desk.send(ADMIN, "/mark_unit 1-B-001 cellar") == [
        "Use: /mark_unit UNIT unsold|basement|unfinished|clear"
    ]
    assert await desk.send(ADMIN, "/mark_unit 9-9-999 unsold") == ["There is no unit 9-9-999."]
    await desk.send(ADMIN, "/mark_unit 1-B-001 basement")
    assert await desk.send(ADMIN, "/mark_unit") == [
        "Units inspected monthly without an application: 1\n• 1-B-001 (basement)\n"
        "Use: /mark_unit UNIT unsold|basement|unfinished|clear"
    ]
    await desk.owner(OWNER, lang="en")
    assert await desk.send(OWNER, "/mark_unit 1-B-001 clear") == [
        "This command is for property staff only."
    ]
    assert await desk.send(OWNER, "/fee_rate 1-2-301") == [
        "This command is for property staff only."
    ]


async def test_a_supervisor_of_one_building_spot_checks_only_that_building(desk: Desk) -> None:
    await _office(desk)
    await desk.staff(9301, "supervisor", name="Building Two Boss", buildings=("2",), lang="en")
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.6", "3050.2")
    listing = (await desk.send(9301, "/inspections"))[0]
    assert "to spot-check (5.5): 0" in listing and "1-2-301" not in listing
    assert "to spot-check (5.5): 1" in (await desk.send(SUPERVISOR, "/inspections"))[0]


async def _inspect_as(desk: Desk, officer: int, unit: str) -> None:
    await desk.press(officer, f"Inspect {unit}")
    await desk.send(officer, "0")
    await desk.send(officer, "0")
    await desk.press(officer, "All in order")


async def test_at_month_end_the_supervisor_is_given_a_spot_check_where_nobody_did_one(
    desk: Desk,
) -> None:
    # 5.5: every month the head of the centre spot-checks the officers' inspections.
    await _office(desk)
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.6", "3050.2")
    await _inspect(desk, "1-1-101", "0", "0")
    await _inspect_as(desk, SERVICE2, "2-1-101")
    # building 2's inspection is spot-checked within the month: nothing to remind there
    await desk.send(SUPERVISOR, "/inspections")
    await desk.press(SUPERVISOR, "2-1-101: confirmed")
    await desk.send(SUPERVISOR, "Checked the meters myself")
    await desk.at(MONTH_END - MIN)
    clear(desk, SUPERVISOR)

    await desk.tick(MIN)
    spot = [m for m in alerts(desk, SUPERVISOR) if m.startswith("🔍")]
    assert spot == [
        "🔍 Monthly spot check (5.5), building 1, round 2026-12: 2 inspections are recorded "
        "and none has been spot-checked yet. Please check these, picked at random:\n"
        "• 1-1-101: water 0 t, electricity 0 kWh by 1 Dec 2026, 08:30 — all in order\n"
        "• 1-2-301: water 120.6 t, electricity 3,050.2 kWh by 1 Dec 2026, 08:30 — all in order"
    ]
    buttons = [t for t, _ in desk.emu.buttons(desk.with_button(SUPERVISOR, "1-1-101: problem"))]
    assert buttons == [
        "1-1-101: confirmed", "1-1-101: problem", "1-2-301: confirmed", "1-2-301: problem",
    ]  # fmt: skip
    await desk.press(SUPERVISOR, "1-1-101: problem")
    assert await desk.send(SUPERVISOR, "Valve not closed") == ["Spot check of 1-1-101 recorded."]
    # once per round
    await desk.tick(timedelta(days=1))
    assert [m for m in alerts(desk, SUPERVISOR) if m.startswith("🔍")] == []


async def test_the_spot_check_offers_a_sample_of_five(desk: Desk) -> None:
    await _office(desk)
    units = [f"1-3-{n}01" for n in range(1, 7)]
    for code in units:
        await desk.add_unit(code, owner_name="开发商")
        await desk.send(ADMIN, f"/mark_unit {code} unsold")
    await desk.at(ROUND_OPENS)
    for code in units:
        await _inspect_as(desk, SERVICE, code)
    clear(desk, SUPERVISOR)
    await desk.at(MONTH_END)
    (spot,) = [m for m in alerts(desk, SUPERVISOR) if m.startswith("🔍")]
    assert "building 1, round 2026-12: 6 inspections are recorded" in spot
    offered = [line[2:9] for line in spot.splitlines()[1:]]
    assert len(offered) == 5 and set(offered) <= set(units)


async def test_a_unit_that_needs_inspecting_mid_month_joins_the_months_round(desk: Desk) -> None:
    # 5.3: every vacant unit is inspected every month, not only those known on the 1st.
    await _office(desk)
    await desk.send(ADMIN, "/mark_unit 2-1-101 clear")
    await desk.at(ROUND_OPENS)
    for unit in ("1-1-101", "1-2-301", "1-B-001"):
        await _inspect(desk, unit, "120.6" if unit == "1-2-301" else "7", "3050.2")
    await desk.at(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))  # 10 Dec 10:00
    await desk.add_unit("1-1-102", owner_name="开发商")
    await desk.send(ADMIN, "/mark_unit 1-1-102 unsold")
    clear(desk)

    await desk.at(datetime(2026, 12, 11, 0, 30, tzinfo=UTC))  # next morning, 08:30
    assert alerts(desk, SERVICE) == [
        "🔎 monthly inspection, building 1: inspect these units by 31 Dec 2026, 17:30 and "
        "record both meter readings and the condition (空置房检查记录表).\n• 1-1-102 (unsold)"
    ]
    assert alerts(desk, SERVICE2) == []
    await desk.tick(timedelta(days=1))
    assert alerts(desk, SERVICE) == []  # once
    # the round was complete before; now it is not, and the month end says so
    await desk.at(MONTH_END + MIN)
    assert _overdue(desk) == [
        "🚨 Not inspected by 31 Dec 2026, 17:30 (monthly inspection): 1 units\n"
        "• 1-1-102 (unsold), building 1"
    ]
    async with desk.session() as s:
        units = (await s.execute(select(Inspection.unit_id))).scalars().all()
        assert len(units) == len(set(units)) == 4


async def test_a_round_that_starts_empty_is_still_spot_checked_once_units_join_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.at(ROUND_OPENS)  # nothing to inspect on 1 December
    await desk.at(datetime(2026, 12, 10, 2, 0, tzinfo=UTC))
    await desk.add_unit("1-1-102", owner_name="开发商")
    await desk.send(ADMIN, "/mark_unit 1-1-102 unsold")
    await desk.at(datetime(2026, 12, 11, 0, 30, tzinfo=UTC))  # it joins the round
    await _inspect_as(desk, SERVICE, "1-1-102")
    clear(desk, SUPERVISOR)
    await desk.at(MONTH_END)
    (spot,) = [m for m in alerts(desk, SUPERVISOR) if m.startswith("🔍")]
    assert "building 1, round 2026-12: 1 inspections are recorded" in spot


def _unrenovated(unit: str) -> str:
    return (
        f"Unit {unit} is recorded at the office as not yet renovated: it is already looked after "
        "as a vacant home and inspected every month, so it needs no application (5.2.1). If it "
        "has been renovated, please tell the property office."
    )


async def test_a_home_not_yet_renovated_needs_no_application_and_is_inspected_monthly(
    desk: Desk,
) -> None:
    # 空置房 includes a home taken over but not renovated; 5.2.1: 未装修的不用申请.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    assert await desk.send(ADMIN, "/mark_unit 1-2-301 unfinished") == [
        "1-2-301 is marked not yet renovated: it gets the monthly inspection.\n"
        "Its owner needs no vacancy application (5.2.1: 未装修的不用申请)."
    ]
    assert await desk.send(OWNER, "/vacancy") == [_unrenovated("1-2-301")]
    assert desk.emu.buttons(desk.emu.last(OWNER)) == []

    # a second home, renovated: the application is for that one only
    await desk.add_unit("1-2-302", owner_name="Li")
    await desk.send(OWNER, f"/start {await desk.invite('1-2-302')}")
    replies = await desk.send(OWNER, "/vacancy")
    assert replies[0] == _unrenovated("1-2-301")
    assert replies[2].startswith("From which date will the unit be vacant?")
    await desk.send(OWNER, "/cancel")

    # marked while the owner was filling in the form: Submit is refused, nothing filed
    await desk.send(OWNER, "/vacancy")
    await desk.press(OWNER, "1 Dec 2026")
    await desk.press(OWNER, "2 Mar 2027")
    await desk.send(OWNER, "Abroad")
    await desk.press(OWNER, "I have read and accept")
    await desk.send(ADMIN, "/mark_unit 1-2-302 unfinished")
    assert (await desk.press(OWNER, "Submit"))[0] == _unrenovated("1-2-302")
    async with desk.session() as s:
        assert (await s.execute(select(Ticket).where(Ticket.kind == Kind.VACANCY))).all() == []
    await desk.send(OWNER, "/cancel")
    await desk.send(ADMIN, "/mark_unit 1-2-302 clear")
    ref = await apply(desk)
    assert (await ticket(desk, ref)).unit.code == "1-2-302"

    # 5.3: 100 % a month, like any vacant unit
    clear(desk)
    await desk.at(ROUND_OPENS)
    round_notice = alerts(desk, SERVICE)[0]
    assert "• 1-2-301 (not yet renovated)" in round_notice
    assert await desk.send(ADMIN, "/mark_unit 1-2-301 clear") == [
        "1-2-301 is no longer inspected without an application."
    ]
    await desk.send(OWNER, "/vacancy")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["1-2-301", "1-2-302"]


async def test_marking_a_running_vacancys_home_not_renovated_warns_and_apply_again_is_refused(
    desk: Desk,
) -> None:
    # filed before the mark existed; then the office records the home as not yet renovated
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk)
    assert await desk.send(ADMIN, "/mark_unit 1-2-301 unfinished") == [
        "1-2-301 is marked not yet renovated: it gets the monthly inspection.\n"
        "Its owner needs no vacancy application (5.2.1: 未装修的不用申请).\n"
        f"Note: vacancy application {ref} for this unit is still open (vacant, water and "
        "electricity off); it goes on until it ends or the owner cancels it."
    ]
    clear(desk)
    # the end-date reminder's "Apply again" is refused before the form opens
    await desk.at(datetime(2027, 2, 16, 0, 30, tzinfo=UTC))
    assert await desk.press(OWNER, "Apply again") == [_unrenovated("1-2-301")]


async def test_two_months_between_readings_allow_two_months_of_consumption(desk: Desk) -> None:
    # 5.2.6: 超过1吨/月; 1 Dec to 31 Jan is two months, 1.9 t is 0.95 t a month
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.50", "3050.2")
    await desk.at(datetime(2027, 1, 31, 2, tzinfo=UTC))
    replies = await _inspect(desk, "1-2-301", "122.40", "3050.2")
    assert replies == [
        "Inspection of 1-2-301 recorded: water 122.4 t, electricity 3,050.2 kWh.\n"
        "Used since the last reading: water 1.9 t, electricity 0 kWh."
    ]
    assert (await ticket(desk, ref)).state == "vacant"


async def test_over_a_ton_in_one_calendar_month_of_31_days_counts_as_occupied(
    desk: Desk,
) -> None:
    # 5.2.6: 超过1吨/月, 超过5度/月: 1 Dec to 1 Jan is one month, though it has 31 days
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.50", "3050.2")
    for _ in range(2):  # the January round
        await desk.at(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    replies = await _inspect(desk, "1-2-301", "121.51", "3050.2")
    assert replies == [
        "Inspection of 1-2-301 recorded: water 121.51 t, electricity 3,050.2 kWh.\n"
        "Used since the last reading: water 1.01 t, electricity 0 kWh.\n"
        f"The unit is in use: vacancy {ref} has ended, and the owner and the cashier have been "
        "told."
    ]
    assert (await ticket(desk, ref)).state == "occupied"


async def test_over_5_kwh_in_one_calendar_month_counts_as_occupied(desk: Desk) -> None:
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.50", "3050.2")
    for _ in range(2):
        await desk.at(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    replies = await _inspect(desk, "1-2-301", "120.50", "3055.29")
    assert replies[0].endswith("has ended, and the owner and the cashier have been told.")
    assert (await ticket(desk, ref)).state == "occupied"


async def test_consumption_found_makes_the_time_it_was_used_in_count_as_occupied(
    desk: Desk,
) -> None:
    # 5.2.6: 视为入住收费: the month the water was used in was lived in, not only the day after
    ref = await _office(desk)
    await desk.at(datetime(2026, 12, 31, 1, tzinfo=UTC))
    await _inspect(desk, "1-2-301", "120.50", "3050.2")
    await desk.at(datetime(2027, 1, 31, 2, tzinfo=UTC))
    desk.unread(CASHIER)
    await _inspect(desk, "1-2-301", "128.50", "3050.2")
    assert (await ticket(desk, ref)).state == "occupied"
    assert desk.unread(CASHIER)[0].endswith("; 100 % again from 31 Dec 2026.")
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-01-15"))[0].endswith("at 100 %.")
    assert (await desk.send(CASHIER, "/fee_rate 1-2-301 2026-12-30"))[0].endswith("at 50 %.\n"
        f"Vacancy {ref}: 50 %, 1 Dec 2026 until 31 Dec 2026.")  # fmt: skip


async def test_a_vacancy_whose_shut_off_is_still_to_be_made_is_inspected_all_the_same(
    desk: Desk,
) -> None:
    # 5.3: 100 % of the empty flats every month, the shut-off visit late or not
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)  # from 1 Dec
    await approve(desk, ref)
    assert (await ticket(desk, ref)).state == "shutoff"
    clear(desk)
    await desk.at(ROUND_OPENS)
    assert "• 1-2-301 (vacant)" in alerts(desk, SERVICE)[0]


async def test_a_flat_no_longer_empty_drops_out_of_the_months_outstanding_inspections(
    desk: Desk,
) -> None:
    # the round was handed out; then the owner cancelled (moved back) and a mark was cleared
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    await desk.at(datetime(2026, 12, 10, 2, tzinfo=UTC))
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Cancel application")
    await desk.press(OWNER, "Yes, cancel it")
    await desk.send(ADMIN, "/mark_unit 2-1-101 clear")
    listing = (await desk.send(SERVICE, "/inspections"))[0]
    assert listing.startswith("Inspections waiting for you: 2")
    assert "1-2-301" not in listing
    await desk.at(MONTH_END)
    overdue = [m for m in _overdue(desk) if m.startswith("🚨 Not inspected")]
    assert overdue == [
        "🚨 Not inspected by 31 Dec 2026, 17:30 (monthly inspection): 2 units\n"
        "• 1-1-101 (unsold), building 1\n• 1-B-001 (basement), building 1"
    ]


async def test_a_task_missed_last_month_is_told_apart_and_one_visit_does_both(
    desk: Desk,
) -> None:
    """5.3 每月检查率为100%: December's task was missed; in January both are listed, their
    buttons name the round, and the one visit the officer records fulfils both, so January's
    round is not reported as not inspected."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk, water="120.50", electricity="3050.2")
    await desk.at(ROUND_OPENS)
    await desk.at(datetime(2027, 1, 1, 0, 30, tzinfo=UTC))
    clear(desk)
    await desk.at(datetime(2027, 1, 10, 2, tzinfo=UTC))
    listing = (await desk.send(SERVICE, "/inspections"))[0]
    assert listing.startswith("Inspections waiting for you: 2")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE))] == [
        "Inspect 1-2-301 (due 31 Dec 2026)",
        "Inspect 1-2-301 (due 31 Jan 2027)",
    ]
    await _inspect(desk, "1-2-301 (due 31 Dec 2026)", "120.50", "3050.2")
    assert await desk.send(SERVICE, "/inspections") == ["Inspections waiting for you: 0"]
    clear(desk)
    await desk.at(datetime(2027, 1, 31, 9, 31, tzinfo=UTC))  # January's round is due
    assert [m for m in alerts(desk, SUPERVISOR) if m.startswith("🚨 Not inspected")] == []
    assert (await ticket(desk, ref)).state == "vacant"


async def test_inspections_lists_the_officers_own_buildings_however_many_others_have(
    desk: Desk,
) -> None:
    """5.1/5.3: with 200 unsold units in building 1, building 2's officer still sees theirs;
    a long list shows its first 20 and says how many more there are."""
    from models.people import person_by_telegram
    from models.property import UnitRow, import_units, unit_by_code
    from models.vacancy_inspection import set_mark

    await staffed(desk)
    codes = [f"1-9-{i:03d}" for i in range(200)] + ["2-1-101"]
    async with desk.rt.uow() as s:
        rows = [UnitRow(0, c, c.split("-")[0], None, "开发商", None) for c in codes]
        await import_units(s, rows, desk.clock.now())
    async with desk.rt.uow() as s:
        admin = await person_by_telegram(s, ADMIN)
        for c in codes:
            await set_mark(s, await unit_by_code(s, c), "unsold", admin, desk.clock.now())
    await desk.at(ROUND_OPENS)
    listing = (await desk.send(SERVICE2, "/inspections"))[0]
    assert listing.startswith("Inspections waiting for you: 1\n• 2-1-101 (unsold), monthly")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE2))] == ["Inspect 2-1-101"]
    mine = (await desk.send(SERVICE, "/inspections"))[0]
    assert mine.startswith("Inspections waiting for you: 200\n")
    assert mine.endswith("\n… and 180 more.") and mine.count("• 1-9-") == 20
    assert len(desk.emu.buttons(desk.emu.last(SERVICE))) == 20


async def test_readings_over_the_limit_are_confirmed_before_they_end_the_vacancy(
    desk: Desk,
) -> None:
    """A one-digit typo (130.50 for 120.50) must not end a vacancy unseen: the officer is
    shown the consumption and what saving it does, and can enter the readings again."""
    ref = await _office(desk)
    await desk.at(ROUND_OPENS)
    clear(desk)
    await desk.press(SERVICE, "Inspect 1-2-301")
    await desk.send(SERVICE, "130.50")
    asked = await desk.send(SERVICE, "3050.2")
    assert asked == [
        "1-2-301: used since the last reading (1 Dec 2026, 08:00): water 10 t, electricity "
        "0 kWh. That is over the limits of 1 t of water and 5 kWh of electricity a month "
        f"(5.2.6): saving it ends vacancy {ref} as occupied, fees go back to 100 % and the "
        "owner and the cashier are told. Are the readings right?"
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE))] == [
        "Readings are right",
        "Enter again",
    ]
    assert await desk.press(SERVICE, "Enter again") == ["1-2-301: water meter reading (t)?"]
    await desk.send(SERVICE, "120.50")
    asked = await desk.send(SERVICE, "3050.2")
    assert asked[0].startswith("1-2-301: condition of the facilities")
    await desk.press(SERVICE, "All in order")
    assert (await ticket(desk, ref)).state == "vacant"
    assert desk.unread(OWNER) == [] and desk.unread(CASHIER) == []


async def test_use_found_while_the_shut_off_visit_is_overdue_still_counts_as_occupied(
    desk: Desk,
) -> None:
    """5.2.6: the vacancy has begun (fees at 50 %) but the shut-off visit was never made; a
    month of heavy use ends it as occupied like any other, and the order is dropped."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")  # who never goes
    await desk.at(ROUND_OPENS)
    await _inspect(desk, "1-2-301", "120.50", "3050.2")
    for _ in range(2):
        await desk.at(datetime(2027, 1, 4, 2, tzinfo=UTC))
    clear(desk)
    replies = await _inspect(desk, "1-2-301", "135.50", "3300")
    assert replies[0].endswith(
        f"The unit is in use: vacancy {ref} has ended, and the owner and the cashier have been "
        "told."
    )
    t = await ticket(desk, ref)
    assert t.state == "occupied" and t.assignee_id is None
    assert "counts as occupied" in desk.unread(OWNER)[0]
    assert desk.unread(CASHIER)[0].endswith("100 % again from 1 Dec 2026.")
    assert desk.unread(TECH) == [f"The order for {ref} is no longer needed; you do not need to go."]
    assert "at 100 %" in (await desk.send(CASHIER, "/fee_rate 1-2-301 2027-01-04"))[0]
