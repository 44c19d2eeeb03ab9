"""Found → searched → claimed → ID checked → signed → returned, through Telegram, with every
person's messages checked; the owner never sees the registered details; the ID number is kept
masked only; a returned item takes no second claim; owners cannot act for the desk."""

import asyncio
import logging

import pytest
from sqlalchemy import MetaData, select, text
from telegram import Update

from models.draft import Draft
from models.lost_found import ClaimSt, ItemSt
from models.notification import Notification
from tests.flows.harness import Desk
from tests.flows.lost_found_steps import (
    DETAILS,
    GUARD,
    ID_MASKED,
    ID_NUMBER,
    OWNER,
    OWNER2,
    OWNER3,
    RECEPTIONIST,
    check_id,
    claim,
    claim_of,
    item_of,
    photos_sent_to,
    receive,
    register,
    staffed,
)

TENANT = 1201


async def _everything_stored(desk: Desk) -> str:
    """Every row of every table, as text (to look for a number that must not be there)."""
    metadata = MetaData()
    async with desk.rt.engine.connect() as conn:
        await conn.run_sync(metadata.reflect)
        dump = []
        for table in metadata.sorted_tables:
            rows = (await conn.execute(text(f'SELECT * FROM "{table.name}"'))).all()
            dump.append(f"{table.name}: {rows!r}")
    return "\n".join(dump)


async def test_found_item_from_registration_to_return_with_every_message(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", lang="en")
    desk.unread(OWNER)

    # A guard registers a wallet and hands it in: the desk is told with everything, photo
    # included, and confirms receiving it.
    ref = await register(desk, GUARD, photo=True, received=False)
    assert ref == "F-20261127-001"
    assert desk.unread(GUARD)[-1] == (
        f"✅ Registered as {ref}. Please hand the item in to the front desk today: the "
        "receptionist confirms receiving it in the bot, and you will be told."
    )
    told = desk.unread(RECEPTIONIST)
    assert told[0] == ""  # the photo
    assert told[1] == (
        f"🧳 Zhao Guard registered a found item and is handing it in to the front desk: {ref}. "
        "When you have it in hand, press Received at the desk: from then it is in the desk's "
        "keeping.\n"
        f"{ref} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "⏳ Handed in, not yet received at the front desk."
    )
    assert await receive(desk, ref) == [
        f"📥 {ref} is recorded as received at the front desk, by you: the desk keeps it now."
    ]
    assert desk.unread(GUARD) == [
        f"✅ {ref} (black wallet) was received at the front desk by Wang Fang: it is in the "
        "desk's keeping now. Thank you for handing it in."
    ]
    desk.unread(RECEPTIONIST)

    # The owner searches: category, general name, where and when — nothing else.
    await desk.send(OWNER, "/lost")
    await desk.press(OWNER, "Search")
    await desk.press(OWNER, "Wallets and bags")
    assert await desk.send(OWNER, "wallet") == [
        "Found items matching your search (1):\n"
        f"{ref} · Wallets and bags · black wallet — found at Lobby of building 1, "
        "27 Nov 2026, 10:00"
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [f"Claim {ref}"]

    # The claim: the owner's own description of name and features.
    await desk.press(OWNER, f"Claim {ref}")
    await desk.send(OWNER, "Brown leather wallet")
    summary = await desk.send(OWNER, "Three bank cards and a cat photo")
    assert summary == [
        f"Please check your claim for {ref}:\nYou call it: Brown leather wallet\n"
        "Its features: Three bank cards and a cat photo"
    ]
    filed = await desk.press(OWNER, "Submit claim")
    claim_ref = filed[0].rsplit(" ", 1)[1]
    assert claim_ref == "L-20261127-001"
    assert filed[1].startswith("Please bring your original ID card (身份证原件) to the front desk.")

    # The desk sees the claim beside the registration.
    beside = desk.unread(RECEPTIONIST)
    assert beside[-1] == (
        f"🙋 Claim {claim_ref} on {ref}\n"
        "Claimant: 李伟, unit 1-2-301, phone 13800000000\n"
        "The claimant says it is: Brown leather wallet\n"
        "The claimant describes it as: Three bank cards and a cat photo\n"
        "Registered as:\n"
        f"{ref} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "When the claimant comes with their original ID card and the description matches, "
        "press Check ID at the desk."
    )

    # At the desk: a mistyped number is refused, the right one recorded masked.
    replies = await check_id(desk, claim_ref, ID_NUMBER[:-1] + "9")
    assert replies == [
        "This ID number is not valid: its check digit does not match. Please compare it "
        "with the card.",
        "Type the document number. It is kept masked (like 4101**********1234) and never "
        "shown in full again; your message with it is deleted from this chat.\n"
        "Send /cancel to stop.",
    ]
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.CLAIMED
    recorded = await desk.send(RECEPTIONIST, ID_NUMBER)
    assert recorded[0] == (
        f"ID recorded as {ID_MASKED} on {claim_ref}. The claimant has been asked to sign for "
        "the item in the bot. If they sign the paper register instead, press Paper signature."
    )
    typed = [m for m in desk.emu.history[RECEPTIONIST] if not m.from_bot and m.text]
    assert {m.text for m in typed if m.deleted} == {ID_NUMBER, ID_NUMBER[:-1] + "9"}

    # The owner signs in the bot; the item is returned, with who and when.
    assert desk.unread(OWNER)[-1] == (
        f"Your ID was checked at the front desk for claim {claim_ref}. When you have black "
        f"wallet ({ref}) in hand, press the button: it is your signature for the item."
    )
    assert await desk.press(OWNER, "I have received it") == [
        f"✅ black wallet ({ref}) is recorded as returned to you (claim {claim_ref}). Thank you."
    ]
    assert desk.last_answer() == f"Thank you: {ref} is recorded as returned to you."
    assert desk.unread(RECEPTIONIST)[-1] == (
        f"✅ {ref} (black wallet) returned to 李伟 on claim {claim_ref}: ID {ID_MASKED}, "
        "signed in the bot."
    )
    item_ticket, item = await item_of(desk, ref)
    claim_ticket, lost_claim = await claim_of(desk, claim_ref)
    owner = await desk.person(OWNER)
    receptionist = await desk.person(RECEPTIONIST)
    assert item_ticket.state == ItemSt.RETURNED and item.returned_at == desk.clock.now()
    assert item.returned_claim_id == claim_ticket.id
    assert claim_ticket.state == ClaimSt.HANDED_OVER and lost_claim.receipt == "bot"
    assert (lost_claim.id_masked, lost_claim.verified_by_id) == (ID_MASKED, receptionist.id)
    assert [(e.action, e.actor_id) for e in claim_ticket.events] == [
        ("created", owner.id),
        ("lf_id_checked", receptionist.id),
        ("lf_signed_bot", owner.id),
    ]
    assert [e.action for e in item_ticket.events] == [
        "created",
        "lf_received",
        "lf_claim_filed",
        "lf_returned",
    ]
    assert item_ticket.events[1].actor_id == receptionist.id  # who received it, and when

    # Nothing of the registration's details or photo ever reached the owner; the full ID
    # number is nowhere in the database, the outbox or the log.
    everything_owner_read = "\n".join(desk.inbox(OWNER))
    assert DETAILS not in everything_owner_read and "cat inside" not in everything_owner_read
    assert photos_sent_to(desk, OWNER) == []
    stored = await _everything_stored(desk)
    assert ID_MASKED in stored
    assert ID_NUMBER not in stored and ID_NUMBER[:-1] + "9" not in stored
    assert ID_NUMBER not in caplog.text
    async with desk.session() as s:
        assert (await s.execute(select(Draft))).scalars().all() == []
        assert all(n.status == "sent" for n in (await s.execute(select(Notification))).scalars())


async def test_browsing_lists_newest_first_and_never_the_details(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    first = await register(
        desk,
        name="red umbrella",
        details="Hello Kitty print, bent rib",
        category="Other",
        place="Gym",
    )
    second = await register(
        desk,
        name="car keys",
        details="Toyota key with a blue ribbon",
        category="Keys",
        place="Car park B2",
    )
    await desk.send(OWNER, "/lost")
    listing = await desk.press(OWNER, "Recently found items")
    assert listing == [
        "Found items, newest first:\n"
        f"{second} · Keys · car keys — found at Car park B2, 27 Nov 2026, 10:00\n"
        f"{first} · Other · red umbrella — found at Gym, 27 Nov 2026, 10:00"
    ]
    await desk.press(OWNER, "Search")
    await desk.press(OWNER, "Any category")
    assert (await desk.send(OWNER, "ribbon toyota"))[0].startswith("Nothing found matches")
    await desk.press(OWNER, "Search")
    await desk.press(OWNER, "Any category")
    found = await desk.send(OWNER, "钥匙 keys")
    assert found[0].startswith("Found items matching your search (1):") and second in found[0]
    assert "ribbon" not in "\n".join(desk.inbox(OWNER))


async def test_a_second_claim_on_a_returned_item_is_refused_and_open_claims_lapse(
    desk: Desk,
) -> None:
    await staffed(desk)
    for owner, unit in ((OWNER, "1-2-301"), (OWNER2, "1-2-302"), (OWNER3, "1-2-303")):
        await desk.owner(owner, unit, lang="en")
    ref = await register(desk)
    first = await claim(desk, OWNER, ref)
    second = await claim(desk, OWNER2, ref)
    # The third owner opens the list before the item goes back to its owner.
    await desk.send(OWNER3, "/lost")
    await desk.press(OWNER3, "Recently found items")
    stale_list = desk.emu.last(OWNER3)

    # Only one claim can be verified.
    await check_id(desk, first)
    second_id = (await claim_of(desk, second))[0].id
    button = next(
        m
        for m in reversed(desk.emu.messages(RECEPTIONIST))
        if any(d == f"lf:ver:{second_id}" for _, d in desk.emu.buttons(m))
    )
    refused = await desk.press(RECEPTIONIST, "Check ID at the desk", button)  # before the form
    assert refused[-1] == (
        f"Another claim on this item ({first}) has already had its ID checked; only one claim "
        "can be verified."
    )
    assert (await claim_of(desk, second))[0].state == ClaimSt.CLAIMED
    await desk.press(OWNER, "I have received it")
    desk.unread(OWNER2)
    assert (await claim_of(desk, second))[0].state == ClaimSt.LAPSED
    assert desk.inbox(OWNER2)[-1] == (
        f"Your claim {second} on {ref} is closed: it has been returned to its owner. If you "
        "think this is a mistake, please contact the front desk."
    )

    desk.unread(RECEPTIONIST)
    assert await desk.press(OWNER3, f"Claim {ref}", stale_list) == [
        f"{ref} has already been returned to its owner. If you think it is yours, please "
        "contact the front desk."
    ]
    async with desk.session() as s:
        assert await s.get(Draft, OWNER3) is None
    assert desk.unread(RECEPTIONIST) == []
    # The owner whose claim lapsed cannot sign either.
    lapsed = (await claim_of(desk, second))[0]
    await desk.press_data(OWNER2, desk.emu.last(OWNER2), f"lf:rcv:{lapsed.id}")
    assert desk.last_answer().startswith(f"{ref} has already been returned to its owner.")


async def test_owners_cannot_act_for_the_desk_and_forged_presses_change_nothing(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    ref = await register(desk)
    claim_ref = await claim(desk, OWNER, ref)
    claim_ticket, _ = await claim_of(desk, claim_ref)
    item_ticket, _ = await item_of(desk, ref)

    async def snapshot() -> tuple[object, ...]:
        c, lc = await claim_of(desk, claim_ref)
        i, _ = await item_of(desk, ref)
        async with desk.session() as s:
            drafts = len((await s.execute(select(Draft))).scalars().all())
            queued = len((await s.execute(select(Notification))).scalars().all())
        return c.state, c.version, i.state, i.version, lc.id_masked, drafts, queued

    before = await snapshot()
    anywhere = desk.emu.last(OWNER)
    for data in (
        f"lf:ver:{claim_ticket.id}",
        f"lf:pap:{claim_ticket.id}",
        f"lf:rej:{claim_ticket.id}",
        f"lf:walk:{item_ticket.id}",
        f"lf:dsp:{item_ticket.id}",
        f"lf:rcv:{claim_ticket.id}",  # not yet checked at the desk
        f"lf:ver:{item_ticket.id}",  # an item id where a claim id belongs
        "lf:ver:99999",
        "lf:ver:x",
    ):
        await desk.press_data(OWNER, anywhere, data)
        assert desk.last_answer() in {
            "You are not allowed to do this.",
            "This button is out of date. Nothing was changed.",
            f"{claim_ref} is now in a state where this is no longer possible "
            "(waiting for the claimant at the front desk).",
        }, data
    assert await snapshot() == before

    # Checked at the desk: now only the claimant may sign, not another owner nor the desk.
    await check_id(desk, claim_ref)
    before = await snapshot()
    await desk.press_data(OWNER2, desk.emu.last(OWNER2), f"lf:rcv:{claim_ticket.id}")
    assert desk.last_answer() == "You are not allowed to do this."
    await desk.press_data(RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"lf:rcv:{claim_ticket.id}")
    assert desk.last_answer() == "You are not allowed to do this."
    await desk.press_data(GUARD, desk.emu.last(GUARD), f"lf:pap:{claim_ticket.id}")
    assert desk.last_answer() == "You are not allowed to do this."
    assert await snapshot() == before


async def test_paper_signature_and_a_walk_in_claimant_without_telegram(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    claim_ref = await claim(desk, OWNER, wallet)
    await check_id(desk, claim_ref)
    desk.unread(OWNER)
    assert await desk.press(RECEPTIONIST, "Paper signature") == [
        f"{wallet} is recorded as returned on {claim_ref} (signed on paper).",
        f"✅ {wallet} (black wallet) returned to 李伟 on claim {claim_ref}: ID {ID_MASKED}, "
        "signed on paper.",
    ]
    assert desk.unread(OWNER) == [
        f"✅ black wallet ({wallet}) is recorded as returned to you (claim {claim_ref}). Thank you."
    ]
    assert (await claim_of(desk, claim_ref))[1].receipt == "paper"

    # A walk-in: from the item's card, the receptionist records the whole claim.
    phone = await register(
        desk,
        name="mobile phone",
        category="Mobile phone",
        valuable=None,
        details="iPhone, cracked corner, green case",
    )
    await desk.send(RECEPTIONIST, f"/ticket {phone}")
    await desk.press(RECEPTIONIST, "Claim at the desk (no Telegram)")
    await desk.send(RECEPTIONIST, "Zhou Min")
    await desk.send(RECEPTIONIST, "An iPhone in a green case, the corner is cracked")
    await desk.press(RECEPTIONIST, "Passport or travel permit")
    assert (await desk.send(RECEPTIONIST, "E12"))[0].startswith("A passport or permit number")
    confirm = await desk.send(RECEPTIONIST, "E12345678")
    assert confirm == [
        f"Hand {phone} over to Zhou Min (ID E1*****78)?\n"
        "They must sign the paper register (拾遗物品登记表) first."
    ]
    done = await desk.press(RECEPTIONIST, "Signed on paper: hand over")
    walk_ref = done[0].split(" on ")[1].split(" ")[0]
    assert (
        done[0] == f"✅ {phone} returned to Zhou Min on {walk_ref} (ID E1*****78, signed on paper)."
    )
    walk_ticket, walk_claim = await claim_of(desk, walk_ref)
    assert walk_ticket.owner_id is None and walk_claim.claimant_name == "Zhou Min"
    assert (await item_of(desk, phone))[0].state == ItemSt.RETURNED
    assert "E12345678" not in await _everything_stored(desk)


async def test_lost_report_is_pointed_to_a_matching_found_item_only(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    await desk.send(OWNER, "/lost")
    await desk.press(OWNER, "I lost something")
    await desk.press(OWNER, "Wallets and bags")
    await desk.send(OWNER, "My black wallet, probably in the lobby on Tuesday")
    summary = desk.unread(OWNER)[-1]
    assert "Category: Wallets and bags" in summary
    assert (await desk.press(OWNER, "Submit"))[0].startswith("📝 Noted. If something matching")
    desk.unread(OWNER)
    assert desk.unread(RECEPTIONIST) == [
        "📝 李伟 (1-2-301) reported losing something (Wallets and bags): My black wallet, "
        "probably in the lobby on Tuesday"
    ]
    desk.unread(OWNER2)
    await register(desk, name="umbrella", category="Other", place="Lobby")  # other category
    await register(desk, name="red purse", place="Car park")  # no shared word
    assert desk.unread(OWNER) == []
    ref = await register(desk, name="leather wallet", place="Gym")
    assert desk.unread(OWNER) == [
        f"🔔 Something that may be what you lost was handed in: {ref} · Wallets and bags · "
        "leather wallet. Send /lost to look at the found items, and claim it if it is yours."
    ]
    assert desk.unread(OWNER2) == []
    await desk.press(OWNER, "Recently found items")
    assert f"Claim {ref}" in [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))]


async def test_owner_lists_and_withdraws_their_lost_reports_and_nobody_else_can(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    await desk.send(OWNER, "/lost")
    assert await desk.press(OWNER, "My lost reports") == ["You have no open lost reports."]
    await desk.send(OWNER, "/lost")
    await desk.press(OWNER, "I lost something")
    await desk.press(OWNER, "Wallets and bags")
    await desk.send(OWNER, "My black wallet, probably in the lobby on Tuesday")
    await desk.press(OWNER, "Submit")
    await desk.send(OWNER, "/lost")
    listed = await desk.press(OWNER, "My lost reports")
    assert len(listed) == 1
    assert listed[0].startswith(
        "📝 Wallets and bags: My black wallet, probably in the lobby on Tuesday\nReported "
    )
    card = desk.with_button(OWNER, "Found it / withdraw")
    # Another owner sending the button's data from their own chat: refused, nothing changes.
    ((_, forged),) = [b for b in desk.emu.buttons(card) if b[0] == "Found it / withdraw"]
    await desk.send(OWNER2, "/lost")
    refused = await desk.press_data(OWNER2, desk.emu.last(OWNER2), forged)
    assert refused == ["You are not allowed to do this."]
    assert await desk.press(OWNER, "Found it / withdraw", card) == [
        "Your lost report has been withdrawn. We will not tell you about matches any more."
    ]
    assert desk.emu.buttons(desk.emu.messages(OWNER)[-2]) == []  # its button is gone
    again = await desk.press_data(OWNER, card, forged)
    assert again == ["This button is out of date. Nothing was changed."]
    desk.unread(OWNER)
    await register(desk, name="leather wallet", place="Gym")
    assert desk.unread(OWNER) == []  # a withdrawn report is no longer matched
    await desk.send(OWNER, "/lost")
    assert await desk.press(OWNER, "My lost reports") == ["You have no open lost reports."]


async def test_lost_reports_are_listed_in_chinese(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER)
    await desk.send(OWNER, "/lost")
    assert await desk.press(OWNER, "我的失物登记") == ["您目前没有有效的遗失物品登记。"]


async def test_a_lost_report_is_shown_what_is_already_at_the_desk(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    held = await register(desk, name="black wallet", place="Lobby of building 1")
    await register(desk, name="red purse", place="Car park")  # no shared word
    await register(desk, name="black umbrella", category="Other", place="Lobby")  # other kind
    await desk.send(OWNER, "/lost")
    await desk.press(OWNER, "I lost something")
    await desk.press(OWNER, "Wallets and bags")
    await desk.send(OWNER, "My black wallet, probably in the lobby on Tuesday")
    replies = await desk.press(OWNER, "Submit")
    assert replies[0].startswith("📝 Noted. If something matching is handed in within")
    assert replies[1].startswith(
        "🔔 Already handed in, not yet claimed, and perhaps yours (1):\n" + held
    )
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [f"Claim {held}"]
    asked = await desk.press(OWNER, f"Claim {held}")
    assert held in asked[0]


async def test_a_tenants_claim_goes_by_the_tenants_own_name_not_the_landlords(
    desk: Desk,
) -> None:
    # 4.2/4.4: the register records who collects it, by the ID they show at the desk
    await staffed(desk)
    await desk.owner(OWNER, "1-2-301", name="Li", lang="en")  # the directory's owner: 李伟
    desk.emu.add_user(TENANT, "Chen Jing", "en")
    await desk.send(TENANT, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    assert desk.unread(TENANT)[0] == "Welcome, Chen Jing! You are now linked to unit 1-2-301."
    ref = await register(desk)
    desk.unread(RECEPTIONIST)
    claim_ref = await claim(desk, TENANT, ref)
    beside = desk.unread(RECEPTIONIST)[-1]
    assert "Claimant: Chen Jing, unit 1-2-301, phone —" in beside
    assert "李伟" not in beside and "13800000000" not in beside
    _, lost_claim = await claim_of(desk, claim_ref)
    assert lost_claim.claimant_name == "Chen Jing"
    # the owner themselves still goes by the directory (the name on their ID card)
    own_ref = await claim(desk, OWNER, ref)
    assert "Claimant: 李伟, unit 1-2-301, phone 13800000000" in desk.unread(RECEPTIONIST)[-1]
    assert (await claim_of(desk, own_ref))[1].claimant_name == "李伟"


async def test_two_claims_on_one_item_cannot_both_be_id_checked_at_once(desk: Desk) -> None:
    """Two receptionists check the IDs of two claimants of the same item at the same moment
    (updates of different people run concurrently; on PostgreSQL truly side by side): only one
    claim may be verified, the other is handled again and refused."""
    await staffed(desk)
    second_desk = 2102
    await desk.staff(second_desk, "receptionist", name="Liu Desk", lang="en")
    await desk.owner(OWNER, "1-2-301", lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    ref = await register(desk)
    first = await claim(desk, OWNER, ref)
    second = await claim(desk, OWNER2, ref)
    # Each receptionist opens the ID check of one claim and picks the document.
    for who, claim_ref in ((RECEPTIONIST, first), (second_desk, second)):
        claim_id = (await claim_of(desk, claim_ref))[0].id
        message = next(
            m
            for m in reversed(desk.emu.messages(who))
            if any(d == f"lf:ver:{claim_id}" for _, d in desk.emu.buttons(m))
        )
        await desk.press(who, "Check ID at the desk", message)
        await desk.press(who, "Resident ID card")
    # Both type the number at the same moment.
    await asyncio.gather(
        desk.app.process_update(
            Update.de_json(desk.emu.text_update(RECEPTIONIST, ID_NUMBER), desk.app.bot)
        ),
        desk.app.process_update(
            Update.de_json(desk.emu.text_update(second_desk, "11010519491231002X"), desk.app.bot)
        ),
    )
    await desk.deliver()
    states = [(await claim_of(desk, r))[0].state for r in (first, second)]
    assert states.count(ClaimSt.ID_CHECKED) == 1, states


async def test_a_receptionist_does_not_check_the_id_on_their_own_claim(desk: Desk) -> None:
    await staffed(desk)
    second_desk = 2102
    await desk.staff(second_desk, "receptionist", name="Liu Desk", lang="en")
    await desk.owner(RECEPTIONIST, "1-2-301", lang="en")  # Wang Fang also lives here
    ref = await register(desk)
    claim_ref = await claim(desk, RECEPTIONIST, ref)
    claim_id = (await claim_of(desk, claim_ref))[0].id
    mine = next(
        m
        for m in reversed(desk.emu.messages(RECEPTIONIST))
        if any(d == f"lf:ver:{claim_id}" for _, d in desk.emu.buttons(m))
    )
    assert await desk.press(RECEPTIONIST, "Check ID at the desk", mine) == [
        "This is your own claim: a colleague at the desk checks your ID."
    ]
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.CLAIMED
    theirs = next(
        m
        for m in reversed(desk.emu.messages(second_desk))
        if any(d == f"lf:ver:{claim_id}" for _, d in desk.emu.buttons(m))
    )
    await desk.press(second_desk, "Check ID at the desk", theirs)
    await desk.press(second_desk, "Resident ID card")
    await desk.send(second_desk, ID_NUMBER)
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.ID_CHECKED
