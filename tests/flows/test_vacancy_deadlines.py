"""Vacancy step deadlines (2 business days per approval step, shut-off within 1 business day):
a reminder when the office opens on the last day, the escalation at its close, each once and
only when the step is still open; the ID not shown by the start date lapses the application.
"""

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from bot.clock import ManualClock
from models.deadline import Deadline
from tests.flows.harness import Desk
from tests.flows.vacancy_steps import (
    EXECUTIVE,
    OWNER,
    RECEPTIONIST,
    SERVICE,
    SUPERVISOR,
    TECH,
    alerts,
    apply,
    clear,
    shut_off,
    staffed,
    ticket,
)

MIN = timedelta(minutes=1)
BRIEF = (
    "V-20261127-001 · vacancy application · unit 1-2-301\n"
    "Vacant from 1 Dec 2026 until 2 Mar 2027\n"
    "Reason: Working in Shenzhen for a year"
)


def local(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    """An office-time moment (Asia/Shanghai, UTC+8) in 2026."""
    return datetime(2026, month, day, hour - 8, minute, tzinfo=UTC)


async def _id_seen(desk: Desk) -> str:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    await desk.press(SERVICE, "Original ID seen")
    clear(desk)
    return ref


async def test_officer_opinion_is_reminded_on_its_last_day_then_escalated_once(
    desk: Desk,
) -> None:
    ref = await _id_seen(desk)  # Friday 10:00: due by the close of Sunday
    await desk.at(local(11, 29, 8, 29))
    assert alerts(desk, SERVICE) == []
    await desk.tick(MIN)
    assert alerts(desk, SERVICE) == [
        f"⏰ {ref}: your opinion is due by 29 Nov 2026, 17:30.\n{BRIEF}"
    ]
    buttons = [t for t, _ in desk.emu.buttons(desk.emu.last(SERVICE))]
    assert buttons == ["Recommend approval", "Recommend rejection"]
    await desk.at(local(11, 29, 17, 29))
    assert alerts(desk, SUPERVISOR) == []
    await desk.tick(MIN)
    assert alerts(desk, SUPERVISOR) == [
        f"🚨 {ref}: the service officer's opinion was due by 29 Nov 2026, 17:30.\n{BRIEF}"
    ]
    # The escalation opens the application's card, where the supervisor can act on it.
    escalation = next(m for m in desk.emu.messages(SUPERVISOR) if "opinion was due" in m.content)
    assert [t for t, _ in desk.emu.buttons(escalation)] == [f"Open {ref}"]
    card = await desk.press(SUPERVISOR, f"Open {ref}")
    assert card[0].startswith(f"Vacancy application {ref} — waiting for the service officer's")
    clear(desk, SUPERVISOR)
    await desk.tick(timedelta(days=3))
    assert alerts(desk, SERVICE) == [] and alerts(desk, SUPERVISOR) == []
    assert (await ticket(desk, ref)).state == "opinion"  # still waiting: nobody decided for them


async def test_steps_done_in_time_send_no_reminder_at_all(desk: Desk) -> None:
    ref = await _id_seen(desk)
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, "Fine")
    await desk.tick(timedelta(hours=3))
    await desk.press(SUPERVISOR, "Approve")
    await desk.at(local(12, 1, 9))
    await shut_off(desk)
    clear(desk)
    await desk.tick(timedelta(days=9))
    assert alerts(desk, SUPERVISOR) == [] and desk.unread(EXECUTIVE) == []
    assert desk.unread(RECEPTIONIST) == [] and desk.unread(TECH) == []
    assert desk.unread(OWNER) == []
    assert (await ticket(desk, ref)).state == "vacant"


async def test_supervisor_approval_is_reminded_then_goes_to_the_executive(desk: Desk) -> None:
    ref = await _id_seen(desk)
    await desk.press(SERVICE, "Recommend rejection")
    await desk.send(SERVICE, "Unit is rented out, tenant lives there")
    clear(desk)
    await desk.at(local(11, 29, 8, 30))
    reminder = alerts(desk, SUPERVISOR)
    assert reminder == [
        f"⏰ {ref} is waiting for your approval, due by 29 Nov 2026, 17:30.\n{BRIEF}"
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SUPERVISOR))] == ["Approve", "Reject"]
    await desk.at(local(11, 29, 17, 30))
    assert desk.unread(EXECUTIVE) == [
        f"🚨 {ref}: the supervisor's approval was due by 29 Nov 2026, 17:30.\n{BRIEF}"
    ]
    assert alerts(desk, SUPERVISOR) == []
    # Rejecting late still works and tells the owner why.
    await desk.press(SUPERVISOR, "Reject")
    await desk.send(SUPERVISOR, "The unit is let to a tenant")
    assert desk.unread(OWNER) == [
        f"Your vacancy application {ref} was not approved: The unit is let to a tenant. Fees "
        "stay at 100 %."
    ]
    assert alerts(desk, SERVICE) == [f"{ref} was rejected by Sun Boss: The unit is let to a tenant"]
    assert (await ticket(desk, ref)).state == "rejected"


async def test_shut_off_is_due_one_business_day_after_the_start_date(desk: Desk) -> None:
    ref = await _id_seen(desk)
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, "Fine")
    await desk.press(SUPERVISOR, "Approve")
    clear(desk)
    # Approved on 27 Nov for a vacancy from 1 Dec: the order is due by the close of 2 Dec.
    await desk.at(local(12, 2, 8, 29))
    assert desk.unread(RECEPTIONIST) == []
    await desk.tick(MIN)
    reminder = desk.unread(RECEPTIONIST)
    assert len(reminder) == 1 and reminder[0].startswith(f"🔌 Shut-off order for {ref}\n")
    assert reminder[0].endswith("due by 2 Dec 2026, 17:30.")
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    clear(desk, RECEPTIONIST)
    await desk.at(local(12, 2, 17, 30))
    escalation = alerts(desk, SUPERVISOR)
    assert escalation == [
        f"🚨 {ref}: the shut-off order was due by 2 Dec 2026, 17:30 (held by: Zhang Wei).\n{BRIEF}"
    ]
    await desk.tick(timedelta(days=2))
    assert alerts(desk, SUPERVISOR) == [] and desk.unread(RECEPTIONIST) == []


async def test_dispatched_order_reminds_the_technician_not_the_desk(desk: Desk) -> None:
    ref = await _id_seen(desk)
    await desk.press(SERVICE, "Recommend approval")
    await desk.send(SERVICE, "Fine")
    await desk.press(SUPERVISOR, "Approve")
    await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
    clear(desk)
    await desk.at(local(12, 2, 8, 30))
    assert desk.unread(RECEPTIONIST) == []
    reminder = desk.unread(TECH)
    assert reminder[0].startswith(f"⏰ {ref}: this order is due by 2 Dec 2026, 17:30.\n")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(TECH))] == ["Record shut-off"]


async def test_application_lapses_when_the_id_is_not_shown_by_the_start_date(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await apply(desk)
    clear(desk)
    await desk.at(local(12, 1, 17, 29))
    assert desk.unread(OWNER) == []
    await desk.tick(MIN)
    assert desk.unread(OWNER) == [
        f"Your vacancy application {ref} has lapsed: the original ID was not shown at the "
        "office by 1 Dec 2026. Send /vacancy to apply again if you still need it."
    ]
    assert alerts(desk, SERVICE)[-1] == f"{ref} lapsed: the ID was never shown."
    assert (await ticket(desk, ref)).state == "lapsed"
    # A late press on the old notice changes nothing.
    assert await desk.press(SERVICE, "Original ID seen") == [
        f"{ref} is now in a state where this is no longer possible "
        "(lapsed: the ID was not shown in time)."
    ]


async def test_a_step_deadline_fires_once_across_a_restart(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        ref = await _id_seen(first)
        await first.at(local(11, 29, 8, 30))
        assert len(alerts(first, SERVICE)) == 1
    async with Desk(database_url, clock, emu=first.emu) as second:
        clear(second)
        await second.tick(MIN)
        assert second.unread(SERVICE) == []  # the reminder is not sent again
        await second.at(local(11, 29, 17, 30))
        assert alerts(second, SUPERVISOR) == [
            f"🚨 {ref}: the service officer's opinion was due by 29 Nov 2026, 17:30.\n{BRIEF}"
        ]
        async with second.session() as s:
            fired = await s.scalar(
                select(func.count())
                .select_from(Deadline)
                .where(Deadline.kind == "vacancy.opinion", Deadline.fired_at.is_not(None))
            )
            assert fired == 2


async def test_step_deadlines_follow_the_configured_business_days(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, vacancy={"step_days": 1}) as desk:
        ref = await _id_seen(desk)  # Friday 10:00: due by the close of Saturday
        await desk.at(local(11, 28, 8, 30))
        assert alerts(desk, SERVICE)[0].startswith(
            f"⏰ {ref}: your opinion is due by 28 Nov 2026, 17:30."
        )
        await desk.at(local(11, 28, 17, 30))
        assert alerts(desk, SUPERVISOR)[0].startswith(
            f"🚨 {ref}: the service officer's opinion was due by 28 Nov 2026, 17:30."
        )


async def test_an_application_never_decided_lapses_at_its_end_date(desk: Desk) -> None:
    ref = await _id_seen(desk)
    await desk.at(datetime(2027, 3, 1, 23, tzinfo=UTC))  # 2 Mar 07:00 office time
    clear(desk)
    await desk.tick(timedelta(hours=1, minutes=30))  # the office opens on the end date
    assert desk.unread(OWNER) == [
        f"Your vacancy application {ref} has lapsed: it was not decided before its end date "
        "(2 Mar 2027). Fees stayed at 100 %."
    ]
    assert alerts(desk, SUPERVISOR) == [f"{ref} lapsed: it was not decided before its end date."]
    assert (await ticket(desk, ref)).state == "lapsed"


async def test_an_application_filed_after_closing_for_today_gives_the_owner_an_office_day(
    desk: Desk,
) -> None:
    # 5.2.1: the owner brings the original ID to the office; it was closed when they filed
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.at(datetime(2026, 11, 27, 12, tzinfo=UTC))  # Friday 20:00
    await desk.send(OWNER, "/vacancy")
    await desk.send(OWNER, "2026-11-27")
    await desk.send(OWNER, "2027-03-01")
    await desk.send(OWNER, "Working abroad")
    await desk.press(OWNER, "I have read and accept")
    filed = await desk.press(OWNER, "Submit")
    ref = filed[0].rsplit(" ", 1)[1]
    # the office is open every day (the default calendar): the next day's close
    assert filed[1].endswith("It lapses if the ID has not been shown by 28 Nov 2026.")
    clear(desk, OWNER)
    await desk.at(datetime(2026, 11, 28, 9, 29, tzinfo=UTC))  # Saturday 17:29
    assert (await ticket(desk, ref)).state == "id_check"
    await desk.tick(timedelta(minutes=1))
    assert (await ticket(desk, ref)).state == "lapsed"
    assert desk.unread(OWNER) == [
        f"Your vacancy application {ref} has lapsed: the original ID was not shown at the "
        "office by 28 Nov 2026. Send /vacancy to apply again if you still need it."
    ]
