"""A claim nobody finishes is chased: the desk is reminded (a few times at most) and can act
from the reminder; an item reaching its three months with an open claim is not reported as
unclaimed, and its claimant hears before it is disposed of."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete

from bot.clock import ManualClock
from models.deadline import Deadline
from models.lost_found import CLAIM_REMINDER, ClaimSt, ItemSt
from tests.flows.harness import Desk
from tests.flows.lost_found_steps import (
    ADMIN,
    DETAILS,
    ID_MASKED,
    ID_NUMBER,
    OWNER,
    OWNER2,
    RECEPTIONIST,
    SUPERVISOR,
    check_id,
    claim,
    claim_of,
    item_of,
    register,
    staffed,
)

SH = ZoneInfo("Asia/Shanghai")


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SH).astimezone(UTC)  # type: ignore[misc]


def about(desk: Desk, tg_id: int, ref: str) -> list[str]:
    """New messages to `tg_id` that mention `ref`."""
    return [m for m in desk.unread(tg_id) if ref in m]


async def test_a_claim_nobody_acts_on_reminds_the_desk_three_times_and_the_desk_acts_from_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)  # Friday 27 Nov 2026, 10:00
    ref = await claim(desk, OWNER, wallet)
    desk.unread(RECEPTIONIST)
    desk.unread(OWNER)

    # Three whole business days (Sat, Sun, Mon) pass without the claimant: Tuesday morning.
    await desk.at(local(2026, 11, 30, 17, 30))  # (the month-end handover to administration)
    desk.unread(OWNER)
    await desk.at(local(2026, 12, 1, 8, 29))
    assert about(desk, RECEPTIONIST, ref) == [] and desk.unread(OWNER) == []
    await desk.at(local(2026, 12, 1, 8, 30))
    desk_reminder = (
        f"⏰ Claim {ref} on {wallet}, filed 27 Nov 2026, is still waiting for the claimant to "
        "show their original ID at the front desk. Please contact them (李伟, phone "
        "13800000000). When they come, press Check ID at the desk; if the claim does not "
        "hold, press Not accepted.\n"
        f"{wallet} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "In the safekeeping of administration since 30 Nov 2026, 17:30."
    )
    assert about(desk, RECEPTIONIST, ref) == [desk_reminder]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))] == [
        "Check ID at the desk",
        "Not accepted",
    ]
    assert desk.unread(OWNER) == [
        f"⏰ Your claim {ref} on black wallet ({wallet}) is waiting for you: please bring your "
        "original ID card (身份证原件) to the front desk to collect it. If you no longer need "
        "it, withdraw the claim."
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["Withdraw claim"]

    # Again after three more business days, and a third time, the last; then no more.
    await desk.at(local(2026, 12, 5, 8, 29))
    assert about(desk, RECEPTIONIST, ref) == []
    await desk.at(local(2026, 12, 5, 8, 30))
    assert about(desk, RECEPTIONIST, ref) == [desk_reminder]
    await desk.at(local(2026, 12, 9, 8, 30))
    assert about(desk, RECEPTIONIST, ref) == [
        desk_reminder + "\nThis is the last reminder about this claim."
    ]
    last = desk.emu.last(RECEPTIONIST)
    for _ in range(6):
        await desk.tick(timedelta(days=7))
    assert about(desk, RECEPTIONIST, ref) == []
    assert len([m for m in desk.unread(OWNER) if m.startswith("⏰")]) == 2

    # The claimant comes at last: the desk checks the ID straight from the reminder.
    await desk.press(RECEPTIONIST, "Check ID at the desk", last)
    await desk.press(RECEPTIONIST, "Resident ID card")
    assert (await desk.send(RECEPTIONIST, ID_NUMBER))[0].startswith(
        f"ID recorded as {ID_MASKED} on {ref}."
    )
    assert (await claim_of(desk, ref))[0].state == ClaimSt.ID_CHECKED


async def test_a_claim_acted_on_in_time_is_not_chased(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    ref = await claim(desk, OWNER, wallet)
    await desk.send(OWNER, f"/ticket {ref}")
    await desk.press(OWNER, "Withdraw claim")
    desk.unread(RECEPTIONIST)
    desk.unread(OWNER)
    for _ in range(4):
        await desk.tick(timedelta(days=7))
    assert about(desk, RECEPTIONIST, ref) == [] and desk.unread(OWNER) == []


async def test_an_item_with_an_open_claim_at_three_months_is_not_called_unclaimed(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    ref = await claim(desk, OWNER, wallet)
    await desk.at(local(2026, 11, 30, 17, 30))  # the month-end handover to administration
    await desk.at(local(2027, 2, 27, 9, 59))
    for person in (ADMIN, SUPERVISOR, RECEPTIONIST, OWNER):
        desk.unread(person)
    await desk.tick(timedelta(minutes=1))
    report = (
        f"🗑 {wallet} has been kept for 3 months (registered 27 Nov 2026) and its claims were "
        "never completed. Please report it to the company for disposal (4.7) and record the "
        "outcome here.\n"
        f"Open claim {ref} by 李伟, filed 27 Nov 2026: waiting for the claimant at the front "
        "desk\n"
        "Claimants with an open claim have been told that it is due for disposal; if one "
        "comes to the front desk with their original ID card, hand it over instead.\n"
        f"{wallet} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "In the safekeeping of administration since 30 Nov 2026, 17:30."
    )
    assert about(desk, ADMIN, wallet) == [report]
    assert about(desk, SUPERVISOR, wallet) == [report]
    assert about(desk, RECEPTIONIST, wallet) == [
        f"🗑 {wallet} has been kept for 3 months without being collected: administration "
        "reports it to the company for disposal (4.7).\n"
        f"Open claim {ref} by 李伟, filed 27 Nov 2026: waiting for the claimant at the front "
        "desk\n"
        f"{wallet} · Wallets and bags · black wallet\n"
        f"Details (staff only): {DETAILS}\n"
        "Found at Lobby of building 1, 27 Nov 2026, 10:00, by Zhao Guard\n"
        "In the safekeeping of administration since 30 Nov 2026, 17:30."
    ]
    assert desk.unread(OWNER) == [
        f"🗑 black wallet ({wallet}), the item of your claim {ref}, has been kept for 3 months "
        "without being collected and is being reported to the company for disposal (4.7). If "
        "it is yours, please come to the front desk with your original ID card (身份证原件) as "
        "soon as possible: until its disposal is recorded, it can still be handed over to you."
    ]
    assert (await item_of(desk, wallet))[0].state == ItemSt.FOR_DISPOSAL
    assert (await claim_of(desk, ref))[0].state == ClaimSt.CLAIMED


async def test_a_claimant_is_told_when_the_item_goes_to_administration_and_where_to_collect_it(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    wallet = await register(desk)
    phone = await register(desk, name="mobile phone", category="Mobile phone", valuable=None)
    wallet_claim = await claim(desk, OWNER, wallet)
    phone_claim = await claim(desk, OWNER2, phone)
    desk.unread(OWNER)
    desk.unread(OWNER2)

    # A valuable not collected the same day (4.8): its claimant hears where it is now.
    await desk.at(local(2026, 11, 27, 17, 30))
    assert desk.unread(OWNER2) == [
        f"📦 mobile phone ({phone}), the item of your claim {phone_claim}, has been handed to "
        "the administration office (行政) for safekeeping. You still collect it at the front "
        "desk: bring your original ID card (身份证原件), and the receptionist has the item "
        "brought from administration once your claim is checked."
    ]
    assert desk.unread(OWNER) == []

    # The month-end handover (4.6): the wallet's claimant, once; the phone was already there.
    await desk.at(local(2026, 11, 30, 17, 30))
    assert desk.unread(OWNER) == [
        f"📦 black wallet ({wallet}), the item of your claim {wallet_claim}, has been handed to "
        "the administration office (行政) for safekeeping. You still collect it at the front "
        "desk: bring your original ID card (身份证原件), and the receptionist has the item "
        "brought from administration once your claim is checked."
    ]
    assert desk.unread(OWNER2) == []


async def test_a_claim_filed_before_the_upgrade_is_chased_after_the_restart(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, lang="en")
        wallet = await register(first)
        ref = await claim(first, OWNER, wallet)
        async with first.rt.uow() as s:  # as if filed by a version that did not chase claims
            await s.execute(delete(Deadline).where(Deadline.kind == CLAIM_REMINDER))
        first.unread(RECEPTIONIST)
        await first.at(local(2026, 12, 1, 9, 0))
        assert about(first, RECEPTIONIST, ref) == []
    async with Desk(database_url, clock, emu=first.emu) as second:
        second.unread(RECEPTIONIST)
        await second.at(local(2026, 12, 5, 8, 29))
        assert about(second, RECEPTIONIST, ref) == []
        await second.at(local(2026, 12, 5, 8, 30))  # three business days after the restart
        assert [m.split(".")[0] for m in about(second, RECEPTIONIST, ref)] == [
            f"⏰ Claim {ref} on {wallet}, filed 27 Nov 2026, is still waiting for the claimant "
            "to show their original ID at the front desk"
        ]


async def test_a_claim_held_back_by_anothers_checked_id_is_not_chased(desk: Desk) -> None:
    # Only one claim on an item can have its ID checked: asking the other claimant to come, or
    # the desk to check their ID, would only lead to a refusal.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await desk.owner(OWNER2, "1-2-302", lang="en")
    wallet = await register(desk)
    first = await claim(desk, OWNER, wallet)
    second = await claim(desk, OWNER2, wallet)
    await check_id(desk, first)
    desk.unread(OWNER2)
    desk.unread(RECEPTIONIST)
    await desk.at(local(2026, 12, 1, 8, 30))  # three business days on
    assert about(desk, OWNER2, second) == []
    assert [m for m in about(desk, RECEPTIONIST, second) if m.startswith("⏰")] == []
    # and Check ID on the held-back claim is refused at once, before any ID is typed in
    claim_ticket, _ = await claim_of(desk, second)
    refused = await desk.press_data(
        RECEPTIONIST, desk.emu.last(RECEPTIONIST), f"lf:ver:{claim_ticket.id}"
    )
    assert refused[0].startswith(f"Another claim on this item ({first}) has already had its ID")
    assert (await claim_of(desk, second))[0].state == ClaimSt.CLAIMED


async def test_the_reminders_count_again_from_the_id_check(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)  # Friday 27 Nov
    ref = await claim(desk, OWNER, wallet)
    await desk.at(local(2026, 11, 30, 17, 0))  # Monday 17:00: the claimant comes, ID checked
    await check_id(desk, ref)
    desk.unread(RECEPTIONIST)
    desk.unread(OWNER)
    await desk.at(local(2026, 12, 1, 8, 30))  # the filing's three days, not the check's
    assert [m for m in about(desk, RECEPTIONIST, ref) if m.startswith("⏰")] == []
    assert about(desk, OWNER, ref) == []
    await desk.at(local(2026, 12, 4, 8, 30))  # three business days after the check
    nagged = [m for m in about(desk, RECEPTIONIST, ref) if m.startswith("⏰")]
    assert len(nagged) == 1 and "the claimant's ID was checked" in nagged[0]


async def test_an_item_whose_claimants_id_was_checked_stays_at_the_desk_at_month_end(
    desk: Desk,
) -> None:
    # 4.6 hands the unclaimed items to administration; this one has found its owner.
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    wallet = await register(desk)
    ref = await claim(desk, OWNER, wallet)
    await check_id(desk, ref)
    desk.unread(OWNER)
    desk.unread(ADMIN)
    await desk.at(local(2026, 11, 30, 17, 30))  # month-end handover
    assert about(desk, OWNER, ref) == []
    assert not [m for m in desk.unread(ADMIN) if wallet in m]
    assert (await item_of(desk, wallet))[1].custody == "desk"


async def test_a_checked_claimant_whose_valuable_goes_to_administration_is_asked_to_sign(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER2, "1-2-302", lang="en")
    phone = await register(desk, name="mobile phone", category="Mobile phone", valuable=None)
    ref = await claim(desk, OWNER2, phone)
    await check_id(desk, ref)
    desk.unread(OWNER2)
    await desk.at(local(2026, 11, 27, 17, 30))  # not collected on the day (4.8)
    assert desk.unread(OWNER2) == [
        f"📦 mobile phone ({phone}), the item of your claim {ref}, is now kept by the "
        "administration office (行政), as valuables not collected on the day are (4.8). Your "
        "ID has been checked: come to the front desk to sign for it, and the receptionist has "
        "it brought over."
    ]
