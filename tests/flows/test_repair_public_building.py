"""A public repair goes to the staff of the building where the problem is, which the reporter
names, not to the reporter's own building; its card does not give their flat as the place."""

from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    OWNER,
    RECEPTIONIST,
    SERVICE,
    SUPERVISOR,
    file_public_repair,
    staffed,
    ticket,
)

MA, OFFICER3 = 3003, 3403


async def _two_buildings(desk: Desk) -> None:
    await staffed(desk)  # technicians and the service officer of building 1
    await desk.staff(MA, "technician", name="Ma Bldg3", buildings=("3",), lang="en")
    await desk.staff(OFFICER3, "service", name="Officer Bldg3", buildings=("3",), lang="en")
    await desk.add_unit("3-1-101")  # building 3 is in the register
    await desk.owner(OWNER, lang="en")  # lives in building 1


async def test_the_reporter_is_asked_which_building_from_the_register(desk: Desk) -> None:
    await _two_buildings(desk)
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "Public area")
    await desk.press(OWNER, "Electricity")
    await desk.send(OWNER, "Ramp light is out")
    asked = await desk.press(OWNER, "Skip photos")
    assert asked == ["Which building is the problem in?"]
    buttons = [b for b, _ in desk.emu.buttons(desk.emu.last(OWNER))]
    assert buttons == ["Building 1", "Building 3", "Shared area / whole estate"]
    await desk.press(OWNER, "Building 3")
    summary = await desk.send(OWNER, "Underground garage, ramp")
    assert "Building: 3\nLocation: Underground garage, ramp" in summary[0]
    assert "Unit:" not in summary[0]


async def test_a_public_repair_in_another_building_goes_to_that_buildings_staff(
    desk: Desk,
) -> None:
    await _two_buildings(desk)
    ref = await file_public_repair(
        desk, place="Underground garage, ramp light", building="Building 3"
    )
    new = desk.unread(RECEPTIONIST)[-1]
    assert "Location: Underground garage, ramp light (building 3)" in new
    buttons = [b for b, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert buttons == ["Dispatch → Ma Bldg3 (0 open)"]
    await desk.press(RECEPTIONIST, "Dispatch → Ma Bldg3")
    assert (await ticket(desk, ref)).state == "dispatched"
    card = (await desk.send(SUPERVISOR, f"/ticket {ref}"))[0]
    assert "Unit: 1-2-301" not in card
    assert "Reported from unit 1-2-301" in card
    assert "Location: Underground garage, ramp light (building 3)" in card


async def test_a_shared_area_goes_to_the_reporters_building(desk: Desk) -> None:
    await _two_buildings(desk)
    await file_public_repair(
        desk, place="Fountain in the central garden", building="Shared area / whole estate"
    )
    new = desk.unread(RECEPTIONIST)[-1]
    assert "Location: Fountain in the central garden (building 1)" in new
    buttons = [b for b, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
    assert buttons == ["Dispatch → Zhang Wei (0 open)", "Dispatch → Liu Qiang (0 open)"]


async def test_queue_names_a_public_repairs_place_not_the_reporters_flat(desk: Desk) -> None:
    await _two_buildings(desk)
    public = await file_public_repair(
        desk, place="Underground garage, ramp light", building="Building 3"
    )
    where = "public area: Underground garage, ramp light (building 3)"
    queue = (await desk.send(RECEPTIONIST, "/queue"))[0]
    assert f"{public} · {where} · waiting for dispatch" in queue
    assert "1-2-301" not in queue
    await desk.press(RECEPTIONIST, "Dispatch → Ma Bldg3")
    queue = (await desk.send(MA, "/queue"))[0]
    assert f"{public} · {where} · dispatched" in queue
    assert "1-2-301" not in queue
    await desk.send(OWNER, "/repair")  # an in-home repair still shows its unit
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, "The kitchen tap drips")
    await desk.press(OWNER, "Skip photos")
    await desk.press(OWNER, "As soon as possible")
    home = (await desk.press(OWNER, "Submit"))[0].rsplit(" ", 1)[1]
    queue = (await desk.send(RECEPTIONIST, "/queue"))[0]
    assert f"{home} · 1-2-301 · waiting for dispatch" in queue


async def test_staff_of_the_building_a_public_repair_is_in_may_open_it(desk: Desk) -> None:
    await _two_buildings(desk)
    lead3 = 3301
    await desk.staff(lead3, "team_lead", name="Lead Bldg3", buildings=("3",), lang="en")
    ref = await file_public_repair(
        desk, place="Underground garage, ramp light", building="Building 3"
    )
    await desk.press(RECEPTIONIST, "Dispatch → Ma Bldg3")
    for who in (OFFICER3, lead3):
        card = (await desk.send(who, f"/ticket {ref}"))[0]
        assert "Location: Underground garage, ramp light (building 3)" in card, who
    # the reporter's building is not where the work is
    assert await desk.send(SERVICE, f"/ticket {ref}") == [f"No ticket {ref} was found among yours."]
