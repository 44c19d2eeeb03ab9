"""The page's JSON API: what every chat shows, and what a person does in one.

Whatever a person does goes to the bot the way Telegram would deliver it: an update built by
the emulator and put in its queue, which the bot's long polling picks up. The page can press
only buttons that exist on a message, as in a Telegram app.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from babel.dates import format_datetime

from bot.config import SUPPORTED_LOCALES
from bot.emulator import JSON
from bot.sandbox.chats import chat_messages
from bot.sandbox.dataset import PERSONAS, Persona
from bot.sandbox.server import PageError, Request, Response, Route
from bot.sandbox.strings import LANGUAGE_NAMES, page_strings
from models.people import ROLE_NAMES

if TYPE_CHECKING:
    from bot.sandbox.runner import Sandbox

TEXT_LIMIT = 4096
PHOTO_LIMIT = 10 * 1024 * 1024  # Telegram's limit for a photo
LONGEST_JUMP = timedelta(days=7)
LONGEST_WAIT = 25.0
CLOCK_PATTERN = {"zh_CN": "yyyy年M月d日 EEE HH:mm", "en": "EEE d MMM yyyy, HH:mm"}
IMAGE_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def image_type(data: bytes) -> str | None:
    """The picture format of `data` by its first bytes, or None when it is no known picture."""
    for magic, kind in IMAGE_MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


class Api:
    """Request handlers over one running Sandbox."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sb = sandbox

    def _locale(self, req: Request) -> str:
        lang = req.query.get("lang", "")
        return lang if lang in SUPPORTED_LOCALES else self.sb.locale

    async def strings(self, req: Request) -> Response:
        locale = self._locale(req)
        return Response.of(
            {
                "locale": locale,
                "strings": page_strings(self.sb.rt.i18n, locale),
                "languages": LANGUAGE_NAMES,
            }
        )

    async def state(self, req: Request) -> Response:
        """Every chat as the page draws it; with `since`, waits until something changes."""
        try:
            since = int(req.query.get("since", "-1"))
            wait = min(max(float(req.query.get("wait", "0")), 0.0), LONGEST_WAIT)
        except ValueError:
            raise PageError(400, "since and wait are numbers") from None
        if since >= 0 and wait > 0:
            await self.sb.emu.changed_since(since, wait)
        locale = self._locale(req)
        version = self.sb.emu.version  # read first: a change while drawing means another poll
        return Response.of(
            {
                "version": version,
                "clock": self.clock_view(locale),
                "bot": {"name": self.sb.emu.bot_name, "username": self.sb.emu.bot_username},
                "chats": [self.chat_view(p, locale) for p in PERSONAS],
            }
        )

    def clock_view(self, locale: str) -> JSON:
        now = self.sb.clock.now()
        label = format_datetime(
            now, CLOCK_PATTERN[locale], tzinfo=self.sb.settings.tz, locale=locale
        )
        return {
            "label": label,
            "open": self.sb.rt.calendar.is_open(now),
            "ahead_minutes": int(self.sb.clock.offset.total_seconds() // 60),
        }

    def chat_view(self, persona: Persona, locale: str) -> JSON:
        i18n, emu = self.sb.rt.i18n, self.sb.emu
        user = emu.users[persona.tg_id]
        if persona.unit:
            role = i18n.gettext("owner", locale)
            detail = i18n.text("unit {unit}", locale, unit=persona.unit)
        else:
            role = ", ".join(i18n.gettext(ROLE_NAMES[r], locale) for r in persona.roles)
            detail = (
                i18n.text("buildings {buildings}", locale, buildings=", ".join(persona.buildings))
                if persona.buildings
                else i18n.gettext("all buildings", locale)
            )
        return {
            "id": persona.tg_id,
            "key": persona.key,
            "name": user.first_name,
            "role": role,
            "detail": detail,
            "commands": [
                {"command": str(c.get("command")), "description": str(c.get("description"))}
                for c in emu.menu(user)
            ],
            "messages": chat_messages(emu, persona.tg_id, self.sb.settings.tz),
            "toasts": [
                {"seq": t.seq, "text": t.text, "alert": t.alert}
                for t in emu.toasts.get(persona.tg_id, [])
            ],
        }

    async def chat(self, req: Request) -> Response:
        """POST /api/chats/<id>/text|photo|press: the person acts in their chat."""
        parts = req.path.removeprefix("/api/chats/").split("/")
        if len(parts) != 2 or not parts[0].isdigit():
            raise PageError(404, "not found")
        chat_id, action = int(parts[0]), parts[1]
        if not any(p.tg_id == chat_id for p in PERSONAS):
            raise PageError(404, "no such chat")
        emu = self.sb.emu
        if action == "text":
            text = req.json().get("text")
            if not isinstance(text, str) or not text.strip():
                raise PageError(400, "empty message")
            if len(text.strip()) > TEXT_LIMIT:
                raise PageError(400, "message is too long")
            emu.send_text(chat_id, text.strip())
        elif action == "photo":
            if len(req.body) > PHOTO_LIMIT:
                raise PageError(413, "photo too large")
            if image_type(req.body) is None:
                raise PageError(415, "not a picture")
            emu.send_photo(chat_id, req.body)
        elif action == "press":
            emu.enqueue(emu.callback_update(chat_id, *self._button(chat_id, req.json())))
        else:
            raise PageError(404, "not found")
        return Response.of({"ok": True, "version": emu.version})

    def _button(self, chat_id: int, body: dict[str, Any]) -> tuple[Any, str]:
        """The message and callback data of an existing button, as a Telegram app sends."""
        message_id, row, col = body.get("message_id"), body.get("row"), body.get("col")
        if not all(isinstance(v, int) and not isinstance(v, bool) for v in (message_id, row, col)):
            raise PageError(400, "message_id, row and col are numbers")
        message = next(
            (
                m
                for m in self.sb.emu.history.get(chat_id, [])
                if m.message_id == message_id and m.from_bot and not m.deleted
            ),
            None,
        )
        rows = (message.reply_markup or []) if message is not None else []
        assert isinstance(row, int) and isinstance(col, int)
        if message is None or not 0 <= row < len(rows) or not 0 <= col < len(rows[row]):
            raise PageError(409, "that button is no longer there")
        data = rows[row][col].get("callback_data")
        if data is None:
            raise PageError(400, "not a callback button")
        return message, str(data)

    async def clock(self, req: Request) -> Response:
        minutes = req.json().get("minutes")
        if not isinstance(minutes, int) or isinstance(minutes, bool):
            raise PageError(400, "minutes is a number")
        delta = timedelta(minutes=minutes)
        if not timedelta(0) < delta <= LONGEST_JUMP:
            raise PageError(400, "the clock jumps forward by up to 7 days")
        result = await self.sb.jump(delta)
        return Response.of({"ok": True, "fired": result.fired, "failed": result.failed})

    async def file(self, req: Request) -> Response:
        data = self.sb.emu.files.get(req.path.removeprefix("/api/files/"))
        if data is None:
            raise PageError(404, "no such file")
        kind = image_type(data)
        if kind is None:  # never let the browser guess: a download, not a page
            return Response(200, data, "application/octet-stream",
                            {"Content-Disposition": "attachment"})  # fmt: skip
        return Response(200, data, kind, {"Cache-Control": "private, max-age=3600"})


def routes(sandbox: Sandbox) -> dict[tuple[str, str], Route]:
    api = Api(sandbox)
    return {
        ("GET", "/api/strings"): api.strings,
        ("GET", "/api/state"): api.state,
        ("POST", "/api/chats/"): api.chat,
        ("POST", "/api/clock"): api.clock,
        ("GET", "/api/files/"): api.file,
    }
