"""A water or electricity meter replaced during a vacancy (5.1.2, 5.2.4, 5.2.6): a reading
lower than the last one is asked about, the building's service officer (or supervisor)
records the old meter's final and the new meter's starting reading, which becomes the
baseline; what the old meter counted still counts toward the monthly limits."""

from datetime import UTC, datetime

from sqlalchemy import select

from models.vacancy_meters import MeterReading
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    CASHIER,
    OWNER,
    RECEPTIONIST,
    SERVICE,
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
)

DEC_20 = datetime(2026, 12, 20, 2, tzinfo=UTC)  # 20 Dec 10:00 office time
LAST = "120.5, on 1 Dec 2026, 08:00"
SAVED = (
    "Replacement of the water meter of 1-2-301 recorded. Later readings are compared with the "
    "new meter's."
)


async def _vacant(desk: Desk) -> str:
    """Shut off on 1 Dec at 120.5 t / 3050.2 kWh; the December round handed out."""
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await approve(desk, ref)
    await shut_off(desk, water="120.50", electricity="3050.2")
    await desk.at(DEC_20)
    clear(desk)
    return ref


async def _kinds(desk: Desk) -> list[str]:
    async with desk.session() as s:
        rows = await s.execute(select(MeterReading.kind).order_by(MeterReading.id))
        return list(rows.scalars())


async def test_an_officer_finding_a_lower_reading_records_the_new_meter_and_goes_on(
    desk: Desk,
) -> None:
    ref = await _vacant(desk)
    await desk.press(SERVICE, "Inspect 1-2-301")
    assert await desk.send(SERVICE, "0.40") == [
        f"1-2-301: 0.4 is lower than the last reading of the water meter ({LAST}). A meter "
        "does not run backwards: was the meter replaced?"
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE))] == [
        "Yes, the meter was replaced",
        "No, enter it again",
    ]
    assert await desk.press(SERVICE, "Yes, the meter was replaced") == [
        f"1-2-301: the old water meter's final reading, as it was taken out? (Last recorded: "
        f"{LAST}.)"
    ]
    # the old meter did not run backwards either; what is typed is checked
    refused = await desk.send(SERVICE, "120.3")
    assert refused[0] == (
        f"The old meter's final reading cannot be lower than its last recorded reading ({LAST})."
        " Please check it."
    )
    assert (await desk.send(SERVICE, "-1"))[0] == "Please send a number between 0 and 999,999.99."
    assert (await desk.send(SERVICE, "a lot"))[0] == "Please send a number, for example 12.50."
    assert await desk.send(SERVICE, "120.80") == [
        "1-2-301: the new water meter's starting reading, as it was fitted?"
    ]
    assert (await desk.send(SERVICE, "0.5"))[0] == (
        "The new meter cannot have started at 0.5: you have just read 0.4 on it. Please check "
        "both readings."
    )
    assert await desk.send(SERVICE, "0.10") == [
        "1-2-301, water meter replaced: the old meter's final reading 120.8 (last recorded "
        f"{LAST}), the new meter's starting reading 0.1.\n"
        "Reading on the new meter now: 0.4.\n"
        "The supervisor and, for a running vacancy, the cashier are told. Save it?"
    ]
    assert await _kinds(desk) == ["shutoff"]  # nothing written before it is confirmed
    assert alerts(desk, SUPERVISOR) == [] and desk.unread(CASHIER) == []
    assert await desk.press(SERVICE, "Save the replacement") == [
        SAVED,
        "1-2-301: electricity meter reading (kWh)?",
    ]
    await desk.send(SERVICE, "3051")
    # 0.3 t on the old meter until it was taken out, 0.3 t on the new one
    assert await desk.press(SERVICE, "All in order") == [
        "Inspection of 1-2-301 recorded: water 0.4 t, electricity 3,051 kWh.\n"
        "Used since the last reading: water 0.6 t, electricity 0.8 kWh."
    ]
    assert await _kinds(desk) == ["shutoff", "old_final", "replaced", "inspection"]
    told = (
        "🔧 1-2-301: the water meter was replaced. Old meter's final reading 120.8 (last "
        f"recorded {LAST}), new meter's starting reading 0.1; recorded by Hu Area. What the old "
        "meter counted since 1 Dec 2026, 08:00 still counts toward the monthly limits (5.2.6); "
        "later readings are compared with the new meter's.\n"
        f"Vacancy application: {ref}."
    )
    assert alerts(desk, SUPERVISOR) == [told]
    assert desk.unread(CASHIER) == [told]
    assert desk.unread(OWNER) == []
    t = await ticket(desk, ref)
    assert t.state == "vacant"
    replaced = [e for e in t.events if e.action == "meter_replaced"]
    assert [e.data for e in replaced] == [
        {"meter": "water", "last": "120.50", "old_final": "120.80", "new_start": "0.10"}
    ]
    # the next reading is checked against the new meter
    await desk.send(SUPERVISOR, "/weather_alert storm")
    await desk.press(SERVICE, "Inspect 1-2-301")
    assert (await desk.send(SERVICE, "0.2"))[0].startswith(
        "1-2-301: 0.2 is lower than the last reading of the water meter (0.4, on 20 Dec 2026"
    )
    await desk.press(SERVICE, "No, enter it again")
    assert await desk.send(SERVICE, "0.45") == ["1-2-301: electricity meter reading (kWh)?"]


async def test_what_the_old_meter_counted_still_ends_the_vacancy_when_over_the_limit(
    desk: Desk,
) -> None:
    """5.2.6: 0.5 t on the old meter and 0.7 t on the new one in December is 1.2 t: over."""
    ref = await _vacant(desk)
    await desk.press(SERVICE, "Inspect 1-2-301")
    await desk.send(SERVICE, "0.70")
    await desk.press(SERVICE, "Yes, the meter was replaced")
    await desk.send(SERVICE, "121.00")
    await desk.send(SERVICE, "0")
    await desk.press(SERVICE, "Save the replacement")
    asked = await desk.send(SERVICE, "3050.2")
    assert asked[-1].startswith(
        "1-2-301: used since the last reading (1 Dec 2026, 08:00): water 1.2 t, electricity "
        f"0 kWh. That is over the limits of 1 t of water and 5 kWh of electricity a month "
        f"(5.2.6): saving it ends vacancy {ref} as occupied"
    )
    await desk.press(SERVICE, "Readings are right")
    await desk.press(SERVICE, "All in order")
    assert (await ticket(desk, ref)).state == "occupied"


async def test_a_technician_is_told_who_records_a_replacement_and_the_restore_goes_on(
    desk: Desk,
) -> None:
    ref = await _vacant(desk)
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Cancel application")
    await desk.press(OWNER, "Yes, cancel it")
    await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
    await desk.press(TECH2, "Record restore")
    lower = await desk.send(TECH2, "3")
    assert lower == [
        f"That is lower than the last reading of this meter ({LAST}). If the meter was "
        "replaced, the building's service officer records it (/meter_replaced 1-2-301); then "
        "enter the reading again. Otherwise please check the meter.",
        f"{ref}: water meter reading (t)?\nSend /cancel to stop.",
    ]
    # the technician does not record it; the officer of the building does
    assert await desk.send(TECH, "/meter_replaced 1-2-301") == ["You are not allowed to do this."]
    assert await desk.send(SERVICE, "/meter_replaced") == [
        "Use: /meter_replaced UNIT, for example /meter_replaced 1-2-301"
    ]
    assert await desk.send(SERVICE, "/meter_replaced 9-9-999") == ["There is no unit 9-9-999."]
    assert await desk.send(SERVICE, "/meter_replaced 1-2-301") == [
        "Which meter of 1-2-301 was replaced?\nSend /cancel to stop."
    ]
    await desk.press(SERVICE, "Water meter")
    await desk.send(SERVICE, "120.90")
    await desk.send(SERVICE, "2.5")
    assert await desk.press(SERVICE, "Save the replacement") == [SAVED]
    assert await _kinds(desk) == ["shutoff", "old_final", "replaced"]
    assert (await ticket(desk, ref)).events[-1].action == "meter_replaced"
    # the technician's restore form goes on, against the new meter
    assert (await desk.send(TECH2, "1"))[0] == (
        "That is lower than the last reading of this meter (2.5, on 20 Dec 2026, 10:00). If "
        "the meter was replaced, the building's service officer records it (/meter_replaced "
        "1-2-301); then enter the reading again. Otherwise please check the meter."
    )
    assert await desk.send(TECH2, "3") == [f"{ref}: electricity meter reading (kWh)?"]
    await desk.send(TECH2, "3050.2")
    assert await desk.press(TECH2, "Water and electricity are ON: save") == [
        f"{ref} recorded; the owner has been told."
    ]
    assert (await ticket(desk, ref)).state == "cancelled"
    assert await _kinds(desk) == ["shutoff", "old_final", "replaced", "restore"]


async def test_a_replacement_is_not_recorded_before_a_unit_has_a_reading(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    assert await desk.send(SERVICE, "/meter_replaced 1-2-301") == [
        "No meter reading of this unit is on record yet: there is no replacement to record. "
        "The new meter's reading is simply the first one."
    ]
    assert await _kinds(desk) == []


async def test_a_supervisor_recording_a_replacement_is_not_told_supervisors_are_told(
    desk: Desk,
) -> None:
    await _vacant(desk)
    await desk.send(SUPERVISOR, "/meter_replaced 1-2-301")
    await desk.press(SUPERVISOR, "Water meter")
    await desk.send(SUPERVISOR, "120.90")
    confirm = await desk.send(SUPERVISOR, "2.5")
    assert confirm[0].endswith("\nFor a running vacancy, the cashier is told. Save it?")
    await desk.press(SUPERVISOR, "Save the replacement")
    assert not [m for m in alerts(desk, SUPERVISOR) if m.startswith("🔧")]
    assert [m for m in desk.unread(CASHIER) if m.startswith("🔧 1-2-301: the water meter")]
