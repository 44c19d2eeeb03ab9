"""The lost-and-found calendar with a moved clock: the weekly notice (招领启事) and its expiry by
editing, the month-end handover, the three-month disposal report, the same-day transfer of
valuables — each at its moment, once, not for items already returned, and across restarts."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, update

from bot.clock import ManualClock
from models.deadline import Deadline
from models.lost_found import ADMIN as IN_ADMIN_CUSTODY
from models.lost_found import MONTH_END, WEEKLY_NOTICE, FoundItem, ItemSt
from tests.flows.harness import Desk
from tests.flows.lost_found_steps import (
    ADMIN,
    DETAILS,
    GUARD,
    OWNER,
    OWNER2,
    RECEPTIONIST,
    SUPERVISOR,
    check_id,
    claim,
    item_of,
    register,
    staffed,
)

NOTICES = -1001234
MIN = timedelta(minutes=1)
SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


def news(desk: Desk, tg_id: int) -> list[str]:
    """New messages, without the supervisors' daily repair report and the weekly notice."""
    return [m for m in desk.unread(tg_id) if not m.startswith(("📊 Daily report", "📢"))]


async def _return(desk: Desk, ref: str, owner: int = OWNER) -> None:
    claim_ref = await claim(desk, owner, ref)
    await check_id(desk, claim_ref)
    await desk.press(owner, "I have received it")


async def _fired(desk: Desk, kind: str) -> tuple[int, int]:
    """How many deadlines of `kind` have fired, and how many are waiting."""
    async with desk.session() as s:
        fired = await s.scalar(
            select(func.count()).where(Deadline.kind == kind, Deadline.fired_at.is_not(None))
        )
        waiting = await s.scalar(
            select(func.count()).where(
                Deadline.kind == kind, Deadline.fired_at.is_(None), Deadline.done_at.is_(None)
            )
        )
    return int(fired or 0), int(waiting or 0)


async def test_weekly_notice_goes_to_the_notice_chat_and_last_weeks_is_edited_expired(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, notice_chat=NOTICES, locale="en") as desk:
        desk.emu.add_group(NOTICES, "Estate notices", "channel")
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        wallet = await register(desk)
        keys = await register(desk, name="car keys", category="Keys", place="Car park")
        await desk.at(local(2026, 11, 30, 8, 59))
        assert desk.emu.texts(NOTICES) == []
        await desk.at(local(2026, 11, 30, 9, 0))
        first = (
            "📢 Found items notice (招领启事) of 30 Nov 2026\n"
            "These items were handed in and are waiting for their owners:\n"
            f"{keys} · Keys · car keys — found at Car park, 27 Nov 2026, 10:00\n"
            f"{wallet} · Wallets and bags · black wallet — found at Lobby of building 1, "
            "27 Nov 2026, 10:00\n"
            "To claim one, send /lost to the property office bot, or come to the front desk with "
            "your original ID card and describe the item. Valid until 7 Dec 2026, 09:00."
        )
        assert desk.emu.texts(NOTICES) == [first]
        assert DETAILS not in first and desk.emu.last(NOTICES).photos == []
        await desk.tick(timedelta(hours=1))
        assert len(desk.emu.texts(NOTICES)) == 1

        # The wallet goes back to its owner during the week; next Monday's notice has the keys
        # only, and last week's message now says it has expired.
        await _return(desk, wallet)
        await desk.at(local(2026, 12, 7, 8, 59))
        assert desk.emu.texts(NOTICES) == [first]
        await desk.at(local(2026, 12, 7, 9, 0))
        old, new = desk.emu.messages(NOTICES)
        assert old.text == "⛔ EXPIRED — this notice was valid until 7 Dec 2026, 09:00.\n" + first
        assert old.edits == [first]
        assert new.text is not None and wallet not in new.text and keys in new.text
        assert new.text.endswith("Valid until 14 Dec 2026, 09:00.")
        await desk.tick(timedelta(days=1))
        assert len(desk.emu.messages(NOTICES)) == 2 and len(new.edits) == 0
        assert await _fired(desk, WEEKLY_NOTICE) == (2, 1)
        keys_ticket, _ = await item_of(desk, keys)
        assert [e.action for e in keys_ticket.events].count("lf_noticed") == 2


async def test_an_item_whose_claimant_has_shown_their_id_is_left_out_of_the_weekly_notice(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, notice_chat=NOTICES, locale="en") as desk:
        desk.emu.add_group(NOTICES, "Estate notices", "channel")
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        await desk.owner(OWNER2, "1-2-302", lang="en")
        wallet = await register(desk)
        keys = await register(desk, name="car keys", category="Keys", place="Car park")
        await check_id(desk, await claim(desk, OWNER, wallet))  # the owner has come forward
        await claim(desk, OWNER2, keys)  # a claim not yet checked: the keys still wait
        await desk.at(local(2026, 11, 30, 9, 0))
        (notice,) = desk.emu.texts(NOTICES)
        assert f"{keys} · Keys · car keys" in notice
        assert wallet not in notice


async def test_without_a_notice_chat_the_receptionists_get_it_once_across_restarts(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        ref = await register(first)
        await first.at(local(2026, 11, 30, 8, 0))
        first.unread(RECEPTIONIST)
    async with Desk(database_url, clock, emu=first.emu) as second:
        await second.at(local(2026, 11, 30, 9, 0))
        notices = [m for m in second.unread(RECEPTIONIST) if m.startswith("📢")]
        assert len(notices) == 1 and ref in notices[0]
        assert notices[0].startswith("📢 Found items notice (招领启事) of 30 Nov 2026")
    async with Desk(database_url, clock, emu=second.emu) as third:
        await third.tick(MIN)
        await third.tick(timedelta(hours=3))
        assert len([m for m in third.inbox(RECEPTIONIST) if m.startswith("📢")]) == 1
        assert await _fired(third, WEEKLY_NOTICE) == (1, 1)


async def test_no_notice_is_posted_when_nothing_is_waiting(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, notice_chat=NOTICES) as desk:
        desk.emu.add_group(NOTICES, "Estate notices", "channel")
        await staffed(desk)
        await desk.at(local(2026, 11, 30, 9, 0))
        await desk.at(local(2026, 12, 7, 9, 0))
        assert desk.emu.texts(NOTICES) == []
        assert await _fired(desk, WEEKLY_NOTICE) == (2, 1)


async def test_month_end_hands_what_the_desk_holds_to_administration_once(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    phone = await register(desk, name="mobile phone", category="Mobile phone", valuable=None)
    returned = await register(desk, name="umbrella", category="Other")
    await _return(desk, returned)
    await desk.at(local(2026, 11, 27, 17, 30))  # the phone, a valuable, went the same day
    for person in (ADMIN, RECEPTIONIST):
        desk.unread(person)
    await desk.at(local(2026, 11, 30, 17, 29))
    assert news(desk, ADMIN) == [] and (await item_of(desk, wallet))[1].custody == "desk"
    await desk.at(local(2026, 11, 30, 17, 30))
    handover = (
        "📦 Month-end handover (4.6): the unclaimed items the front desk holds go into the "
        "safekeeping of administration (1):\n"
        f"{wallet} · Wallets and bags · black wallet — found at Lobby of building 1, "
        "27 Nov 2026, 10:00"
    )
    assert news(desk, ADMIN) == [handover]
    assert news(desk, RECEPTIONIST) == [handover]
    ticket, item = await item_of(desk, wallet)
    assert (item.custody, item.custody_at) == (IN_ADMIN_CUSTODY, desk.clock.now())
    moved = [e for e in ticket.events if e.action == "lf_to_admin"]
    assert [(e.data, e.actor_id) for e in moved] == [({"reason": "month_end"}, None)]
    assert phone not in handover and returned not in handover
    await desk.at(local(2026, 12, 31, 17, 30))
    assert news(desk, ADMIN) == [] and news(desk, RECEPTIONIST) == []
    assert await _fired(desk, MONTH_END) == (2, 1)

    # A claim on an item with administration tells the desk where it is.
    claim_ref = await claim(desk, OWNER, wallet)
    assert claim_ref.startswith("L-")
    beside = news(desk, RECEPTIONIST)[-1]
    assert "In the safekeeping of administration since 30 Nov 2026, 17:30." in beside


async def test_three_months_unclaimed_is_reported_for_disposal_and_the_outcome_recorded(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    wallet = await register(desk)
    returned = await register(desk, name="umbrella", category="Other")
    await _return(desk, returned)
    waiting_claim = await claim(desk, OWNER2, wallet)
    await desk.at(local(2026, 11, 30, 17, 30))  # the month-end handover to administration
    await desk.at(local(2027, 2, 27, 9, 59))
    for person in (ADMIN, SUPERVISOR, OWNER2):
        news(desk, person)
    await desk.tick(MIN)
    report = (  # a claim was filed but never completed: not "unclaimed"
        f"🗑 {wallet} has been kept for 3 months (registered 27 Nov 2026) and its claims were "
        "never completed. Please report it to the company for disposal (4.7) and record the "
        "outcome here.\n"
        f"Open claim {waiting_claim} by 李伟, filed 27 Nov 2026: waiting for the claimant at "
        "the front desk\n"
        "Claimants with an open claim have been told that it is due for disposal; if one "
        "comes to the front desk with their original ID card, hand it over instead.\n"
        f"{wallet} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "In the safekeeping of administration since 30 Nov 2026, 17:30."
    )
    assert news(desk, ADMIN)[-1:] == [report]  # [""] the photo comes first
    assert news(desk, SUPERVISOR)[-1:] == [report]
    assert (await item_of(desk, wallet))[0].state == ItemSt.FOR_DISPOSAL
    assert news(desk, OWNER2)[0].startswith(
        f"🗑 black wallet ({wallet}), the item of your claim {waiting_claim}, has been kept for "
        "3 months without being collected and is being reported to the company for disposal"
    )
    await desk.tick(timedelta(days=40))
    assert [m for m in news(desk, ADMIN) if m.startswith("🗑")] == []

    # Only administration or a supervisor records the outcome; the waiting claim is closed.
    button = desk.emu.buttons(desk.with_button(ADMIN, "Record disposal outcome"))[0][1]
    await desk.press_data(GUARD, desk.emu.last(GUARD), button)
    assert desk.last_answer() == "You are not allowed to do this."
    await desk.press(ADMIN, "Record disposal outcome")
    assert await desk.send(ADMIN, "Handed to the police station") == [
        f"Disposal of {wallet} recorded: Handed to the police station"
    ]
    ticket, item = await item_of(desk, wallet)
    assert (
        ticket.state == ItemSt.DISPOSED and item.disposal_outcome == "Handed to the police station"
    )
    assert news(desk, OWNER2)[-1:] == [  # (after the reminders to come for it)
        f"Your claim {waiting_claim} on {wallet} is closed: it was disposed of. If you think "
        "this is a mistake, please contact the front desk."
    ]
    assert (await item_of(desk, returned))[0].state == ItemSt.RETURNED


async def test_an_item_still_at_the_desk_at_three_months_is_handed_over_with_a_record(
    desk: Desk,
) -> None:
    # the month-end handovers did not happen (the bot was down at the month's close, say)
    await staffed(desk)
    wallet = await register(desk)
    await desk.at(local(2027, 2, 27, 9, 59))
    ticket, item = await item_of(desk, wallet)
    async with desk.rt.uow() as s:
        await s.execute(
            update(FoundItem).where(FoundItem.ticket_id == ticket.id).values(custody="desk")
        )
    for person in (ADMIN, RECEPTIONIST):
        news(desk, person)
    await desk.tick(MIN)
    assert news(desk, ADMIN)[-1].startswith(
        f"🗑 {wallet} has not been claimed for 3 months (registered 27 Nov 2026). Please "
        "report it to the company for disposal (4.7) and record the outcome here.\n"
        "It is still at the front desk, which has been asked to hand it over."
    )
    told = news(desk, RECEPTIONIST)[-1]
    assert told.startswith(
        f"🗑 {wallet} has not been claimed for 3 months: administration reports it to the "
        "company for disposal (4.7). Front desk, please hand it over."
    )
    assert desk.emu.buttons(desk.emu.last(RECEPTIONIST)) == []  # not theirs to record
    _, item = await item_of(desk, wallet)
    assert item.custody == IN_ADMIN_CUSTODY
    history = (await desk.send(ADMIN, f"/ticket {wallet}"))[0]
    assert "handed to administration for safekeeping" in history


async def test_valuables_not_claimed_the_same_day_go_to_administration_at_close(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, lang="en")
        phone = await register(first, name="mobile phone", category="Mobile phone", valuable=None)
        assert first.unread(RECEPTIONIST)[-1] == (
            "💰 Valuable: if nobody claims it by 27 Nov 2026, 17:30, it goes into the "
            "safekeeping of administration."
        )
        ring = await register(first, name="gold ring", category="Other", valuable=True)
        await _return(first, ring)
        await first.at(local(2026, 11, 27, 17, 29))
        for person in (ADMIN, RECEPTIONIST):
            first.unread(person)
    async with Desk(database_url, clock, emu=first.emu) as second:
        await second.at(local(2026, 11, 27, 17, 30))
        transfer = (
            f"💰 Valuable item {phone} was not claimed on the day the front desk received it: it "
            "goes into the safekeeping of administration today (4.8). Front desk, please hand "
            "it over.\n"
            f"{phone} · Mobile phone · mobile phone\n"
            f"Details (staff only): {DETAILS}\n"
            "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
            "💰 Valuable\n"
            "In the safekeeping of administration since 27 Nov 2026, 17:30."
        )
        assert news(second, RECEPTIONIST)[-1:] == [transfer]
        assert news(second, ADMIN)[-1:] == [transfer]
        assert (await item_of(second, phone))[1].custody == IN_ADMIN_CUSTODY
        assert (await item_of(second, ring))[1].custody == "desk"  # returned in time

        # Registered after closing: "the same day" is the next business day's close.
        second.clock.set(local(2026, 11, 27, 18, 0))
        late = await register(second, name="cash", category="Money", valuable=None)
        await second.at(local(2026, 11, 28, 17, 29))
        assert news(second, ADMIN) == []
    async with Desk(database_url, clock, emu=second.emu) as third:
        third.unread(ADMIN)
        await third.at(local(2026, 11, 28, 17, 30))
        moved = [m for m in news(third, ADMIN) if m]
        assert len(moved) == 1 and late in moved[0] and phone not in moved[0]
        await third.tick(timedelta(days=1))
        assert [m for m in news(third, ADMIN) if m.startswith("💰")] == []
        assert await _fired(third, "lf.valuable") == (2, 0)  # the ring's was settled


async def test_an_item_whose_claimant_has_shown_their_id_is_not_disposed_of(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    await desk.at(local(2027, 2, 27, 10, 0))  # three months: reported for disposal
    claim_ref = await claim(desk, OWNER, wallet)
    await check_id(desk, claim_ref)
    refusal = (
        f"Claim {claim_ref} on this item has had the claimant's ID checked at the desk: hand "
        "the item over to them, or reject the claim, before recording its disposal."
    )
    assert await desk.press(ADMIN, "Record disposal outcome") == [refusal]
    assert (await item_of(desk, wallet))[0].state == ItemSt.FOR_DISPOSAL
    # the owner signs for it: returned, not disposed of
    await desk.press(OWNER, "I have received it")
    assert (await item_of(desk, wallet))[0].state == ItemSt.RETURNED
