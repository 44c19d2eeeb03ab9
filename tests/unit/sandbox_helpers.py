"""An in-process sandbox on a fresh SQLite file and an HTTP client for its page API.

Test modules import `page_fixture` and `sandbox_db_fixture` to use the `page` fixture."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from bot.sandbox.runner import Sandbox, sandbox_settings
from tests.conftest import _sqlite_url_with_schema

START = datetime(2026, 11, 27, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))  # Friday, office open
HEADERS = {"X-PropDesk-Sandbox": "1"}
OWNER, DESK, TECH, SUPERVISOR = 1001, 2001, 3001, 3301


@pytest.fixture(name="sandbox_db")
def sandbox_db_fixture(tmp_path: Path) -> Path:
    """A SQLite file with the current schema (prepared outside the event loop)."""
    path = tmp_path / "sandbox.db"
    _sqlite_url_with_schema(str(path))
    return path


class Page:
    """What the browser page does, as plain HTTP calls."""

    def __init__(self, sandbox: Sandbox, client: httpx.AsyncClient) -> None:
        self.sb = sandbox
        self.http = client

    async def state(self, **query: Any) -> dict[str, Any]:
        response = await self.http.get("/api/state", params={"lang": "en", **query})
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def chat(self, chat_id: int) -> dict[str, Any]:
        state = await self.state()
        return next(c for c in state["chats"] if c["id"] == chat_id)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.post(path, json=body, headers=HEADERS, **kw)

    async def say(self, chat_id: int, text: str) -> None:
        response = await self.post(f"/api/chats/{chat_id}/text", {"text": text})
        assert response.status_code == 200, response.text

    async def press(self, chat_id: int, label: str) -> None:
        """Press the newest button whose label contains `label` (waits for it to appear)."""

        def find(chat: dict[str, Any]) -> dict[str, int] | None:
            for message in reversed(chat["messages"]):
                for r, row in enumerate(message["buttons"]):
                    for c, button in enumerate(row):
                        if label in button["text"]:
                            return {"message_id": message["id"], "row": r, "col": c}
            return None

        body = find(await self.until(chat_id, find))
        response = await self.post(f"/api/chats/{chat_id}/press", body)
        assert response.status_code == 200, response.text

    async def until(
        self, chat_id: int, check: Callable[[dict[str, Any]], Any], seconds: float = 10.0
    ) -> dict[str, Any]:
        """Long-poll like the page until check(chat) holds; the chat."""
        deadline = time.monotonic() + seconds
        while True:
            state = await self.state()
            chat = next(c for c in state["chats"] if c["id"] == chat_id)
            if check(chat):
                return chat
            if time.monotonic() > deadline:
                raise AssertionError(f"chat {chat_id}: condition not met; {texts(chat)[-3:]}")
            await self.sb.emu.changed_since(state["version"], 1.0)

    async def said(self, chat_id: int, text: str) -> dict[str, Any]:
        """Wait until the bot has sent chat_id a message containing text."""
        return await self.until(chat_id, lambda c: any(text in t for t in bot_texts(c)))


def texts(chat: dict[str, Any]) -> list[str]:
    return [m["text"] or m["caption"] or "" for m in chat["messages"]]


def bot_texts(chat: dict[str, Any]) -> list[str]:
    return [m["text"] or m["caption"] or "" for m in chat["messages"] if not m["out"]]


@pytest.fixture(name="page")
async def page_fixture(sandbox_db: Path) -> AsyncIterator[Page]:
    """A running sandbox (English, Friday 10:00) and the page's HTTP calls."""
    sandbox = Sandbox(sandbox_settings(sandbox_db, "en"), "en", START)
    try:
        url = await sandbox.start("127.0.0.1", 0)
        async with httpx.AsyncClient(base_url=url, trust_env=False, timeout=30) as client:
            yield Page(sandbox, client)
    finally:
        await sandbox.stop()
    await asyncio.sleep(0)
