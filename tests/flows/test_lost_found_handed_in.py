"""The chain of custody (seed ch.6 §4 3.1, 3.2, 4.1-4.3): what a guard (or any staff member but
the receptionist) finds is handed in to the front desk, which confirms receiving it; the
desk's clocks start then; a desk that does not confirm is chased; owners may claim an item on
its way, but its ID check waits for the desk."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.clock import ManualClock
from models.lost_found import ADMIN as IN_ADMIN_CUSTODY
from models.lost_found import ClaimSt, ItemSt
from tests.flows.harness import Desk
from tests.flows.lost_found_steps import (
    ADMIN,
    DETAILS,
    GUARD,
    OWNER,
    RECEPTIONIST,
    SUPERVISOR,
    check_id,
    claim,
    claim_of,
    item_of,
    receive,
    register,
    staffed,
)

RECEPTIONIST2 = 2102
NOTICES = -1001234
SH = ZoneInfo("Asia/Shanghai")
ON_ITS_WAY = "handed in, waiting to be received at the front desk"


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


def news(desk: Desk, tg_id: int) -> list[str]:
    """New messages, without the supervisors' daily repair report and the weekly notice."""
    return [m for m in desk.unread(tg_id) if not m.startswith(("📊 Daily report", "📢"))]


async def test_a_guards_find_waits_for_the_desk_until_a_receptionist_receives_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.staff(RECEPTIONIST2, "receptionist", name="Li Desk", lang="en")
    ref = await register(desk, GUARD, received=False)
    item_ticket, item = await item_of(desk, ref)
    assert item_ticket.state == ItemSt.TO_DESK

    # Every receptionist gets the notice with the two buttons.
    notice = desk.with_button(RECEPTIONIST2, "Received at the desk")
    assert [t for t, _ in desk.emu.buttons(notice)] == ["Received at the desk", f"Open {ref}"]
    assert notice.content.startswith(
        f"🧳 Zhao Guard registered a found item and is handing it in to the front desk: {ref}."
    )
    assert desk.with_button(RECEPTIONIST, "Received at the desk")

    # /queue at the desk shows it; the card offers the same button.
    queue = await desk.send(RECEPTIONIST, "/queue")
    assert f"{ref} · — · {ON_ITS_WAY}" in queue[0]
    card = await desk.press(RECEPTIONIST, ref)
    assert card[0].startswith(f"Found item {ref} — {ON_ITS_WAY}")
    assert "Received at the desk" in [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))]

    # Only a receptionist may confirm it: a supervisor's forged press changes nothing.
    await desk.send(SUPERVISOR, f"/ticket {ref}")
    forged = await desk.press_data(SUPERVISOR, desk.emu.last(SUPERVISOR), f"lf:in:{item.ticket_id}")
    assert forged == ["You are not allowed to do this."]
    assert (await item_of(desk, ref))[0].state == ItemSt.TO_DESK

    desk.unread(GUARD)
    assert await desk.press(RECEPTIONIST, "Received at the desk") == [
        f"📥 {ref} is recorded as received at the front desk, by you: the desk keeps it now."
    ]
    assert desk.unread(GUARD) == [
        f"✅ {ref} (black wallet) was received at the front desk by Wang Fang: it is in the "
        "desk's keeping now. Thank you for handing it in."
    ]
    item_ticket, _ = await item_of(desk, ref)
    receptionist = await desk.person(RECEPTIONIST)
    assert item_ticket.state == ItemSt.HELD
    assert [(e.action, e.actor_id) for e in item_ticket.events][-1] == (
        "lf_received",
        receptionist.id,
    )

    # The other receptionist's button is out of date now: refused politely, nothing changes.
    late = f"{ref} has already been received at the front desk. Nothing was changed."
    assert await desk.press(RECEPTIONIST2, "Received at the desk", notice) == [late]
    assert desk.last_answer() == late
    assert (await item_of(desk, ref))[0].events[-1].action == "lf_received"
    assert ref not in (await desk.send(RECEPTIONIST, "/queue"))[0]


async def test_a_receptionists_find_is_held_at_once_and_a_supervisors_is_handed_in(
    desk: Desk,
) -> None:
    await staffed(desk)
    own = await register(desk, RECEPTIONIST)
    assert (
        desk.unread(RECEPTIONIST)[-1] == f"✅ Registered as {own}. Keep the item at the front desk."
    )
    assert (await item_of(desk, own))[0].state == ItemSt.HELD
    # A supervisor is one of 各工作人员 (3.2): they hand in what they find too.
    boss = await register(desk, SUPERVISOR, received=False)
    assert (await item_of(desk, boss))[0].state == ItemSt.TO_DESK
    assert desk.with_button(RECEPTIONIST, "Received at the desk")


async def test_a_valuable_goes_to_administration_at_the_close_of_the_day_the_desk_got_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    phone = await register(
        desk, name="mobile phone", category="Mobile phone", valuable=None, received=False
    )
    assert desk.unread(GUARD)[-1] == (
        "💰 Valuable: if nobody claims it on the day the front desk receives it, it goes into "
        "the safekeeping of administration at the close of that day."
    )
    await desk.at(local(2026, 11, 27, 17, 30))  # Friday's close: not at the desk yet
    assert (await item_of(desk, phone))[1].custody == "desk"
    assert not any("safekeeping of administration today" in m for m in desk.inbox(ADMIN))

    desk.clock.set(local(2026, 11, 28, 9, 0))  # received on Saturday morning
    await receive(desk, phone)
    assert desk.unread(RECEPTIONIST)[-1] == (
        "💰 Valuable: if nobody claims it by 28 Nov 2026, 17:30, it goes into the safekeeping "
        "of administration."
    )
    await desk.at(local(2026, 11, 28, 17, 29))
    assert (await item_of(desk, phone))[1].custody == "desk"
    await desk.at(local(2026, 11, 28, 17, 30))
    assert (await item_of(desk, phone))[1].custody == IN_ADMIN_CUSTODY
    assert news(desk, ADMIN)[-1].startswith(
        f"💰 Valuable item {phone} was not claimed on the day the front desk received it"
    )
    # received before the supervisors were to be told: they never are
    assert not any("still not been received" in m for m in desk.inbox(SUPERVISOR))


async def test_not_received_by_the_close_the_finder_and_desk_are_reminded_then_the_supervisor(
    desk: Desk,
) -> None:
    await staffed(desk)
    ref = await register(desk, received=False)  # Friday 27 Nov 2026, 10:00
    for person in (GUARD, RECEPTIONIST, SUPERVISOR):
        desk.unread(person)
    await desk.at(local(2026, 11, 27, 17, 29))
    assert news(desk, GUARD) == news(desk, RECEPTIONIST) == news(desk, SUPERVISOR) == []

    await desk.at(local(2026, 11, 27, 17, 30))
    assert news(desk, GUARD) == [
        f"⏰ The front desk has not confirmed receiving {ref} (black wallet), which you "
        "registered on 27 Nov 2026. Please hand it in to the receptionist (4.1): they confirm it "
        "in the bot."
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(GUARD))] == [f"Open {ref}"]
    assert news(desk, RECEPTIONIST) == [
        f"⏰ {ref} (black wallet), registered by Zhao Guard on 27 Nov 2026, has not been "
        "received at the front desk yet. If it is at the desk, press Received at the desk; if "
        "not, please ask Zhao Guard to hand it in.\n"
        f"{ref} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "⏳ Handed in, not yet received at the front desk."
    ]
    reminder = desk.emu.last(RECEPTIONIST)
    assert [t for t, _ in desk.emu.buttons(reminder)] == ["Received at the desk", f"Open {ref}"]
    assert news(desk, SUPERVISOR) == []

    # Once only; the supervisors at the close of the next business day.
    await desk.at(local(2026, 11, 28, 17, 29))
    assert news(desk, GUARD) == news(desk, RECEPTIONIST) == news(desk, SUPERVISOR) == []
    await desk.at(local(2026, 11, 28, 17, 30))
    boss = news(desk, SUPERVISOR)
    assert len(boss) == 1 and boss[0].startswith(
        f"⚠️ {ref} (black wallet), registered by Zhao Guard on 27 Nov 2026, has still not been "
        "received at the front desk, a business day later."
    )
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(SUPERVISOR))] == [f"Open {ref}"]
    assert news(desk, GUARD) == news(desk, RECEPTIONIST) == []
    await desk.tick(timedelta(days=3))
    assert news(desk, GUARD) == news(desk, RECEPTIONIST) == news(desk, SUPERVISOR) == []

    # The reminder's button still works.
    desk.clock.set(local(2026, 12, 1, 9, 0))
    assert (await desk.press(RECEPTIONIST, "Received at the desk", reminder))[0].startswith(
        f"📥 {ref} is recorded as received"
    )


async def test_an_item_on_its_way_can_be_claimed_but_the_id_check_waits_for_the_desk(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await register(desk, received=False)
    item_id = (await item_of(desk, ref))[0].id

    # The owner sees it like any other found item, and may claim it.
    await desk.send(OWNER, "/lost")
    listing = await desk.press(OWNER, "Recently found items")
    assert listing == [
        "Found items, newest first:\n"
        f"{ref} · Wallets and bags · black wallet — found at Lobby of building 1, "
        "27 Nov 2026, 10:00"
    ]
    await desk.press(OWNER, f"Claim {ref}")
    await desk.send(OWNER, "Brown leather wallet")
    await desk.send(OWNER, "Three bank cards and a cat photo")
    filed = await desk.press(OWNER, "Submit claim")
    claim_ref = filed[0].rsplit(" ", 1)[1]
    assert filed[1] == (
        "The item is on its way to the front desk. We will tell you when it is there: then "
        "bring your original ID card (身份证原件) to collect it; you sign for it here in the bot."
    )
    assert desk.unread(RECEPTIONIST)[-1].endswith(
        "⏳ Handed in, not yet received at the front desk.\n"
        "When the claimant comes with their original ID card and the description matches, "
        "press Check ID at the desk."
    )

    # Check ID, or a walk-in handover, before the desk has it: refused, with why.
    refused = (
        f"{ref} has not been received at the front desk yet: the ID check and the handover "
        "wait until it is here. If it has just arrived, press Received at the desk first."
    )
    assert await desk.press(RECEPTIONIST, "Check ID at the desk") == [refused]
    assert desk.last_answer() == refused
    walk = await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"lf:walk:{item_id}")
    assert walk == [refused]
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.CLAIMED

    # Received: the claimant hears it is there, and the ID check goes through.
    await receive(desk, ref)
    assert desk.unread(OWNER)[-1] == (
        f"📥 black wallet ({ref}), the item of your claim {claim_ref}, is now at the front desk. "
        "Please bring your original ID card (身份证原件) to collect it."
    )
    await check_id(desk, claim_ref)
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.ID_CHECKED

    # Nothing staff-only reached the owner: not the details, the finder, nor the custody line.
    seen = "\n".join(desk.inbox(OWNER))
    assert DETAILS not in seen and "Zhao Guard" not in seen and "⏳" not in seen


async def test_an_item_on_its_way_is_not_in_the_notice_nor_handed_to_administration(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, notice_chat=NOTICES, locale="en") as desk:
        desk.emu.add_group(NOTICES, "Estate notices", "channel")
        await staffed(desk)
        wallet = await register(desk, received=False)
        keys = await register(desk, name="car keys", category="Keys", place="Car park")
        await desk.at(local(2026, 11, 30, 9, 0))  # Monday: the weekly notice
        (notice,) = desk.emu.texts(NOTICES)
        assert keys in notice and wallet not in notice
        await desk.at(local(2026, 11, 30, 17, 30))  # the month-end handover (4.6)
        assert (await item_of(desk, keys))[1].custody == IN_ADMIN_CUSTODY
        wallet_ticket, _ = await item_of(desk, wallet)
        assert wallet_ticket.state == ItemSt.TO_DESK
        assert "lf_to_admin" not in [e.action for e in wallet_ticket.events]


async def test_a_claim_on_an_item_on_its_way_is_not_chased_until_the_desk_has_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    ref = await register(desk, received=False)
    await claim(desk, OWNER, ref)
    desk.unread(OWNER)
    await desk.tick(timedelta(days=10))  # three business days were the claim's first reminder
    assert not any(m.startswith("⏰ Your claim") for m in desk.unread(OWNER))
    await receive(desk, ref)
    await desk.tick(timedelta(days=10))
    assert any(m.startswith("⏰ Your claim") for m in desk.unread(OWNER))


async def test_an_item_never_received_is_reported_for_disposal_once_the_desk_has_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    ref = await register(desk, received=False)  # 27 Nov 2026: three months end 27 Feb 2027
    await desk.at(local(2027, 2, 27, 17, 30))
    assert (await item_of(desk, ref))[0].state == ItemSt.TO_DESK
    assert not any(m.startswith(f"🗑 {ref}") for m in desk.unread(ADMIN))
    desk.clock.set(local(2027, 3, 1, 9, 0))
    await receive(desk, ref)
    await desk.at(local(2027, 3, 1, 17, 30))
    assert (await item_of(desk, ref))[0].state == ItemSt.FOR_DISPOSAL
    assert any(
        m.startswith(f"🗑 {ref} has not been claimed for 3 months") for m in desk.unread(ADMIN)
    )
