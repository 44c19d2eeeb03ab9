"""The lost-and-found forms: every typed answer validated with its reason and nothing written
until the end, who may open which command, /cancel, a restart mid-form, /queue and /ticket."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from bot.clock import ManualClock
from models.lost_found import ClaimSt, LostReport
from models.ticket import Ticket
from tests.flows.harness import Desk
from tests.flows.lost_found_steps import (
    GUARD,
    OWNER,
    RECEPTIONIST,
    check_id,
    claim,
    claim_of,
    item_of,
    receive,
    register,
    staffed,
)

TIME_HINT = (
    "Please type the time like 2026-11-27 14:30, or 14:30 for today (yesterday, if that time "
    "is still to come)."
)


async def _tickets(desk: Desk) -> int:
    async with desk.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Ticket)) or 0)


async def test_found_form_checks_every_answer_and_writes_nothing_until_the_end(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.send(GUARD, "/found")
    assert await desk.send(GUARD, "x") == [
        "That is too short: please write at least 2 characters.",
        "🧳 Register a found item (拾遗物品登记). What is it? Give a short general name that "
        "owners will see, e.g. black wallet or keys — the distinguishing details come next.\n"
        "Send /cancel to stop.",
    ]
    assert (await desk.send(GUARD, "y" * 61))[0] == (
        "That is too long: please keep it under 60 characters."
    )
    await desk.send(GUARD, "blue umbrella")
    await desk.send(GUARD, "Folding, wooden handle, initials W.F.")
    assert (await desk.send(GUARD, "Other"))[0] == "Please choose one of the buttons."
    await desk.press(GUARD, "Other")
    await desk.press(GUARD, "Not valuable")
    await desk.send(GUARD, "Bench by the fountain")
    for typed, reason in (
        ("tomorrow", TIME_HINT),
        ("23:59 today", "That time is in the future. When was it found?"),
        ("2026-08-01 10:00", "That is more than 90 days ago. Please check the date."),
        ("2026-02-30 10:00", TIME_HINT),
    ):
        assert (await desk.send(GUARD, typed))[0] == reason, typed
    assert (await desk.send(GUARD, "yesterday 18:45"))[0].startswith("Who found it?")
    assert (await desk.send(GUARD, "A"))[0].startswith("That is too short")
    await desk.send(GUARD, "Resident of 3-1-502")
    assert (await desk.send(GUARD, "here it is"))[0] == (
        "Please send a photo, or press the button to continue."
    )
    summary = await desk.press(GUARD, "No photo")
    assert summary == [
        "Please check the registration:\nItem: blue umbrella\n"
        "Details (staff only): Folding, wooden handle, initials W.F.\nCategory: Other\n"
        "Valuable: no\nFound at Bench by the fountain, 26 Nov 2026, 18:45, by Resident of 3-1-502\n"
        "Photos: 0"
    ]
    assert await _tickets(desk) == 0
    assert await desk.press(GUARD, "Cancel") == ["Cancelled. Nothing was submitted."]
    assert await _tickets(desk) == 0
    ref = await register(desk, when="2026-11-27 08:15", finder="Resident of 3-1-502")
    _, item = await item_of(desk, ref)
    assert item.finder_name == "Resident of 3-1-502" and item.finder_id is None
    assert item.found_at == desk.clock.now().replace(hour=0, minute=15)


async def test_just_after_midnight_a_bare_time_still_to_come_today_is_last_night(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.at(datetime(2026, 11, 28, 0, 10, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(UTC))
    await desk.send(GUARD, "/found")
    await desk.send(GUARD, "black wallet")
    await desk.send(GUARD, "Brown leather")
    await desk.press(GUARD, "Wallets and bags")
    await desk.press(GUARD, "Not valuable")
    assert (await desk.send(GUARD, "Lobby")) == [
        "When was it found? Press Just now, or type the time, for example 2026-11-27 14:30, "
        "or 14:30 for today (yesterday, if that time is still to come)."
    ]
    # found ten minutes before midnight: yesterday's 23:50, not tonight's
    assert (await desk.send(GUARD, "23:50"))[0].startswith("Who found it?")
    await desk.send(GUARD, "Night guard Wu")
    summary = await desk.press(GUARD, "No photo")
    assert "Found at Lobby, 27 Nov 2026, 23:50, by Night guard Wu" in summary[0]
    assert (await desk.send(GUARD, "/cancel"))[0].startswith("Cancelled")
    # what is still to come today, said so, is refused
    await desk.send(GUARD, "/found")
    await desk.send(GUARD, "black wallet")
    await desk.send(GUARD, "Brown leather")
    await desk.press(GUARD, "Wallets and bags")
    await desk.press(GUARD, "Not valuable")
    await desk.send(GUARD, "Lobby")
    assert (await desk.send(GUARD, "23:50 today"))[0] == (
        "That time is in the future. When was it found?"
    )


async def test_who_may_use_found_and_lost(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    assert await desk.send(OWNER, "/found") == ["This command is for property staff only."]
    assert (await desk.send(GUARD, "/lost"))[0].startswith("You are not linked to a unit yet.")
    desk.emu.add_user(5555, "Stranger", "en")
    assert (await desk.send(5555, "/lost"))[0].startswith("You are not linked to a unit yet.")
    ref = await register(desk)
    item_ticket, _ = await item_of(desk, ref)
    await desk.press_data(5555, desk.emu.last(5555), f"lf:cl:{item_ticket.id}")
    assert desk.inbox(5555)[-1].startswith("You are not linked to a unit yet.")
    assert await _tickets(desk) == 1
    # Owners cannot open an F- ticket: it carries the distinguishing details.
    assert await desk.send(OWNER, f"/ticket {ref}") == [f"No ticket {ref} was found among yours."]


async def test_forms_survive_a_restart_and_cancel_leaves_nothing(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, lang="en")
        await first.send(GUARD, "/found")
        await first.send(GUARD, "grey scarf")
    async with Desk(database_url, clock, emu=first.emu) as second:
        assert (await second.send(GUARD, "Wool, label from Ningbo"))[0] == "Which category?"
        await second.press(GUARD, "Clothing")
        await second.press(GUARD, "Not valuable")
        await second.send(GUARD, "Lift of building 2")
        await second.press(GUARD, "Just now")
        await second.press(GUARD, "I found it")
        await second.press(GUARD, "No photo")
        ref = (await second.press(GUARD, "Register"))[0].split()[3].rstrip(".")
        await second.send(OWNER, "/lost")
        await second.press(OWNER, "Recently found items")
        await second.press(OWNER, f"Claim {ref}")
        await second.send(OWNER, "A grey scarf")
        assert await second.send(OWNER, "/cancel") == ["Cancelled. Nothing was submitted."]
        assert await _tickets(second) == 1
        # Reporting a loss can be cancelled at its summary too.
        await second.send(OWNER, "/lost")
        await second.press(OWNER, "I lost something")
        await second.press(OWNER, "Keys")
        assert (await second.send(OWNER, "k"))[0].startswith("That is too short")
        await second.send(OWNER, "Two keys on a red ring, near the gate")
        assert await second.press(OWNER, "Cancel") == ["Cancelled. Nothing was submitted."]
        async with second.session() as s:
            assert await s.scalar(select(func.count()).select_from(LostReport)) == 0


async def test_queue_and_ticket_cards_offer_each_person_their_actions(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await register(desk)
    claim_ref = await claim(desk, OWNER, ref)
    queue = await desk.send(RECEPTIONIST, "/queue")
    assert f"{claim_ref} · 1-2-301 · waiting for the claimant at the front desk" in queue[0]
    card = await desk.send(RECEPTIONIST, f"/ticket {claim_ref}")
    assert card[0].startswith(f"Lost-item claim {claim_ref} — waiting for the claimant")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))] == [
        "Check ID at the desk",
        "Not accepted",
    ]
    item_card = await desk.send(RECEPTIONIST, f"/ticket {ref}")
    assert "claim filed · Li" in item_card[0]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(RECEPTIONIST))] == [
        "Claim at the desk (no Telegram)"
    ]
    own = await desk.send(OWNER, f"/ticket {claim_ref}")
    assert "Brown leather wallet" in own[0]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == ["Withdraw claim"]
    await check_id(desk, claim_ref)
    await desk.send(OWNER, f"/ticket {claim_ref}")
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "I have received it",
        "Withdraw claim",
    ]
    assert await desk.press(OWNER, "Withdraw claim") == [f"{claim_ref} has been withdrawn."]
    assert desk.unread(RECEPTIONIST)[-1] == f"{claim_ref} on {ref} was withdrawn by the claimant."
    assert (await claim_of(desk, claim_ref))[0].state == ClaimSt.WITHDRAWN
    assert await desk.send(GUARD, "/queue") == ["You have no open work."]


async def test_a_refused_claim_tells_the_claimant_why(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await register(desk)
    claim_ref = await claim(desk, OWNER, ref, said="A purse", features="It is pink and small")
    await desk.press(RECEPTIONIST, "Not accepted")
    assert await desk.send(RECEPTIONIST, "The description does not match the item") == [
        f"{claim_ref} was not accepted; the claimant has been told why."
    ]
    assert desk.inbox(OWNER)[-1] == (
        f"Your claim {claim_ref} on {ref} was not accepted by the front desk: The description "
        "does not match the item"
    )
    assert (await claim_of(desk, claim_ref))[1].rejected_reason.startswith("The description")


async def test_in_chinese_a_lost_report_meets_the_found_item_and_the_owner_claims_it(
    desk: Desk,
) -> None:
    await staffed(desk, lang="zh-hans")
    await desk.owner(OWNER)  # a Chinese-speaking owner
    desk.unread(OWNER)
    menu = await desk.send(OWNER, "/lost")
    assert menu[0].startswith("🔎 物品拾遗。")
    await desk.press(OWNER, "我丢了东西")
    await desk.press(OWNER, "钱包箱包")
    await desk.send(OWNER, "黑色钱包，可能丢在大堂")
    noted = await desk.press(OWNER, "提交")
    assert noted[0].startswith("📝 已登记。90 天内如有相符的物品上交，我们会通知您。")

    await desk.send(GUARD, "/found")
    await desk.send(GUARD, "黑色钱包")
    await desk.send(GUARD, "棕色皮质，内有三张银行卡")
    await desk.press(GUARD, "钱包箱包")
    await desk.press(GUARD, "非贵重物品")
    await desk.send(GUARD, "1号楼大堂")
    assert (await desk.send(GUARD, "明天"))[0] == (
        "请按 2026-11-27 14:30 的格式输入时间，今天的可直接输入 14:30"
        "（若该时刻今天还没到，则视为昨天）。"
    )
    await desk.send(GUARD, "今天 9:30")
    await desk.press(GUARD, "是我拾到的")
    await desk.press(GUARD, "不拍照")
    registered = await desk.press(GUARD, "登记")
    assert registered == [
        "✅ 已登记，编号 F-20261127-001。请于今天将物品上交前台：客户接待员在机器人中确认收到后，"
        "会通知您。"
    ]
    await receive(desk, "F-20261127-001")
    assert desk.unread(GUARD)[-1] == (
        "✅ F-20261127-001（黑色钱包）已由前台 Wang Fang 确认收到，现由前台保管。感谢您上交。"
    )
    assert desk.unread(OWNER)[-1] == (
        "🔔 有一件可能是您遗失的物品已上交：F-20261127-001 · 钱包箱包 · 黑色钱包。"
        "请发送 /lost 查看拾遗物品，如是您的请认领。"
    )
    listing = await desk.press(OWNER, "最近拾到的物品")
    assert listing == [
        "拾遗物品（按时间从新到旧）：\n"
        "F-20261127-001 · 钱包箱包 · 黑色钱包 —— 2026年11月27日 09:30 拾于1号楼大堂"
    ]
    assert "银行卡" not in "\n".join(desk.inbox(OWNER))
    await desk.press(OWNER, "认领 F-20261127-001")
    await desk.send(OWNER, "黑色皮夹")
    await desk.send(OWNER, "里面有三张银行卡和身份证复印件")
    filed = await desk.press(OWNER, "提交认领")
    assert filed[0] == "✅ 您的认领已提交。编号：L-20261127-001"
    assert filed[1].startswith("请携带身份证原件到前台。")
