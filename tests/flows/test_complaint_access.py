"""Who may do what on a complaint: owners cannot record, resolve or see others' cases, the
person responsible never sees the phone, and forged or stale buttons change nothing."""

from sqlalchemy import func, select

from bot.emulator import EmuMessage
from models.notification import Notification
from tests.flows.complaint_steps import (
    HANDLER,
    HANDLER2,
    OWNER,
    OWNER2,
    PHONE,
    RECEPTIONIST,
    SUPERVISOR,
    TECH,
    case,
    file_case,
    record,
    staffed,
)
from tests.flows.harness import Desk

TENANT = 1003
NOT_ALLOWED = "You are not allowed to do this."
STALE = "This button is out of date. Nothing was changed."


async def _own_message(desk: Desk, tg_id: int) -> EmuMessage:
    """A message in the user's own chat to attach a forged press to."""
    await desk.send(tg_id, "/help")
    return desk.emu.last(tg_id)


async def _snapshot(desk: Desk, ref: str) -> tuple[str, int, int, int]:
    """State, version and event count of the case, and how many messages were ever queued."""
    ticket, _ = await case(desk, ref)
    async with desk.session() as s:
        queued = int(await s.scalar(select(func.count()).select_from(Notification)) or 0)
    return ticket.state, ticket.version, len(ticket.events), queued


async def test_an_owner_cannot_record_resolve_or_open_a_case(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    ticket, _ = await case(desk, ref)
    handler = await desk.person(HANDLER)
    anywhere = desk.emu.last(OWNER)
    before = await _snapshot(desk, ref)
    for data in (
        f"c:cls:{ticket.id}:1",
        f"c:snd:{ticket.id}:1.0.{handler.id}.1",
        f"c:res:{ticket.id}",
        f"c:rep:{ticket.id}",
        f"c:opn:{ticket.id}",
    ):
        assert await desk.press_data(OWNER, anywhere, data) == [NOT_ALLOWED], data
    # opening it shows them their own case as owners see it, without the staff's actions
    opened = await desk.press_data(OWNER, anywhere, f"c:open:{ticket.id}")
    assert opened[0].startswith(f"Complaint {ref}") and "History:" not in opened[0]
    assert desk.emu.buttons(desk.emu.last(OWNER)) == []
    assert await _snapshot(desk, ref) == before
    # Once recorded and answered, the owner still cannot confirm it for the front desk.
    await record(desk, ref)
    await desk.press(HANDLER, "Record handling and result")
    await desk.send(HANDLER, "Looked into it")
    await desk.send(HANDLER, "Spoke to the guard")
    before = await _snapshot(desk, ref)
    assert await desk.press_data(OWNER, anywhere, f"c:res:{ticket.id}") == [NOT_ALLOWED]
    assert await desk.press_data(OWNER, anywhere, f"c:ofu:{ticket.id}:y") == [NOT_ALLOWED]
    assert await _snapshot(desk, ref) == before


async def test_an_owner_cannot_see_another_owners_case(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.owner(OWNER2, "1-2-302", name="Zhou", lang="en")
    ref = await file_case(desk)
    assert await desk.send(OWNER2, f"/ticket {ref}") == [f"No ticket {ref} was found among yours."]
    assert ref not in (await desk.send(OWNER2, "/my"))[0]
    assert ref in (await desk.send(OWNER, "/my"))[0]
    ticket, _ = await case(desk, ref)
    assert await desk.press_data(OWNER2, desk.emu.last(OWNER2), f"t:{ticket.id}") == []
    assert desk.last_answer() == STALE


async def test_the_person_responsible_never_sees_the_phone(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    anonymous = await file_case(desk)
    await record(desk, anonymous)
    shared = await file_case(desk, text="The cleaner left the stairwell wet again")
    await record(desk, shared, share="Share unit and name")
    orders = [m for m in desk.inbox(HANDLER) if m.startswith("📋")]
    assert len(orders) == 2
    assert all(PHONE not in m for m in desk.inbox(HANDLER))
    assert "1-2-301" not in orders[0] and "李伟" not in orders[0]
    assert "Unit: 1-2-301" in orders[1] and "Owner: 李伟" in orders[1]
    # Opening the case, or /ticket, does not show more.
    for ref in (anonymous, shared):
        ticket, _ = await case(desk, ref)
        card = await desk.press_data(HANDLER, desk.emu.last(HANDLER), f"c:open:{ticket.id}")
        assert PHONE not in card[0] and "History:" not in card[0]
        listed = await desk.send(HANDLER, f"/ticket {ref}")
        assert PHONE not in listed[0]
    hidden = (await desk.send(HANDLER, f"/ticket {anonymous}"))[0]
    # /ticket shows the anonymous handler what the Open card shows: no unit, no owner's name.
    assert "1-2-301" not in hidden and "History:" not in hidden and "Li" not in hidden

    # The front desk sees the phone in the same card.
    ticket, _ = await case(desk, anonymous)
    card = await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"c:open:{ticket.id}")
    assert f"phone {PHONE}" in card[0] and "History:" in card[0]


async def test_forged_and_stale_buttons_change_nothing(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await file_case(desk)
    ticket, _ = await case(desk, ref)
    owner = await desk.person(OWNER)
    handler = await desk.person(HANDLER)
    msg = desk.emu.last(RECEPTIONIST)
    before = await _snapshot(desk, ref)
    refusals = {
        f"c:snd:{ticket.id}:1.0.{owner.id}.0": f"{owner.name} cannot be made responsible for "
        "this case.",
        f"c:snd:{ticket.id}:9.0.{handler.id}.0": STALE,
        f"c:snd:{ticket.id}:s.0.{handler.id}.0": STALE,  # a suggestion's code on a complaint
        f"c:snd:{ticket.id}:1.0.999999.0": STALE,
        f"c:snd:{ticket.id}:1.0": STALE,
        f"c:snd:{ticket.id}:1.x.{handler.id}.0": STALE,
        "c:snd:abc:1.0.1.0": STALE,
        "c:snd:99999999:1.0.1.0": STALE,
        f"c:maj:{ticket.id}:7.1": STALE,
        f"c:fdp:{ticket.id}:{handler.id}": NOT_ALLOWED,
        f"c:rep:{ticket.id}": NOT_ALLOWED,  # the receptionist is not the person responsible
    }
    for data, answer in refusals.items():
        assert await desk.press_data(RECEPTIONIST, msg, data) == [answer], data
    assert await _snapshot(desk, ref) == before

    # After it is recorded: a second receptionist's stale class button, the other handler.
    await record(desk, ref)
    before = await _snapshot(desk, ref)
    replies = await desk.press_data(RECEPTIONIST, msg, f"c:snd:{ticket.id}:3.0.{handler.id}.1")
    assert replies == [
        f"{ref} is now in a state where this is no longer possible (with the person responsible)."
    ]
    other = await _own_message(desk, HANDLER2)
    assert await desk.press_data(HANDLER2, other, f"c:rep:{ticket.id}") == [NOT_ALLOWED]
    tech = await _own_message(desk, TECH)
    assert await desk.press_data(TECH, tech, f"c:open:{ticket.id}") == [NOT_ALLOWED]
    mine = desk.emu.last(HANDLER)
    assert await desk.press_data(HANDLER, mine, f"c:fur:{ticket.id}:maybe") == [STALE]
    assert await _snapshot(desk, ref) == before
    _, complaint = await case(desk, ref)
    assert complaint.klass == 1 and not complaint.share_unit


async def test_an_owner_opens_their_own_complaint_and_sees_the_offices_answer(
    desk: Desk,
) -> None:
    # README "Who sees what": an owner sees their own requests (/my, /ticket)
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    ref = await file_case(desk)
    card = await desk.send(OWNER, f"/ticket {ref}")
    assert card == [
        f"Complaint {ref} — waiting to be recorded by the front desk\n"
        f"{ref} · complaint, not yet classified\n"
        "Where: North gate\n"
        "Details: The guard at the north gate was rude to my mother"
    ]
    assert desk.emu.buttons(desk.emu.last(OWNER)) == []  # no staff actions
    # the same through /my's button; another owner gets nothing
    ticket, _ = await case(desk, ref)
    await desk.send(OWNER, "/my")
    assert (await desk.press_data(OWNER, desk.emu.last(OWNER), f"t:{ticket.id}")) == card
    assert await desk.send(OWNER2, f"/ticket {ref}") == [f"No ticket {ref} was found among yours."]


async def test_a_tenants_complaint_is_shown_and_followed_up_under_the_tenants_name(
    desk: Desk,
) -> None:
    # The landlord on file did not complain: the desk, the person responsible (when shared)
    # and the follow-up must reach the tenant who did, not call the landlord about it.
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    desk.unread(RECEPTIONIST)
    ref = await file_case(desk, owner=TENANT, text="The lift has been stuck for two days")
    new = desk.unread(RECEPTIONIST)[0]
    assert (
        f"Owner: 李伟, phone {PHONE}\nRaised by Chen Jing, not the registered owner, phone —"
    ) in new
    await record(desk, ref, share="Share unit and name")
    order = next(m for m in desk.inbox(HANDLER) if m.startswith("📋"))
    assert "Raised by Chen Jing, not the registered owner" in order
    assert "李伟" not in order and PHONE not in order
    await desk.send(TENANT, "/phone 13912345678")  # given later: the follow-up has it
    await desk.press(HANDLER, "Record handling and result")
    await desk.send(HANDLER, "Lift company called")
    await desk.send(HANDLER, "Repaired the same afternoon")
    await desk.press(RECEPTIONIST, "Confirm and tell the owner")
    await desk.press(RECEPTIONIST, "Send the handler's result")
    assert "Repaired the same afternoon" in desk.inbox(TENANT)[-1]
    assert not any(ref in m for m in desk.inbox(OWNER))
    task = next(m for m in desk.inbox(SUPERVISOR) if m.startswith("📞"))
    assert "Raised by Chen Jing, not the registered owner, phone 13912345678" in task
    # the landlord's own case carries no such line
    own = await file_case(desk, text="Someone parks in my space")
    assert own != ref and "Raised by" not in desk.unread(RECEPTIONIST)[0]
