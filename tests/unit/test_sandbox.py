"""The sandbox's page API over a running bot: the demo office, chats, buttons, photos, clock."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
from sqlalchemy import select

from bot.sandbox.dataset import OWNER_UNIT, PERSONAS
from bot.sandbox.runner import Sandbox, sandbox_settings
from models.people import Person
from models.property import units_of
from tests.browser.test_sandbox_repair import png
from tests.unit.sandbox_helpers import (
    DESK,
    OWNER,
    START,
    SUPERVISOR,
    TECH,
    Page,
    bot_texts,
    page_fixture,  # noqa: F401
    sandbox_db_fixture,  # noqa: F401
    texts,
)


async def test_every_persona_is_bound_through_the_bot_with_their_own_menu(page: Page) -> None:
    async with page.sb.rt.sessions() as s:
        people = {
            p.telegram_id: p
            for p in (await s.execute(select(Person).where(Person.telegram_id.is_not(None))))
            .scalars()
            .all()
        }
        owner_units = [u.code for u in await units_of(s, people[OWNER])]
    assert set(people) == {p.tg_id for p in PERSONAS}
    assert owner_units == [OWNER_UNIT]
    for persona in PERSONAS[1:]:
        assert {r.role for r in people[persona.tg_id].roles} == set(persona.roles)
    state = await page.state()
    assert [c["key"] for c in state["chats"]] == [p.key for p in PERSONAS]
    for chat in state["chats"]:
        # The person sent /start CODE through the update queue and the bot welcomed them.
        assert chat["messages"][0]["out"] and chat["messages"][0]["text"].startswith("/start ")
        assert any(t.startswith("Welcome") for t in bot_texts(chat))
    menus = {c["key"]: [m["command"] for m in c["commands"]] for c in state["chats"]}
    assert "repair" in menus["owner"] and "queue" not in menus["owner"]
    assert "queue" in menus["receptionist"] and "repair" not in menus["receptionist"]
    assert page.sb.emu.pending_updates() == []


async def test_a_message_goes_through_the_update_queue_and_wakes_a_waiting_page(
    page: Page,
) -> None:
    before = (await page.state())["version"]
    polls = len(page.sb.emu.calls("getUpdates"))
    waiting = asyncio.create_task(page.state(since=before, wait=20))
    await asyncio.sleep(0.05)
    assert not waiting.done()
    started = time.monotonic()
    await page.say(OWNER, "/my")
    woken = await waiting
    assert time.monotonic() - started < 2 and woken["version"] > before
    owner = next(c for c in woken["chats"] if c["id"] == OWNER)
    assert "/my" in texts(owner)  # the person's own message shows at once
    await page.said(OWNER, OWNER_UNIT)  # the bot's answer to /my lists the unit
    assert len(page.sb.emu.calls("getUpdates")) > polls  # it came by long polling


async def test_a_press_shows_the_toast_to_the_presser_and_the_edited_message(page: Page) -> None:
    await page.say(OWNER, "/language")
    await page.said(OWNER, "Choose your language")
    await page.press(OWNER, "中文")
    owner = await page.until(OWNER, lambda c: c["toasts"])
    assert owner["toasts"][-1]["text"] == "语言已切换为中文。"
    assert owner["toasts"][-1]["alert"] is False
    chosen = next(m for m in owner["messages"] if m["text"] == "Choose your language:")
    assert chosen["edited"] and chosen["buttons"] == []
    assert (await page.chat(DESK))["toasts"] == []
    # The chat's own menu was published again, now in Chinese.
    owner = await page.until(
        OWNER, lambda c: any(m["description"] == "报修" for m in c["commands"])
    )


async def test_only_buttons_that_exist_can_be_pressed(page: Page) -> None:
    await page.say(OWNER, "/language")
    message = (await page.said(OWNER, "Choose your language"))["messages"][-1]
    path = f"/api/chats/{OWNER}/press"
    for body in (
        {"message_id": message["id"], "row": 0, "col": 9},
        {"message_id": message["id"], "row": 5, "col": 0},
        {"message_id": 999, "row": 0, "col": 0},
        {"message_id": 1, "row": 0, "col": 0},  # the person's own /start message
    ):
        assert (await page.post(path, body)).status_code == 409
    assert (await page.post(path, {"message_id": "1", "row": 0, "col": 0})).status_code == 400
    # Another person cannot press buttons of the owner's message from their own chat.
    other = {"message_id": message["id"], "row": 0, "col": 0}
    assert (await page.post(f"/api/chats/{TECH}/press", other)).status_code == 409
    assert page.sb.emu.pending_updates() == []


async def test_an_uploaded_photo_is_sent_and_served_back_as_a_picture(page: Page) -> None:
    picture = png()
    upload = await page.http.post(
        f"/api/chats/{OWNER}/photo",
        content=picture,
        headers={"X-PropDesk-Sandbox": "1", "Content-Type": "image/png"},
    )
    assert upload.status_code == 200
    owner = await page.until(OWNER, lambda c: any(m["photo"] for m in c["messages"]))
    sent = next(m for m in owner["messages"] if m["photo"])
    assert sent["out"]
    served = await page.http.get(sent["photo"])
    assert served.content == picture and served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    not_a_picture = await page.http.post(
        f"/api/chats/{OWNER}/photo", content=b"<html>", headers={"X-PropDesk-Sandbox": "1"}
    )
    assert not_a_picture.status_code == 415
    too_big = await page.http.post(
        f"/api/chats/{OWNER}/photo",
        content=picture + b"\0" * (10 * 1024 * 1024),
        headers={"X-PropDesk-Sandbox": "1"},
    )
    assert too_big.status_code == 413
    assert (await page.http.get("/api/files/nope")).status_code == 404


async def test_jumping_the_clock_fires_the_reminder_at_once_to_the_receptionist(
    page: Page,
) -> None:
    await page.say(OWNER, "/repair")
    await page.press(OWNER, "In my home")
    await page.press(OWNER, "Water supply")
    await page.said(OWNER, "Please describe the problem")
    await page.say(OWNER, "The kitchen tap drips all night")
    await page.press(OWNER, "Skip photos")
    await page.press(OWNER, "As soon as possible")
    await page.press(OWNER, "Submit")
    await page.said(OWNER, "Your repair request has been filed")
    await page.said(DESK, "New repair")
    clock = (await page.state())["clock"]
    assert clock["label"] == "Fri 27 Nov 2026, 10:00" and clock["open"] is True
    for _ in range(2):
        jumped = await page.post("/api/clock", {"minutes": 15})
        assert jumped.status_code == 200
    assert jumped.json()["fired"] == 1
    await page.said(DESK, "has been waiting for dispatch for 30 minutes")
    assert (await page.state())["clock"]["label"] == "Fri 27 Nov 2026, 10:30"
    assert not any("waiting for dispatch" in t for t in bot_texts(await page.chat(SUPERVISOR)))


async def test_the_clock_only_jumps_forward_and_by_at_most_a_week(page: Page) -> None:
    for minutes in (0, -15, 7 * 24 * 60 + 1, True, "15", 1.5):
        assert (await page.post("/api/clock", {"minutes": minutes})).status_code == 400
    assert (await page.post("/api/clock", {"minutes": 7 * 24 * 60})).status_code == 200
    assert (await page.state())["clock"]["label"] == "Fri 4 Dec 2026, 10:00"


async def test_a_second_run_on_the_same_database_finds_everyone_still_bound(
    sandbox_db: Path,
) -> None:
    first = Sandbox(sandbox_settings(sandbox_db, "en"), "en", START)
    try:
        await first.start("127.0.0.1", 0)
    finally:
        await first.stop()
    again = Sandbox(sandbox_settings(sandbox_db, "en"), "en", START)
    try:
        url = await again.start("127.0.0.1", 0)
        for persona in PERSONAS:
            assert again.emu.history.get(persona.tg_id) is None  # no second /start
            assert again.emu.commands({"type": "chat", "chat_id": persona.tg_id})
        async with httpx.AsyncClient(base_url=url, trust_env=False) as client:
            second = Page(again, client)
            await second.say(OWNER, "/my")
            await second.said(OWNER, OWNER_UNIT)
    finally:
        await again.stop()
    async with again.rt.sessions() as s:
        count = len((await s.execute(select(Person))).scalars().all())
    assert count == len(PERSONAS)
