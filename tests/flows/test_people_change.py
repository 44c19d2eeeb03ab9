"""People change: a flat changes hands (`propdesk units unbind`), a staff member leaves or
changes post (`propdesk staff remove`)."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.sweep import run_sweep
from models.notification import Notification, enqueue, msg
from tests.flows.complaint_steps import HANDLER, HANDLER2, answer, case, file_case, record
from tests.flows.complaint_steps import staffed as complaint_office
from tests.flows.harness import Desk, run_cli
from tests.flows.repair_steps import (
    OWNER,
    OWNER2,
    RECEPTIONIST,
    SUPERVISOR,
    TECH,
    dispatched_to_zhang,
    file_home_repair,
    staffed,
)
from tests.flows.vacancy_steps import CASHIER as V_CASHIER
from tests.flows.vacancy_steps import RECEPTIONIST as V_RECEPTIONIST
from tests.flows.vacancy_steps import SERVICE as V_SERVICE
from tests.flows.vacancy_steps import SUPERVISOR as V_SUPERVISOR
from tests.flows.vacancy_steps import TECH2 as V_TECH2
from tests.flows.vacancy_steps import apply as vacancy_apply
from tests.flows.vacancy_steps import approve as vacancy_approve
from tests.flows.vacancy_steps import clear as vacancy_clear
from tests.flows.vacancy_steps import new_owner_approved
from tests.flows.vacancy_steps import shut_off as vacancy_shut_off
from tests.flows.vacancy_steps import staffed as vacancy_office

TENANT = 1003
GUARD_SUP = 1090
HIRE = 1091
NOT_LINKED = "You are not linked to a unit yet."


async def test_a_former_owner_is_told_can_no_longer_file_for_the_flat_and_keeps_their_requests(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        ref = await file_home_repair(desk, photos=0)
        desk.unread(OWNER)

        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        out = capsys.readouterr().out.splitlines()
        assert out[0] == (
            f"Unit 1-2-301: Li (owner, Telegram id {OWNER}) unlinked; told through the bot"
        )
        assert out[1].startswith(f"  still open, filed by Li for this unit: {ref} (new)")
        assert out[-1] == "1 link ended"

        await desk.deliver()
        assert desk.unread(OWNER) == [
            "The property office has ended your link to unit 1-2-301. The requests you filed "
            "stay under /my. If you think this is a mistake, please contact the front desk."
        ]
        # no more repairs for a home that is not theirs: a technician would be sent in
        replies = await desk.send(OWNER, "/repair")
        assert replies[0].startswith(NOT_LINKED)
        # their own request stays theirs to follow
        my = (await desk.send(OWNER, "/my"))[0]
        assert my.startswith("You are not linked to a unit any more.")
        assert ref in my
        assert (await desk.send(OWNER, f"/ticket {ref}"))[0].startswith(f"Repair {ref}")

        # the new owner binds with a new code and files as usual
        await desk.owner(OWNER2, name="Zhao", lang="en")
        assert (await desk.send(OWNER2, "/my"))[0].startswith("Your units: 1-2-301")
        # and the old owner's request is not theirs to see
        assert ref not in (await desk.send(OWNER2, "/my"))[0]


async def test_only_the_person_named_is_unlinked(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        await desk.owner(TENANT, name="Qian", lang="en")
        unused = await desk.invite("1-2-301")
        assert unused
        capsys.readouterr()

        assert await run_cli("units", "unbind", "--unit", "1-2-301", "--telegram-id", "4242") == 1
        err = capsys.readouterr().err
        assert "Telegram id 4242 is linked to unit 1-2-301; nothing changed" in err

        unbind = ("units", "unbind", "--unit", "1-2-301", "--telegram-id", str(TENANT))
        assert await run_cli(*unbind) == 0
        out = capsys.readouterr().out
        assert f"Qian (owner, Telegram id {TENANT}) unlinked" in out
        assert "Li" not in out
        # an unused code for the unit would link someone again: the office is shown it
        assert "Note: an unused owner code for 1-2-301 is valid until " in out

        await desk.deliver()
        assert (await desk.send(OWNER, "/my"))[0].startswith("Your units: 1-2-301")
        assert (await desk.send(TENANT, "/repair"))[0].startswith(NOT_LINKED)


async def test_unbinding_nobody_or_an_unknown_unit_changes_nothing(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.add_unit("1-2-302")
        assert await run_cli("units", "unbind", "--unit", "1-2-302") == 1
        assert "nobody is linked to unit 1-2-302; nothing changed" in capsys.readouterr().err
        assert await run_cli("units", "unbind", "--unit", "9-9-999") == 1
        assert "unknown unit '9-9-999'" in capsys.readouterr().err


async def test_an_import_that_changes_a_linked_units_owner_points_at_unbind(
    database_url: str,
    clock: ManualClock,
    office: None,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    header = "unit,building,area_m2,owner_name,owner_phone\n"
    first = tmp_path / "a.csv"
    first.write_text(header + "1-2-301,1,88.5,李四,13800000000\n", encoding="utf-8")
    sold = tmp_path / "b.csv"
    sold.write_text(header + "1-2-301,1,88.5,王五,13900000000\n", encoding="utf-8")
    assert await run_cli("units", "import", str(first)) == 0
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
    capsys.readouterr()
    assert await run_cli("units", "import", str(first)) == 0
    assert "Note:" not in capsys.readouterr().out  # same owner: nothing to say
    assert await run_cli("units", "import", str(sold)) == 0
    assert capsys.readouterr().out.splitlines()[-1] == (
        "Note: unit 1-2-301 has a new owner in the file and 1 person is still linked to it "
        "through the bot; if the flat changed hands, run `propdesk units unbind --unit 1-2-301`"
    )


# --- staff ------------------------------------------------------------------------------------


async def test_a_leaving_technician_must_hand_over_their_jobs_then_loses_every_staff_power(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        ref = await dispatched_to_zhang(desk)
        capsys.readouterr()

        # a job dispatched to them by name would be stranded: refused, nothing changed
        assert await run_cli("staff", "remove", "--telegram-id", str(TECH)) == 1
        assert (
            f"they still hold open work by name: {ref} (dispatched); reassign it in the bot "
            "or let it finish, then run this again; nothing changed"
        ) in capsys.readouterr().err
        assert (await desk.person(TECH)).is_staff

        await desk.send(RECEPTIONIST, f"/ticket {ref}")
        await desk.press(RECEPTIONIST, "Dispatch / reassign")
        await desk.press(RECEPTIONIST, "Dispatch → Liu Qiang")
        # a message still waiting for them (Telegram was slow), with an owner's details
        async with desk.rt.uow() as s:
            tech = await desk.person(TECH)
            ticket = await desk.ticket(ref)
            row = enqueue(s, tech, msg("Work order {ref}: call 13800000000", ref=ref), clock.now(),
                          ticket_id=ticket.id)  # fmt: skip
            assert row is not None
        desk.unread(TECH)

        assert await run_cli("staff", "remove", "--telegram-id", str(TECH)) == 0
        assert capsys.readouterr().out.splitlines() == [
            f"Zhang Wei (Telegram id {TECH}): technician (building 1) taken away",
            "Zhang Wei is no longer staff",
            "1 undelivered message to them withdrawn",
            "Told through the bot",
        ]
        await desk.deliver()
        assert desk.unread(TECH) == [
            "Your staff roles at the property office have ended: the staff commands and "
            "buttons no longer work for you."
        ]
        async with desk.session() as s:
            withdrawn = await s.get(Notification, row.id)
            assert withdrawn is not None
            assert (withdrawn.status, withdrawn.error) == ("failed", "left the staff")
        assert (await desk.send(TECH, "/queue")) == ["This command is for property staff only."]
        # new work is not routed to them
        await desk.owner(OWNER2, unit_code="1-2-302", name="Zhao", lang="en")
        await file_home_repair(desk, owner=OWNER2, photos=0)
        buttons = [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
        assert buttons == ["Dispatch → Liu Qiang (1 open)"]


async def test_a_job_done_and_waiting_for_the_owner_does_not_keep_a_technician_on_staff(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        ref = await dispatched_to_zhang(desk)
        await desk.press(TECH, "Accept")
        await desk.press(TECH, "Arrived")
        assert await run_cli("staff", "remove", "--telegram-id", str(TECH)) == 1
        assert f"{ref} (on_site)" in capsys.readouterr().err
        await desk.press(TECH, "Done")
        # now it waits for the owner's signature and the front desk's follow-up call
        assert await run_cli("staff", "remove", "--telegram-id", str(TECH)) == 0
        assert "Zhang Wei is no longer staff" in capsys.readouterr().out
        await desk.press(OWNER, "Confirm and rate")
        await desk.press(OWNER, "★★★★★")
        assert (await desk.ticket(ref)).state == "confirmed"


async def test_taking_one_role_leaves_the_others(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.staff(RECEPTIONIST, "receptionist", "supervisor", name="Wang Fang", lang="en")
        desk.unread(RECEPTIONIST)
        capsys.readouterr()
        argv = ("staff", "remove", "--telegram-id", str(RECEPTIONIST))
        assert await run_cli(*argv, "--role", "supervisor") == 0
        assert capsys.readouterr().out.splitlines() == [
            f"Wang Fang (Telegram id {RECEPTIONIST}): supervisor (all buildings) taken away",
            "Still holds: receptionist (all buildings)",
            "Told through the bot",
        ]
        await desk.deliver()
        assert desk.unread(RECEPTIONIST) == [
            "The property office has taken the role supervisor from you."
        ]
        person = await desk.person(RECEPTIONIST)
        assert {r.role for r in person.roles} == {"receptionist"}
        assert (await desk.send(RECEPTIONIST, "/queue")) == ["You have no open work."]

        # refusals change nothing
        assert await run_cli(*argv, "--role", "supervisor") == 1
        assert "they do not hold the role supervisor; nothing changed" in capsys.readouterr().err
        assert await run_cli("staff", "remove", "--telegram-id", str(SUPERVISOR)) == 1
        assert (
            f"Telegram id {SUPERVISOR} is not a staff member; nothing changed"
            in capsys.readouterr().err
        )
        assert {r.role for r in (await desk.person(RECEPTIONIST)).roles} == {"receptionist"}


async def test_a_role_taken_away_withdraws_its_queued_messages_about_tickets_no_longer_theirs(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        ref = await file_home_repair(desk, photos=0)
        # a supervisor who also does guard duty; Telegram was slow and two messages wait
        await desk.staff(GUARD_SUP, "supervisor", "guard", name="Ma Jun", lang="en")
        desk.unread(GUARD_SUP)
        async with desk.rt.uow() as s:
            person = await desk.person(GUARD_SUP)
            ticket = await desk.ticket(ref)
            about = enqueue(s, person, msg("Overdue: {ref}, call 13800000000", ref=ref),
                            clock.now(), ticket_id=ticket.id)  # fmt: skip
            general = enqueue(s, person, msg("Gate 2 closes at 22:00 tonight"), clock.now())
            assert about is not None and general is not None
        capsys.readouterr()
        argv = ("staff", "remove", "--telegram-id", str(GUARD_SUP))

        # taking guard duty leaves a role that may open the repair: nothing withdrawn
        assert await run_cli(*argv, "--role", "guard") == 0
        assert "withdrawn" not in capsys.readouterr().out
        await desk.staff(GUARD_SUP, "guard", name="Ma Jun", lang="en")
        async with desk.session() as s:
            assert (await s.get(Notification, about.id)).status == "pending"  # type: ignore[union-attr]

        # a guard has no business with an owner's repair: that message is withdrawn
        assert await run_cli(*argv, "--role", "supervisor") == 0
        assert capsys.readouterr().out.splitlines() == [
            f"Ma Jun (Telegram id {GUARD_SUP}): supervisor (all buildings) taken away",
            "Still holds: guard (all buildings)",
            "1 undelivered message to them withdrawn, about tickets their remaining roles "
            "may not open",
            "Told through the bot",
        ]
        await desk.deliver()
        assert desk.unread(GUARD_SUP) == [
            "Gate 2 closes at 22:00 tonight",
            "The property office has taken the role guard from you.",
            "The property office has taken the role supervisor from you.",
        ]
        async with desk.session() as s:
            withdrawn = await s.get(Notification, about.id)
            assert withdrawn is not None
            assert (withdrawn.status, withdrawn.error) == ("failed", "no longer their role")
        assert (await desk.send(GUARD_SUP, f"/ticket {ref}")) == [
            f"No ticket {ref} was found among yours."
        ]


async def test_a_hire_that_fell_through_is_removed_by_name_and_their_code_stops_working(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        assert await run_cli("staff", "add", "--name", "Chen Gong", "--role", "technician") == 0
        code = capsys.readouterr().out.splitlines()[-1]

        assert await run_cli("staff", "remove", "--name", "Chen Gon") == 1
        assert (
            "nobody named 'Chen Gon' was added without a Telegram id and is waiting to use "
            "their code; for someone who has opened the bot, use --telegram-id; nothing changed"
        ) in capsys.readouterr().err
        # someone who already opened the bot is removed by Telegram id, not by name
        assert await run_cli("staff", "remove", "--name", "Zhang Wei") == 1
        assert "nobody named 'Zhang Wei'" in capsys.readouterr().err

        assert await run_cli("staff", "remove", "--name", "Chen Gong") == 0
        assert capsys.readouterr().out.splitlines() == [
            "Chen Gong (code not used yet): technician (all buildings) taken away",
            "Chen Gong is no longer staff",
            "1 unused staff code for them no longer valid",
            "Not told: never opened the bot",
        ]
        desk.emu.add_user(HIRE, "chen", "en")
        assert await desk.send(HIRE, f"/start {code}") == [
            "This code has expired. Please ask the property office for a new one."
        ]
        assert (await desk.send(HIRE, "/queue")) == ["This command is for property staff only."]
        assert (await desk.person(HIRE)).name == "chen"  # the record's name did not move to them


async def _recorded_case(desk: Desk) -> str:
    """A staffed office and an owner's complaint, recorded with Hu Area responsible."""
    await complaint_office(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    await record(desk, ref)
    return ref


async def test_an_answer_from_someone_who_has_left_is_not_sent_back_to_them(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        ref = await _recorded_case(desk)
        await answer(desk)
        # answered, so nothing held by name: they may leave
        assert await run_cli("staff", "remove", "--telegram-id", str(HANDLER)) == 0
        await desk.press(RECEPTIONIST, "Send back")
        assert await desk.send(RECEPTIONIST, "Please apologise in person") == [
            "Hu Area cannot be made responsible for this case."
        ]
        ticket, _ = await case(desk, ref)
        assert ticket.state == "answered" and ticket.assignee_id is None
        # the front desk gives it to someone else instead
        await desk.send(RECEPTIONIST, f"/ticket {ref}")
        await desk.press(RECEPTIONIST, "Give to someone else")
        assert await desk.press(RECEPTIONIST, "Chen Lead · team lead") == [
            f"{ref}: work-contact order sent to Chen Lead, due by 27 Nov 2026, 14:00."
        ]
        assert desk.unread(HANDLER2)[-1].startswith(f"📋 Work-contact order (工作联系单) {ref}")
        ticket, _ = await case(desk, ref)
        assert ticket.state == "in_hand" and ticket.assignee_id == (await desk.person(HANDLER2)).id


async def test_a_complaint_in_the_hands_of_a_leaver_is_given_to_someone_else_first(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        ref = await _recorded_case(desk)
        capsys.readouterr()
        assert await run_cli("staff", "remove", "--telegram-id", str(HANDLER)) == 1
        assert f"{ref} (in_hand)" in capsys.readouterr().err
        # only the front desk may move it, and not to the person who has it
        await desk.send(HANDLER, f"/ticket {ref}")
        assert "Give to someone else" not in [
            t for t, _ in desk.emu.buttons(desk.emu.last(HANDLER))
        ]
        await desk.send(RECEPTIONIST, f"/ticket {ref}")
        await desk.press(RECEPTIONIST, "Give to someone else")
        menu = [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]
        assert "Chen Lead · team lead" in menu and not any("Hu Area" in t for t in menu)
        forged = desk.emu.last(RECEPTIONIST)
        hu = (await desk.person(HANDLER)).id
        tid = (await case(desk, ref))[0].id
        await desk.press_data(RECEPTIONIST, forged, f"c:rsp:{tid}:{hu}")
        assert desk.last_answer() == "Hu Area is already responsible for this case."
        await desk.press_data(HANDLER, forged, f"c:rsp:{tid}:{hu}")
        assert desk.last_answer() == "You are not allowed to do this."
        desk.unread(HANDLER)
        await desk.press(RECEPTIONIST, "Chen Lead · team lead")
        assert desk.unread(HANDLER) == [
            f"{ref} has been given to Chen Lead; you no longer need to handle it."
        ]
        assert await run_cli("staff", "remove", "--telegram-id", str(HANDLER)) == 0
        history = "\n".join(await desk.send(RECEPTIONIST, f"/ticket {ref}"))
        assert "given to another person responsible · Wang Fang" in history


async def test_unbinding_lists_the_former_owners_open_complaints_too(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await complaint_office(desk)
        await desk.owner(OWNER, "1-2-301", lang="en")
        ref = await file_case(desk)
        capsys.readouterr()
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        assert (
            capsys.readouterr()
            .out.splitlines()[1]
            .startswith(f"  still open, filed by Li for this unit: {ref} (recording)")
        )


async def _vacant_flat(desk: Desk) -> str:
    """The vacancy office; the owner of 1-2-301 applied, was approved, water and power off."""
    await vacancy_office(desk)
    await desk.owner(OWNER, lang="en")
    ref = await vacancy_apply(desk)
    await vacancy_approve(desk, ref)
    await vacancy_shut_off(desk)
    return ref


async def test_a_former_owners_vacancy_ends_with_the_link_and_the_flat_is_no_longer_their_news(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        ref = await _vacant_flat(desk)
        await desk.at(datetime(2026, 12, 15, 2, tzinfo=UTC))  # 10:00 in the office
        vacancy_clear(desk)
        capsys.readouterr()

        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        out = capsys.readouterr().out.splitlines()
        assert out[1] == (
            f"  vacancy {ref} ended with the link (now restore); the service officers or the "
            "cashier are told; a restore order went to the front desk"
        )
        assert not any("still open" in line for line in out)
        await desk.deliver()
        assert desk.unread(OWNER) == [
            "The property office has ended your link to unit 1-2-301. The requests you filed "
            "stay under /my. If you think this is a mistake, please contact the front desk.\n"
            f"Your vacancy {ref} for this unit has ended with it: a new owner applies for "
            "themselves."
        ]
        # the 50 % rate was the former owner's: 100 % from today for whoever owns it now
        assert desk.unread(V_CASHIER) == [
            f"💰 Fee rate change, unit 1-2-301 ({ref}): the office ended the owner's link to "
            "the unit; 100 % again from 15 Dec 2026."
        ]
        assert desk.unread(V_RECEPTIONIST)[0].startswith(f"🔌 Restore order for {ref}\n")
        history = (await desk.send(V_SUPERVISOR, f"/ticket {ref}"))[0]
        assert "ended: the office ended the owner's link to the unit" in history

        # the restore visit's meter readings are the new owner's business, not the former's
        await desk.press(V_RECEPTIONIST, "Dispatch → Liu Qiang")
        await desk.press(V_TECH2, "Record restore")
        await desk.send(V_TECH2, "120.5")
        await desk.send(V_TECH2, "3050.2")
        await desk.press(V_TECH2, "Water and electricity are ON: save")
        assert (await desk.ticket(ref)).state == "cancelled"
        await desk.tick(timedelta(days=100))
        assert desk.unread(OWNER) == []


async def test_a_vacancy_application_not_yet_approved_is_withdrawn_with_the_link(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await vacancy_office(desk)
        await desk.owner(OWNER, lang="en")
        ref = await vacancy_apply(desk)
        vacancy_clear(desk)
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        await desk.deliver()
        assert desk.unread(V_SERVICE) == [
            f"{ref} has ended: the office ended the owner's link to the unit."
        ]
        assert desk.unread(V_CASHIER) == []
        assert (await desk.ticket(ref)).state == "cancelled"
        assert f"Your vacancy {ref} for this unit has ended with it" in desk.unread(OWNER)[0]
        # the former owner cannot apply for the flat again; nothing waits on the old application
        assert (await desk.send(OWNER, "/vacancy"))[0].startswith(NOT_LINKED)
        await desk.tick(timedelta(days=100))
        assert [m for m in desk.unread(OWNER) if ref in m] == []


async def test_a_role_taken_away_withdraws_the_queued_round_of_empty_flats_too(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # the round's list has no ticket: it went to them as the building's service officer
    async with Desk(database_url, clock) as desk:
        await _vacant_flat(desk)
        await desk.staff(V_SERVICE, "guard", name="Hu Area", lang="en")
        vacancy_clear(desk)
        clock.set(datetime(2026, 12, 1, 0, 30, tzinfo=UTC))  # the round is queued at 08:30
        await run_sweep(desk.rt)
        capsys.readouterr()
        argv = ("staff", "remove", "--telegram-id", str(V_SERVICE), "--role", "service")
        assert await run_cli(*argv) == 0
        # the round (the daily report of the evening before was delivered with the shut-off)
        assert "1 undelivered message to them withdrawn" in capsys.readouterr().out
        await desk.deliver()
        assert desk.unread(V_SERVICE) == [
            "The property office has taken the role service officer from you."
        ]


async def test_a_former_owner_sees_their_old_vacancy_but_not_the_flats_rate_today(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        old = await _vacant_flat(desk)
        # the end-date reminder reached them before the sale
        await desk.at(datetime(2027, 2, 16, 0, 30, tzinfo=UTC))
        assert desk.with_button(OWNER, "Apply again")
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        await desk.deliver()
        # a flat no longer theirs: refused before the form opens
        assert await desk.press(OWNER, "Apply again") == ["You can only apply for a unit you own."]
        # the new owner applies and is approved for the same flat
        await new_owner_approved(desk, OWNER2)
        await desk.at(datetime(2027, 2, 20, 2, tzinfo=UTC))
        assert "Fee rate in force today: 50 %" in (await desk.send(OWNER2, "/my"))[0]
        mine = (await desk.send(OWNER, "/my"))[0]
        assert old in mine and "Fee rate in force today" not in mine
        card = (await desk.send(OWNER, f"/ticket {old}"))[0]
        assert "50 %: 1 Dec 2026 until 16 Feb 2027" in card
        assert "Fee rate in force today" not in card


async def test_a_co_owners_vacancy_goes_on_under_the_other_owners_name(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    async with Desk(database_url, clock) as desk:
        await vacancy_office(desk)
        await desk.owner(OWNER, lang="en")
        await desk.owner(OWNER2, name="Zhao", lang="en")  # both own 1-2-301
        ref = await vacancy_apply(desk)
        await vacancy_approve(desk, ref)
        await vacancy_shut_off(desk)
        vacancy_clear(desk, OWNER, OWNER2, V_CASHIER, V_RECEPTIONIST)
        capsys.readouterr()

        argv = ("units", "unbind", "--unit", "1-2-301", "--telegram-id", str(OWNER))
        assert await run_cli(*argv) == 0
        assert capsys.readouterr().out.splitlines()[1] == (
            f"  vacancy {ref} (vacant) goes on under the name of Zhao, who still owns the unit; "
            "told through the bot"
        )
        await desk.deliver()
        # the flat still stands empty: nothing ends, nothing is restored, the rate stays
        assert (await desk.ticket(ref)).state == "vacant"
        assert desk.unread(V_CASHIER) == [] and desk.unread(V_RECEPTIONIST) == []
        assert desk.unread(OWNER)[0].endswith(
            f"Your vacancy {ref} for this unit goes on under the name of its other owner."
        )
        assert desk.unread(OWNER2) == [
            f"The vacancy application {ref} for unit 1-2-301 now goes on under your name: the "
            "office has ended the link of the owner who filed it."
        ]
        assert ref in (await desk.send(OWNER2, "/my"))[0]
        assert ref not in (await desk.send(OWNER, "/my"))[0]
        # and it is theirs to cancel now
        await desk.send(OWNER2, f"/ticket {ref}")
        assert (await desk.press(OWNER2, "Cancel application"))[0].startswith(f"Cancel {ref}?")


async def test_the_office_is_told_when_another_owner_is_taken_for_the_registered_one(
    database_url: str, clock: ManualClock, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # Two plain owner codes (before co-owner codes existed): when the register's owner is
    # unlinked, the other is taken for them and shows the register's name and phone.
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        await desk.owner(TENANT, name="Qian", lang="en")
        capsys.readouterr()
        unbind = ("units", "unbind", "--unit", "1-2-301", "--telegram-id", str(OWNER))
        assert await run_cli(*unbind) == 0
        out = capsys.readouterr().out
        assert (
            f"Note: Qian (Telegram id {TENANT}) is now taken for the registered owner of "
            "1-2-301; the register names 李伟, phone 13800000000. If the unit has changed "
            "hands, import the new owner's details (`propdesk units import FILE.csv`)."
        ) in out
        # unlinking the other owner afterwards changes who is registered for nobody
        again = ("units", "unbind", "--unit", "1-2-301", "--telegram-id", str(TENANT))
        assert await run_cli(*again) == 0
        assert "Note:" not in capsys.readouterr().out
