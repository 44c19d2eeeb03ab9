"""/queue of someone whose role covers some buildings: their own work is listed even when
far more of the same work waits in other buildings."""

from models.people import Person
from models.property import unit_by_code
from models.repair import file_repair
from tests.flows.harness import Desk
from tests.flows.repair_steps import OWNER, file_home_repair, staffed

DESK_B1 = 2101  # a receptionist who covers building 1 only
OTHERS = 55  # more than a /queue query reads at once


async def _busy_building_2(desk: Desk) -> None:
    """OTHERS new repair requests in building 2, filed before anything in building 1."""
    now = desk.clock.now()
    for n in range(OTHERS):
        await desk.add_unit(f"2-1-{101 + n}")
    async with desk.rt.uow() as s:
        for n in range(OTHERS):
            owner = Person(telegram_id=900_000 + n, name=f"Owner {n}", created_at=now)
            s.add(owner)
            await s.flush()
            unit = await unit_by_code(s, f"2-1-{101 + n}")
            assert unit is not None
            await file_repair(
                s, owner=owner, unit=unit, scope="home", category="water",
                description=f"Leak number {n} under the sink", location=None, building=None,
                photos=[], appointment_at=None, fees_accepted=[], now=now, env=desk.rt.env,
            )  # fmt: skip


async def test_a_building_receptionists_queue_shows_their_building_behind_many_others(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.staff(DESK_B1, "receptionist", name="Ma Desk", buildings=("1",), lang="en")
    await _busy_building_2(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)  # unit 1-2-301, the newest of all
    queue = (await desk.send(DESK_B1, "/queue"))[0]
    assert ref in queue
    assert "R-" in queue and queue.count("R-") == 1  # building 2's are not theirs
