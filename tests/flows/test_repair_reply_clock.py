"""The 24 hours for a result (seed ch.4 四.1) count from the visit the owner booked, when it
is later than the dispatch: nobody apologises before the visit they chose."""

from bot.clock import ManualClock
from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    OWNER,
    RECEPTIONIST,
    SUPERVISOR,
    TECH,
    file_home_repair,
    staffed,
)


async def test_the_no_result_alarm_counts_from_a_booked_visit_days_after_dispatch(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, repair={"slot_step_minutes": 240}) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        ref = await file_home_repair(desk, when="29 Nov 2026, 16:30")  # Sunday 16:30
        await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")  # Friday 10:00
        for person in (OWNER, RECEPTIONIST, SUPERVISOR):
            desk.unread(person)
        # Sunday 16:01 Shanghai: 24 office hours after the dispatch, before the visit.
        await desk.at(clock.now().replace(day=29, hour=8, minute=1))
        assert desk.unread(OWNER) == []
        assert not any("no result" in m for m in desk.unread(SUPERVISOR))
        await desk.at(clock.now().replace(day=29, hour=8, minute=40))  # Sunday 16:40
        await desk.press(TECH, "Arrived")
        desk.unread(OWNER)
        # 24 office hours (08:30-17:30) after Sunday 16:30 is Wednesday 13:30.
        await desk.at(clock.now().replace(month=12, day=2, hour=5, minute=29))
        assert desk.unread(OWNER) == []
        assert not any("no result" in m for m in desk.unread(SUPERVISOR))
        await desk.at(clock.now().replace(month=12, day=2, hour=5, minute=31))
        assert desk.unread(OWNER) == [
            f"We are sorry: your repair {ref} is taking longer than it should (now: technician "
            "on site). The office has been told and is following it up."
        ]
        assert [m for m in desk.unread(SUPERVISOR) if "no result" in m] == [
            f"🚨 {ref}: no result reported within 24 hours of the booked visit "
            "(now: technician on site)."
        ]
