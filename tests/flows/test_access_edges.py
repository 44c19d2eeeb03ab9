"""Who goes by which name, and who may sign what, found in review: a co-owner, a tenant who
bought the flat, a landlord with no phone on file, a former owner re-sending their old link,
staff who own a flat in their own building."""

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bot.clock import ManualClock
from models.property import UnitBinding
from tests.flows import lost_found_steps as lf
from tests.flows import repair_steps as rs
from tests.flows import vacancy_steps as vs
from tests.flows.harness import Desk, run_cli

OWNER, OWNER2, TENANT = 1001, 1002, 1003
OWN_CASE = (
    "This is your own application: a colleague checks the ID, signs the opinion and decides on it."
)


async def test_a_co_owner_goes_by_their_own_name_at_the_desk_and_in_repairs(desk: Desk) -> None:
    # The register names one owner (李伟); his wife, linked as a second owner, shows her own
    # ID at the desk and is the one to call about what she reported.
    await lf.staffed(desk)
    await desk.staff(rs.TECH, "technician", name="Zhang Wei", buildings=("1",), lang="en")
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")
    desk.emu.add_user(OWNER2, "Zhao Min", "en")
    greeting = await desk.send(OWNER2, f"/start {await desk.invite('1-2-301')}")
    assert greeting[0] == "Welcome, Zhao Min! You are now linked to unit 1-2-301."
    await desk.send(OWNER2, "/phone 13700000001")
    claim_ref = await lf.claim(desk, OWNER2, await lf.register(desk))
    assert (await lf.claim_of(desk, claim_ref))[1].claimant_name == "Zhao Min"
    desk.unread(lf.RECEPTIONIST)
    await rs.file_home_repair(desk, owner=OWNER2, photos=0)
    new = desk.unread(lf.RECEPTIONIST)[0]
    assert (
        "Owner: 李伟, phone 13800000000\n"
        "Reported by Zhao Min, not the registered owner, phone 13700000001"
    ) in new
    # the registered owner himself: no such line
    await rs.file_home_repair(desk, owner=OWNER, text="The fan rattles", photos=0)
    assert "Reported by" not in desk.unread(lf.RECEPTIONIST)[0]


async def test_a_tenant_given_an_owner_code_becomes_the_owner(desk: Desk) -> None:
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301')}")  # they bought it
    async with desk.session() as s:
        assert (await s.execute(select(UnitBinding.relation))).scalars().all() == ["owner"]
    assert (await desk.send(TENANT, "/vacancy"))[0] != "You can only apply for a unit you own."


async def test_the_owner_line_never_shows_the_tenants_phone_as_the_landlords(
    desk: Desk,
) -> None:
    await rs.staffed(desk)
    await desk.add_unit("1-2-301", owner_name="李伟", phone=None)  # no phone on file
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    await desk.send(TENANT, "/phone 13912345678")
    desk.unread(rs.RECEPTIONIST)
    await rs.file_home_repair(desk, owner=TENANT, photos=0)
    assert (
        "Owner: 李伟, phone —\nReported by Chen Jing, not the registered owner, phone 13912345678"
    ) in desk.unread(rs.RECEPTIONIST)[0]


async def test_a_former_owner_resending_their_old_link_is_not_welcomed_back(
    database_url: str, clock: ManualClock, office: None
) -> None:
    async with Desk(database_url, clock) as desk:
        desk.emu.add_user(OWNER, "Li", "en")
        code = await desk.invite("1-2-301")
        await desk.send(OWNER, f"/start {code}")
        assert (await desk.send(OWNER, f"/start {code}"))[0] == "Welcome back, Li."
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        await desk.deliver()
        assert await desk.send(OWNER, f"/start {code}") == [
            "This code has already been used. Please ask the property office for a new one."
        ]


async def test_staff_cannot_sign_off_their_own_vacancy_application(desk: Desk) -> None:
    # It halves their own fees: a colleague of the building checks the ID, signs, decides.
    await vs.staffed(desk)
    await desk.send(vs.SERVICE, f"/start {await desk.invite('1-2-301')}")
    ref = await vs.apply(desk, owner=vs.SERVICE)
    seen = desk.with_button(vs.SERVICE, "Original ID seen")
    assert await desk.press(vs.SERVICE, "Original ID seen", seen) == [OWN_CASE]
    assert (await desk.ticket(ref)).state == "id_check"
    await desk.send(vs.SUPERVISOR, f"/start {await desk.invite('1-2-302')}")
    own = await vs.apply(desk, owner=vs.SUPERVISOR)
    theirs = [
        m
        for m in desk.emu.messages(vs.SERVICE)
        if own in m.content and ("Original ID seen" in [t for t, _ in desk.emu.buttons(m)])
    ][-1]
    await desk.press(vs.SERVICE, "Original ID seen", theirs)
    await desk.press(vs.SERVICE, "Recommend approval")
    await desk.send(vs.SERVICE, "Known to me")
    assert await desk.press(vs.SUPERVISOR, "Approve") == [OWN_CASE]
    assert (await desk.ticket(own)).state == "approval"


async def test_a_former_owner_on_the_staff_does_not_see_the_new_owners_vacancy(
    database_url: str, clock: ManualClock, office: None
) -> None:
    async with Desk(database_url, clock) as desk:
        await vs.staffed(desk)
        await desk.owner(OWNER, lang="en")
        old = await vs.apply(desk)
        await vs.approve(desk, old)
        await vs.shut_off(desk)
        await desk.staff(OWNER, "guard", name="Li", lang="en")  # also works the gate
        await desk.at(datetime(2027, 2, 16, 0, 30, tzinfo=UTC))
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        await desk.deliver()
        new = await vs.new_owner_approved(desk, OWNER2)
        await desk.at(datetime(2027, 2, 20, 2, tzinfo=UTC))
        mine = (await desk.send(OWNER, "/my"))[0]
        assert old in mine and "Fee rate in force today" not in mine
        # the cashier, whose work it is, still sees it
        assert "Fee rate in force today: 50 %" in (await desk.send(vs.CASHIER, f"/ticket {new}"))[0]


async def test_every_receptionist_told_of_a_claim_may_open_it(desk: Desk) -> None:
    # One desk holds the estate's found items: a receptionist of building 2 who is told of a
    # building-1 owner's claim (with their phone) must be able to open it and act on it.
    await lf.staffed(desk)
    await desk.staff(2002, "receptionist", name="Sun Desk", buildings=("2",), lang="en")
    await desk.owner(OWNER, "1-2-301", lang="en")
    claim_ref = await lf.claim(desk, OWNER, await lf.register(desk))
    told = [m for m in desk.inbox(2002) if claim_ref in m]
    assert told, desk.inbox(2002)
    card = (await desk.send(2002, f"/ticket {claim_ref}"))[0]
    assert card.startswith(claim_ref) or claim_ref in card.split("\n")[0], card
    assert "No ticket" not in card and "not found" not in card


async def test_a_tenant_given_an_owner_code_later_does_not_displace_the_registered_owner(
    desk: Desk,
) -> None:
    await lf.staffed(desk)
    await desk.staff(rs.TECH, "technician", name="Zhang Wei", buildings=("1",), lang="en")
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301')}")  # bought a share
    desk.unread(lf.RECEPTIONIST)
    await rs.file_home_repair(desk, owner=OWNER, photos=0)
    assert "Reported by" not in desk.unread(lf.RECEPTIONIST)[0]
    claim_ref = await lf.claim(desk, TENANT, await lf.register(desk))
    assert (await lf.claim_of(desk, claim_ref))[1].claimant_name == "Chen Jing"


async def test_a_co_owner_is_not_told_staff_call_the_registers_number(desk: Desk) -> None:
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")
    desk.emu.add_user(OWNER2, "Zhao Min", "en")
    await desk.send(OWNER2, f"/start {await desk.invite('1-2-301')}")
    assert await desk.send(OWNER2, "/phone 13700000001") == [
        "Saved: the office will call you on 13700000001."
    ]


async def test_a_supervisor_of_another_building_does_not_open_a_claim(desk: Desk) -> None:
    # the desk is estate-wide; other roles keep to their buildings
    await lf.staffed(desk)
    await desk.staff(3302, "supervisor", name="Sun Two", buildings=("2",), lang="en")
    await desk.owner(OWNER, "1-2-301", lang="en")
    claim_ref = await lf.claim(desk, OWNER, await lf.register(desk))
    refused = (await desk.send(3302, f"/ticket {claim_ref}"))[0]
    assert refused.startswith(f"No ticket {claim_ref}")


async def test_a_co_owner_code_keeps_the_register_right_whoever_links_first(
    desk: Desk, office: None, capsys: pytest.CaptureFixture[str]
) -> None:
    # the office knows who is who: a co-owner code (`invite --co-owner`) redeemed before the
    # registered owner's own still leaves 李伟 the register's owner, and Zhao Min an owner
    await lf.staffed(desk)
    await desk.staff(rs.TECH, "technician", name="Zhang Wei", buildings=("1",), lang="en")
    await desk.add_unit("1-2-301")
    assert await run_cli("invite", "--unit", "1-2-301", "--co-owner") == 0
    code = capsys.readouterr().out.strip().splitlines()[-1]
    desk.emu.add_user(OWNER2, "Zhao Min", "en")
    assert (await desk.send(OWNER2, f"/start {code}"))[0] == (
        "Welcome, Zhao Min! You are now linked to unit 1-2-301."
    )
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")
    desk.unread(lf.RECEPTIONIST)
    await rs.file_home_repair(desk, owner=OWNER, photos=0)
    assert "Reported by" not in desk.unread(lf.RECEPTIONIST)[0]
    await rs.file_home_repair(desk, owner=OWNER2, text="The fan rattles", photos=0)
    assert "Reported by Zhao Min, not the registered owner" in desk.unread(lf.RECEPTIONIST)[0]
    # an owner's rights: she may apply for the vacancy
    assert (await desk.send(OWNER2, "/vacancy"))[0] != "You can only apply for a unit you own."


async def test_a_co_owner_on_the_staff_cannot_sign_off_the_flats_vacancy(desk: Desk) -> None:
    # the application halves their own fees as much as the applicant's
    await vs.staffed(desk)
    await desk.owner(vs.OWNER, "1-2-301", lang="en")
    await desk.send(vs.SERVICE, f"/start {await desk.invite('1-2-301', relation='co_owner')}")
    ref = await vs.apply(desk)
    seen = desk.with_button(vs.SERVICE, "Original ID seen")
    assert await desk.press(vs.SERVICE, "Original ID seen", seen) == [OWN_CASE]
    assert (await desk.ticket(ref)).state == "id_check"
