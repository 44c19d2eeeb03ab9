"""The emulator as the page sees it: a change counter to long-poll, toasts per chat, and each
chat as plain JSON (messages, inline keyboards, photos, edits, the command menu)."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from bot.emulator import JSON, BotApiEmulator, EmuMessage, EmuUser

# Calls that change nothing a person would see in their Telegram app.
QUIET = {
    "getupdates", "getme", "getwebhookinfo", "deletewebhook", "sendchataction", "getfile",
    "getchat", "getmycommands", "close", "logout",
}  # fmt: skip
LOG_KEEP = 500
TOASTS_KEPT = 20


@dataclass(frozen=True)
class Toast:
    """What answerCallbackQuery showed the presser: a toast, or an alert with OK."""

    seq: int
    text: str
    alert: bool


class SandboxEmulator(BotApiEmulator):
    """The Bot API emulator, observable by a page: every visible change bumps `version`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.version = 0
        self.toasts: dict[int, list[Toast]] = {}
        self._event = asyncio.Event()
        self._presser: dict[str, int] = {}
        self._toast_seq = 0

    def bump(self) -> None:
        """Something visible changed: wake every waiting page."""
        self.version += 1
        self._event.set()
        self._event = asyncio.Event()

    async def changed_since(self, version: int, timeout: float) -> int:  # noqa: ASYNC109
        """Wait until `version` is out of date or `timeout` seconds pass; the current version."""
        if self.version != version:
            return self.version
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        return self.version

    async def handle(
        self, method: str, params: dict[str, Any], files: dict[str, bytes] | None = None
    ) -> tuple[int, JSON]:
        answered = len(self.callback_answers)
        status, body = await super().handle(method, params, files)
        if len(self.callback_answers) > answered:
            self._toast(self.callback_answers[-1])
        if method.lower() not in QUIET:
            self.bump()
        if len(self.call_log) > 2 * LOG_KEEP:  # the sandbox may run for days
            del self.call_log[:-LOG_KEEP]
        return status, body

    def _toast(self, answer: JSON) -> None:
        user_id = self._presser.pop(str(answer.get("callback_query_id")), None)
        text = str(answer.get("text") or "")
        if user_id is None or not text:
            return  # Telegram shows nothing for an empty answer
        self._toast_seq += 1
        kept = self.toasts.setdefault(user_id, [])
        kept.append(Toast(self._toast_seq, text, bool(answer.get("show_alert"))))
        del kept[:-TOASTS_KEPT]

    def callback_update(self, user_id: int, message: EmuMessage, data: str) -> JSON:
        update = super().callback_update(user_id, message, data)
        self._presser[str(update["callback_query"]["id"])] = user_id
        return update

    def enqueue(self, update: JSON) -> JSON:
        queued = super().enqueue(update)
        self.bump()  # the person's own message shows at once, as in Telegram
        return queued

    def menu(self, user: EmuUser) -> list[JSON]:
        """The commands Telegram shows this user, resolved like Telegram: chat scope, then all
        private chats, then default; each first in the user's language, then without one."""
        language = (user.language_code or "")[:2]
        chat = {"type": "chat", "chat_id": user.id}
        private = {"type": "all_private_chats"}
        default = {"type": "default"}
        for scope in (chat, private, default):
            for code in (language, ""):
                found = self.commands(scope, code)
                if found:
                    return found
        return []


def file_url(file_id: str) -> str:
    return "/api/files/" + quote(file_id, safe="")


def _buttons(message: EmuMessage) -> list[list[JSON]]:
    rows: list[list[JSON]] = []
    for row in message.reply_markup or []:
        out: list[JSON] = []
        for button in row:
            url = str(button.get("url") or "")
            kind = "callback" if "callback_data" in button else ("url" if url else "other")
            item: JSON = {"text": str(button.get("text") or ""), "kind": kind}
            if kind == "url" and url.startswith(("https://", "http://")):
                item["url"] = url
            out.append(item)
        rows.append(out)
    return rows


def message_view(message: EmuMessage, tz: ZoneInfo) -> JSON:
    """One message for the page; text stays text (the page never parses it as HTML)."""
    sent = datetime.fromtimestamp(message.sent_at, tz)
    return {
        "id": message.message_id,
        "out": not message.from_bot,
        "text": message.text,
        "caption": message.caption,
        "photo": file_url(message.photos[-1]) if message.photos else None,
        "buttons": _buttons(message),
        "time": f"{sent:%H:%M}",
        "day": f"{sent:%Y-%m-%d}",
        "edited": message.edited_at is not None,
    }


def chat_messages(emu: BotApiEmulator, chat_id: int, tz: ZoneInfo) -> list[JSON]:
    return [message_view(m, tz) for m in emu.history.get(chat_id, []) if not m.deleted]
