"""Updates of different people are handled concurrently, each person's strictly in order.

These run the real updater (long-poll getUpdates against the emulator), the path production
takes, rather than the harness's direct `process_update`.
"""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from sqlalchemy.orm.exc import StaleDataError

from bot.app import ALLOWED_UPDATES
from bot.clock import ManualClock
from bot.updates import MAX_CONCURRENT_UPDATES
from models.draft import Draft
from tests.flows.harness import Desk

SLOW, OTHER = 1001, 1002


@asynccontextmanager
async def polling(desk: Desk) -> AsyncIterator[Desk]:
    await desk.app.start()
    assert desk.app.updater is not None
    await desk.app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
    try:
        yield desk
    finally:
        for chat_id in (SLOW, OTHER):  # a failed assertion must not leave calls held forever
            desk.emu.release(chat_id)
        await desk.app.updater.stop()
        await desk.app.stop()


def _sent_to(desk: Desk, chat_id: int) -> list[dict[str, Any]]:
    """sendMessage calls to `chat_id` the bot has started (a held call is already listed)."""
    return [c for c in desk.emu.calls("sendMessage") if c["params"].get("chat_id") == chat_id]


async def test_telegram_slow_for_one_owner_does_not_hold_up_another(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.owner(SLOW, lang="en")
        await desk.owner(OTHER, "1-2-302", lang="en")
        async with polling(desk):
            desk.emu.hold(SLOW)  # Telegram does not answer anything sent to this chat
            slow_mark = desk.emu.mark(SLOW)
            before = len(_sent_to(desk, SLOW))
            desk.emu.enqueue(desk.emu.text_update(SLOW, "/repair"))
            await desk.emu.wait_for(lambda: len(_sent_to(desk, SLOW)) > before)
            other_mark = desk.emu.mark(OTHER)
            desk.emu.enqueue(desk.emu.text_update(OTHER, "/repair"))
            answer = await desk.emu.wait_for(lambda: desk.emu.new_messages(OTHER, other_mark))
            assert "New repair request" in answer[0].content
            assert desk.emu.new_messages(SLOW, slow_mark) == []  # still waiting on Telegram
            desk.emu.release(SLOW)
            late = await desk.emu.wait_for(lambda: desk.emu.new_messages(SLOW, slow_mark))
            assert "New repair request" in late[0].content


async def test_a_burst_from_one_user_does_not_take_every_slot_from_another(
    database_url: str, clock: ManualClock
) -> None:
    # More queued updates from one person (a forwarded batch, on a chat Telegram answers
    # slowly) than there are working slots: they wait for that person's turn, not for a slot.
    async with Desk(database_url, clock) as desk:
        await desk.owner(SLOW, lang="en")
        await desk.owner(OTHER, "1-2-302", lang="en")
        async with polling(desk):
            desk.emu.hold(SLOW)
            for i in range(MAX_CONCURRENT_UPDATES + 6):
                desk.emu.enqueue(desk.emu.text_update(SLOW, f"hello {i}"))
            await desk.emu.wait_for(lambda: len(_sent_to(desk, SLOW)) > 0)
            mark = desk.emu.mark(OTHER)
            desk.emu.enqueue(desk.emu.text_update(OTHER, "/cancel"))
            answer = await asyncio.wait_for(
                desk.emu.wait_for(lambda: desk.emu.new_messages(OTHER, mark)), timeout=5
            )
            assert answer[0].content == "There is nothing to cancel."


async def test_one_persons_updates_are_handled_one_at_a_time_in_order(
    database_url: str, clock: ManualClock
) -> None:
    script = ["/repair", "/cancel", "/cancel", "/repair", "/cancel", "/cancel"]
    expected = [
        "New repair request",
        "Cancelled. Nothing was submitted.",
        "There is nothing to cancel.",
        "New repair request",
        "Cancelled. Nothing was submitted.",
        "There is nothing to cancel.",
    ]
    async with Desk(database_url, clock) as desk:
        await desk.owner(SLOW, lang="en")
        await desk.owner(OTHER, "1-2-302", lang="en")
        async with polling(desk):
            desk.emu.hold(SLOW)
            mark = desk.emu.mark(SLOW)
            before = len(_sent_to(desk, SLOW))
            for text in script:  # all at once, as Telegram delivers a burst of messages
                desk.emu.enqueue(desk.emu.text_update(SLOW, text))
            await desk.emu.wait_for(lambda: len(_sent_to(desk, SLOW)) > before)
            other_mark = desk.emu.mark(OTHER)
            desk.emu.enqueue(desk.emu.text_update(OTHER, "/cancel"))
            await desk.emu.wait_for(lambda: desk.emu.new_messages(OTHER, other_mark))
            # The other owner was answered, yet of the burst only the first update has got as
            # far as Telegram: the rest wait for it, not for the whole bot.
            assert len(_sent_to(desk, SLOW)) == before + 1
            desk.emu.release(SLOW)
            await desk.emu.wait_for(lambda: len(desk.emu.new_messages(SLOW, mark)) >= 6)
            replies = desk.emu.new_messages(SLOW, mark)
            assert len(replies) == 6
            assert all(e in m.content for e, m in zip(expected, replies, strict=True))
        async with desk.session() as s:
            assert await s.get(Draft, SLOW) is None


async def test_an_update_that_met_a_concurrent_change_is_handled_again(
    database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ticket changed by someone else between read and write (version check): the update
    runs again on what is there now, and the person gets one ordinary answer."""
    import handlers.base as base

    real = base.touch_person
    calls = {"n": 0}

    async def stale_once(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        person = await real(*args, **kwargs)
        if calls["n"] == 1:
            raise StaleDataError("UPDATE statement on table 'ticket' expected to update 1 row")
        return person

    async with Desk(database_url, clock) as desk:
        await desk.owner(SLOW, lang="en")
        monkeypatch.setattr(base, "touch_person", stale_once)
        replies = await desk.send(SLOW, "/repair")
    assert calls["n"] == 2
    assert len(replies) == 1 and "New repair request" in replies[0]


async def test_a_press_clears_the_buttons_while_the_toast_is_still_on_its_way(
    database_url: str, clock: ManualClock
) -> None:
    """Answering the press and clearing its buttons are independent calls: made together, so a
    press costs one Telegram round trip less before the reply."""
    async with Desk(database_url, clock) as desk:
        await desk.owner(SLOW, lang="en")
        await desk.send(SLOW, "/repair")
        question = desk.with_button(SLOW, "In my home")
        async with polling(desk):
            desk.emu.hold("answerCallbackQuery")
            try:
                mark = desk.emu.mark(SLOW)
                desk.emu.enqueue(desk.emu.press(SLOW, question, "In my home"))
                edits = await desk.emu.wait_for(
                    lambda: [
                        c for c in desk.emu.calls("editMessageReplyMarkup") if c["status"] == 200
                    ]
                )
                assert edits[0]["params"]["message_id"] == question.message_id
                assert [c["status"] for c in desk.emu.calls("answerCallbackQuery")][-1] == 0
            finally:
                desk.emu.release("answerCallbackQuery")
            reply = await desk.emu.wait_for(lambda: desk.emu.new_messages(SLOW, mark))
            assert "What kind of problem" in reply[0].content
            assert desk.emu.calls("answerCallbackQuery")[-1]["status"] == 200
