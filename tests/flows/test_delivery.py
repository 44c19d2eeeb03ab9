"""The outbox: nothing lost when Telegram rate-limits, fails or refuses a recipient."""

from datetime import timedelta
from itertools import pairwise

from sqlalchemy import select

from models.notification import Notification, Status, enqueue, msg
from models.people import Role, person_by_telegram
from models.staffing import remove_staff
from tests.conftest import sql_log
from tests.flows.harness import Desk

TECH, TECH2, RECEPTIONIST, ADMIN = 3001, 3002, 2001, 2101


async def _queue(desk: Desk, tg_id: int, text: str, **kw: object) -> None:
    async with desk.rt.uow() as s:
        person = await person_by_telegram(s, tg_id)
        assert person is not None
        enqueue(s, person, msg(text), desk.clock.now(), **kw)  # type: ignore[arg-type]
    await desk.deliver()


async def test_429_pauses_sending_for_retry_after_then_delivers_once(desk: Desk) -> None:
    await desk.staff(TECH, "technician")
    desk.emu.fail("sendMessage", status=429, retry_after=7)
    await _queue(desk, TECH, "first")
    await _queue(desk, TECH, "second")
    assert desk.inbox(TECH) == ["first", "second"]
    assert any(s >= 7 for s in desk.timer.slept)
    async with desk.session() as s:
        rows = (await s.execute(select(Notification))).scalars().all()
        assert [(r.status, r.attempts) for r in rows] == [("sent", 2), ("sent", 1)]


async def test_5xx_and_timeouts_keep_the_message_and_deliver_it_later_in_order(
    desk: Desk,
) -> None:
    await desk.staff(TECH, "technician")
    desk.emu.fail("sendMessage", status=502, times=1)
    await _queue(desk, TECH, "one")
    await _queue(desk, TECH, "two")
    assert desk.inbox(TECH) == []  # the first is waiting for its retry; the second waits behind
    desk.emu.fail("sendMessage", kind="timeout", times=1)
    desk.clock.advance(timedelta(seconds=3))
    await desk.deliver()
    assert desk.inbox(TECH) == []
    desk.clock.advance(timedelta(seconds=5))
    await desk.deliver()
    assert desk.inbox(TECH) == ["one", "two"]


async def test_refused_recipient_is_marked_unreachable_office_told_and_work_handed_over(
    desk: Desk,
) -> None:
    await desk.staff(RECEPTIONIST, "receptionist", lang="en")
    await desk.staff(ADMIN, "admin", lang="en")
    await desk.staff(TECH, "technician", name="Zhang", started=False)
    await desk.staff(TECH2, "technician", name="Liu", lang="en")
    await _queue(desk, TECH, "Dispatch R-20261127-001", fallback_role=Role.TECHNICIAN)
    async with desk.session() as s:
        row = (await s.execute(select(Notification))).scalars().first()
        assert row is not None and row.status == Status.UNDELIVERABLE and row.attempts == 1
        zhang = await person_by_telegram(s, TECH)
        assert zhang is not None and zhang.unreachable_at is not None
    notice = (
        "⚠️ Zhang cannot be reached in Telegram: they have not opened the bot or have blocked "
        "it. Please ask them to open the bot and send /start."
    )
    assert desk.inbox(RECEPTIONIST) == [notice]
    assert desk.inbox(ADMIN) == [notice]
    assert desk.inbox(TECH2) == ["(Forwarded: Zhang cannot be reached.)\nDispatch R-20261127-001"]
    # A second refused message does not repeat the notice to the office.
    await _queue(desk, TECH, "another")
    assert len(desk.inbox(RECEPTIONIST)) == 1
    # Once Zhang opens the bot he is reachable again.
    await desk.send(TECH, "/start")
    async with desk.session() as s:
        zhang = await person_by_telegram(s, TECH)
        assert zhang is not None and zhang.unreachable_at is None


async def test_overall_and_per_chat_limits_are_respected(desk: Desk) -> None:
    for i in range(5):
        await desk.staff(4000 + i, "technician")
    async with desk.rt.uow() as s:
        for i in range(5):
            person = await person_by_telegram(s, 4000 + i)
            assert person is not None
            for j in range(3):
                enqueue(s, person, msg(f"m{j}"), desk.clock.now())
    desk.emu.rate_limits(overall_per_second=None, per_chat_per_second=None)
    sends: list[tuple[float, int]] = []
    original = desk.app.bot.send_message

    async def spy(chat_id: int, *a: object, **kw: object) -> object:
        sends.append((desk.timer.t, chat_id))
        return await original(chat_id, *a, **kw)  # type: ignore[arg-type]

    desk.app.bot._unfreeze()
    desk.app.bot.send_message = spy  # type: ignore[method-assign]
    assert await desk.deliver() == 15
    for i in range(5):
        times = [t for t, c in sends if c == 4000 + i]
        assert all(b - a >= 1.0 for a, b in pairwise(times))
        assert desk.inbox(4000 + i) == ["m0", "m1", "m2"]
    all_times = [t for t, _ in sends]
    assert all(sum(t <= u < t + 1.0 for u in all_times) <= 30 for t in all_times)


async def test_no_more_than_thirty_messages_leave_in_any_second(desk: Desk) -> None:
    for i in range(80):
        await desk.staff(5000 + i, "technician")
    async with desk.rt.uow() as s:
        for i in range(80):
            person = await person_by_telegram(s, 5000 + i)
            assert person is not None
            enqueue(s, person, msg("notice"), desk.clock.now())
    sends: list[float] = []
    original = desk.app.bot.send_message

    async def spy(chat_id: int, *a: object, **kw: object) -> object:
        sends.append(desk.timer.t)
        return await original(chat_id, *a, **kw)  # type: ignore[arg-type]

    desk.app.bot._unfreeze()
    desk.app.bot.send_message = spy  # type: ignore[method-assign]
    assert await desk.deliver() == 80
    assert max(sum(t <= u < t + 1.0 for u in sends) for t in sends) <= 30
    assert sends[-1] - sends[0] >= 2.0  # 80 messages need more than two full seconds


async def test_a_reply_telegram_refuses_for_now_is_delivered_later_from_the_outbox(
    desk: Desk,
) -> None:
    await desk.owner(1001, lang="en")
    desk.emu.fail("sendMessage", status=500, chat_id=1001, times=2)  # the reply, then a retry
    assert await desk.send(1001, "/cancel") == []

    desk.clock.advance(timedelta(seconds=5))
    await desk.deliver()
    assert desk.inbox(1001)[-1] == "There is nothing to cancel."


async def test_a_flood_from_one_user_is_dropped_cheaply_and_others_are_served(
    desk: Desk,
) -> None:
    await desk.owner(1001, lang="en")
    await desk.owner(1002, "1-2-302", lang="en")
    desk.unread(1001)
    for i in range(60):
        await desk.feed(desk.emu.text_update(1001, f"spam {i}"), pace=0)
    replies = desk.unread(1001)
    warning = "You are sending messages faster than I can answer. Please wait a moment."
    assert replies.count(warning) == 1
    assert len(replies) < 25  # the burst allowance and one warning, not 60 answers
    assert await desk.send(1002, "/cancel") == ["There is nothing to cancel."]
    desk.timer.t += 30  # a pause refills the bucket
    assert await desk.send(1001, "/cancel") == ["There is nothing to cancel."]


async def test_every_button_press_dropped_in_a_flood_is_answered(desk: Desk) -> None:
    # A dropped press left unanswered keeps its button spinning until Telegram gives up, and
    # the user cannot tell whether it was taken.
    await desk.owner(1001, lang="en")
    await desk.send(1001, "/repair")
    menu = desk.with_button(1001, "In my home")
    data = next(d for text, d in desk.emu.buttons(menu) if "In my home" in text)
    desk.unread(1001)
    presses = 40
    for _ in range(presses):
        await desk.feed(desk.emu.callback_update(1001, menu, data), pace=0)
    answers = desk.emu.callback_answers
    assert len(answers) == presses  # taken or dropped, every press has its answer
    warning = "You are sending messages faster than I can answer. Please wait a moment."
    dropped = [a for a in answers if a.get("text") == warning]
    assert 10 <= len(dropped) < presses
    assert warning not in desk.unread(1001)  # a toast each, no message per dropped press


async def test_a_delivered_message_costs_four_statements_in_the_readers_language(
    desk: Desk,
) -> None:
    """Delivery reads the row and its reader's language, sends, marks it sent. The reader's
    roles and record are loaded only when Telegram refuses (to hand work over)."""
    await desk.staff(TECH, "technician", lang="zh_CN")
    async with desk.rt.uow() as s:
        person = await person_by_telegram(s, TECH)
        assert person is not None
        enqueue(s, person, msg("Please check your request:"), desk.clock.now())
    statements = sql_log(desk.rt.sessions)
    await desk.deliver()
    assert desk.inbox(TECH) == ["请核对报修内容："]
    work = [q.split()[0] for q in statements if "LIMIT" not in q]  # the drain's own polling
    assert work == ["SELECT", "SELECT", "SELECT", "UPDATE"], statements
    assert not [q for q in statements if "FROM staff_role" in q]


async def test_a_message_withdrawn_while_telegram_asked_to_wait_is_not_sent(desk: Desk) -> None:
    # Telegram asks for a 30 s pause; meanwhile the technician leaves and the dispatch still
    # queued for them (with an owner's phone number) is withdrawn: it must not go out after.
    await desk.staff(RECEPTIONIST, "receptionist")
    await desk.staff(TECH, "technician")
    desk.emu.fail("sendMessage", status=429, retry_after=30, chat_id=RECEPTIONIST)
    async with desk.rt.uow() as s:
        for tg_id, text in ((RECEPTIONIST, "first"), (TECH, "Dispatch: call 13800000000")):
            person = await person_by_telegram(s, tg_id)
            assert person is not None
            enqueue(s, person, msg(text), desk.clock.now())
    sleep = desk.timer.sleep

    async def leave_during_the_pause(seconds: float) -> None:
        if seconds >= 29:
            async with desk.rt.uow() as s:
                await remove_staff(s, TECH, desk.clock.now())
        await sleep(seconds)

    desk.timer.sleep = leave_during_the_pause  # type: ignore[method-assign]
    await desk.deliver()
    assert desk.inbox(RECEPTIONIST) == ["first"]
    assert len(desk.inbox(TECH)) == 1  # only the notice that their roles have ended
    assert "13800000000" not in desk.inbox(TECH)[0]
