"""A Telegram Bot API double: a fake Telegram with its own rules, and two ways to reach it.

`BotApiEmulator` holds users, chats, messages and pending updates and answers Bot API methods
with Telegram's error texts. `EmulatorRequest` plugs it into PTB in-process (a `BaseRequest`);
`EmulatorServer` serves it over HTTP for a bot running in another process. Tests act as users
with the builders (`text_update`, `press`, ...) and assert on what the bot sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import hashlib
import json
import re
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

JSON = dict[str, Any]
Rows = list[list[JSON]]

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)
CONFLICT_POLL = (
    "Conflict: terminated by other getUpdates request; make sure that only one bot instance "
    "is running"
)
CONFLICT_WEBHOOK = (
    "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete "
    "the webhook first"
)
_BUTTON_ACTIONS = (
    "callback_data", "url", "login_url", "switch_inline_query", "web_app", "pay",
    "switch_inline_query_current_chat", "switch_inline_query_chosen_chat", "callback_game",
    "copy_text",
)  # fmt: skip
_JSON_FIELDS = {
    "reply_markup", "media", "commands", "scope", "allowed_updates", "menu_button", "entities",
    "caption_entities", "link_preview_options", "reply_parameters", "message_ids",
}  # fmt: skip
_INT_FIELDS = {
    "chat_id", "message_id", "offset", "limit", "user_id", "reply_to_message_id",
    "message_thread_id", "cache_time", "from_chat_id", "timeout",
}  # fmt: skip
_BOOL_FIELDS = {
    "show_alert", "disable_notification", "protect_content", "drop_pending_updates",
    "disable_web_page_preview", "allow_sending_without_reply", "has_spoiler", "is_personal",
    "show_caption_above_media",
}  # fmt: skip
_LIMITED_PREFIXES = ("send", "edit", "copy", "forward")
_HTML_TAGS = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "tg-spoiler": "spoiler", "span": "spoiler",
    "blockquote": "blockquote",
}  # fmt: skip
_HTML_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")


class EmulatedTimeout(Exception):
    """An injected failure: the request got no answer in time."""


class EmulatedReset(Exception):
    """An injected failure: the connection was reset without an answer."""


class ApiError(Exception):
    """A Bot API error answer (status, description, optional retry_after)."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.retry_after = retry_after

    def body(self) -> JSON:
        """The JSON body Telegram answers with."""
        out: JSON = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            out["parameters"] = {"retry_after": self.retry_after}
        return out


class HtmlError(ValueError):
    """Telegram refused an HTML text; the message is its reason."""


@dataclass
class EmuUser:
    """A Telegram user the tests act as."""

    id: int
    first_name: str
    language_code: str = "zh-hans"
    started: bool = True
    blocked: bool = False
    username: str | None = None

    def to_dict(self) -> JSON:
        """The User object as Telegram sends it."""
        out: JSON = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        if self.language_code:
            out["language_code"] = self.language_code
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class EmuChat:
    """A chat: private (id == user id), group, supergroup or channel."""

    id: int
    type: str
    title: str | None = None
    first_name: str | None = None
    username: str | None = None

    def to_dict(self) -> JSON:
        """The Chat object as Telegram sends it."""
        out: JSON = {"id": self.id, "type": self.type}
        if self.type == "private":
            out["first_name"] = self.first_name or ""
        else:
            out["title"] = self.title or ""
        if self.username:
            out["username"] = self.username
        return out


@dataclass
class EmuMessage:
    """One message in a chat, sent by the bot (`from_bot`) or by a user; edited in place."""

    message_id: int
    chat_id: int
    text: str | None = None
    caption: str | None = None
    photos: list[str] = field(default_factory=list)
    reply_markup: Rows | None = None
    edits: list[str] = field(default_factory=list)
    deleted: bool = False
    from_bot: bool = True
    sent_at: int = 0
    from_user_id: int = 0
    entities: list[JSON] = field(default_factory=list)
    caption_entities: list[JSON] = field(default_factory=list)
    photo_sizes: list[JSON] = field(default_factory=list)
    keyboard: JSON | None = None
    edited_at: int | None = None
    media_group_id: str | None = None

    @property
    def content(self) -> str:
        """The text, else the caption, else an empty string."""
        return self.text if self.text is not None else (self.caption or "")


@dataclass
class EmuStats:
    """Counters over all calls answered."""

    calls: int = 0
    errors: int = 0
    rate_limited: int = 0
    injected: int = 0


@dataclass
class _Rule:
    method: str | None
    status: int
    retry_after: int | None
    times: int
    kind: str
    chat_id: int | None
    description: str | None
    executed: bool


# ---------------------------------------------------------------- text rules


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8", "surrogatepass"))


def _decode_entity(text: str, pos: int) -> tuple[str | None, int]:
    """Decode `&...;` at pos like Telegram: lt, gt, amp, quot and numeric; else a literal '&'."""
    n, end = len(text), pos + 1
    if end < n and text[end] == "#":
        end += 1
        digits = "0123456789abcdefABCDEF" if end < n and text[end] == "x" else "0123456789"
        base = 16 if len(digits) > 10 else 10
        end += 1 if base == 16 else 0
        start = end
        while end < n and text[end] in digits:
            end += 1
        code = int(text[start:end], base) if end > start and end - pos < 10 else 0
        if code == 0 or code >= 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            return None, pos
        char = chr(code)
    else:
        while end < n and text[end].isascii() and text[end].isalpha():
            end += 1
        named = _HTML_NAMED.get(text[pos + 1 : end])
        if named is None:
            return None, pos
        char = named
    return char, end + 1 if end < n and text[end] == ";" else end


def _html_attributes(text: str, i: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Parse the attributes of a start tag from i; return them and the index after '>'."""
    attrs: dict[str, str] = {}
    n = len(text)
    unclosed = f"Unclosed start tag at byte offset {begin}"
    while True:
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(unclosed)
        if text[i] == ">":
            return attrs, i + 1
        start = i
        while i < n and not text[i].isspace() and text[i] not in "=>":
            i += 1
        name = text[start:i].lower()
        if not name:
            raise HtmlError(f'Empty attribute name in the tag "{tag}" at byte offset {begin}')
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(unclosed)
        if text[i] != "=":
            if tag == "blockquote" and name == "expandable":
                attrs[name] = ""
                continue
            raise HtmlError(
                f'Expected equal sign in declaration of an attribute of the tag "{tag}" '
                f"at byte offset {begin}"
            )
        i += 1
        while i < n and text[i].isspace():
            i += 1
        if i >= n:
            raise HtmlError(unclosed)
        if text[i] in "'\"":
            quote, buf = text[i], []
            i += 1
            while i < n and text[i] != quote:
                char, j = _decode_entity(text, i) if text[i] == "&" else (None, i)
                buf.append(char if char is not None else text[i])
                i = j if char is not None else i + 1
            i += 1
            value = "".join(buf)
        else:
            start = i
            while i < n and ((text[i].isascii() and text[i].isalnum()) or text[i] in ".-"):
                i += 1
            value = text[start:i].lower()
            if i < n and not text[i].isspace() and text[i] != ">":
                raise HtmlError(f"Unexpected end of name token at byte offset {begin}")
        attrs[name] = value


def parse_html(text: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML parse mode into (plain text, entities); HtmlError names the fault."""
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[JSON] = []
    i, n = 0, len(text)
    while i < n:
        char = text[i]
        if char == "&":
            decoded, j = _decode_entity(text, i)
            if decoded is not None:
                out.append(decoded)
                pos16 += utf16_len(decoded)
                i = j
                continue
        if char != "<":
            out.append(char)
            pos16 += utf16_len(char)
            i += 1
            continue
        begin = _byte_offset(text, i)
        if i + 1 < n and text[i + 1] == "/":
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {begin}")
            j = i + 2
            while j < n and not text[j].isspace() and text[j] != ">":
                j += 1
            name = text[i + 2 : j].lower()
            while j < n and text[j].isspace():
                j += 1
            if j >= n or text[j] != ">":
                raise HtmlError(f"Unclosed end tag at byte offset {begin}")
            tag, start16, attrs = stack.pop()
            if name and name != tag:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {begin}, expected "</{tag}>", '
                    f'found "</{name}>"'
                )
            if pos16 > start16 and (tag != "a" or attrs.get("href")):
                entity: JSON = {"type": _HTML_TAGS[tag], "offset": start16}
                entity["length"] = pos16 - start16
                if tag == "a":
                    entity["url"] = attrs["href"]
                entities.append(entity)
            i = j + 1
            continue
        j = i + 1
        while j < n and not text[j].isspace() and text[j] != ">":
            j += 1
        if j >= n:
            raise HtmlError(f"Unclosed start tag at byte offset {begin}")
        tag = text[i + 1 : j].lower()
        if tag not in _HTML_TAGS:
            raise HtmlError(f'Unsupported start tag "{tag}" at byte offset {begin}')
        attrs, i = _html_attributes(text, j, tag, begin)
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlError(f'Tag "span" must have class "tg-spoiler" at byte offset {begin}')
        stack.append((tag, pos16, attrs))
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _trim(text: str, entities: list[JSON]) -> tuple[str, list[JSON]]:
    """Strip surrounding whitespace as Telegram does, moving entities along."""
    shift = utf16_len(text[: len(text) - len(text.lstrip())])
    stripped = text.strip()
    total = utf16_len(stripped)
    kept: list[JSON] = []
    for ent in entities:
        start = max(int(ent["offset"]) - shift, 0)
        end = min(int(ent["offset"]) + int(ent["length"]) - shift, total)
        if end > start:
            kept.append({**ent, "offset": start, "length": end - start})
    return stripped, kept


def _format(
    raw: Any, parse_mode: Any, entities: Any, *, limit: int, long_error: str
) -> tuple[str, list[JSON]]:
    """Apply parse_mode and Telegram's length rule to a text or caption."""
    text = "" if raw is None else str(raw)
    mode = str(parse_mode or "").lower()
    ents: list[JSON] = list(entities) if isinstance(entities, list) else []
    if mode == "html":
        try:
            text, ents = parse_html(text)
        except HtmlError as exc:
            raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
    elif mode not in ("", "markdown", "markdownv2"):
        raise ApiError(400, "Bad Request: unsupported parse_mode")
    text, ents = _trim(text, ents)
    if utf16_len(text) > limit:
        raise ApiError(400, long_error)
    return text, ents


def _inline_rows(markup: Any, *, edit: bool = False) -> tuple[Rows | None, JSON | None]:
    """Validate reply_markup; return (inline rows or None, other keyboard or None)."""
    if markup is None:
        return None, None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    if "inline_keyboard" not in markup:
        if edit:
            raise ApiError(400, "Bad Request: inline keyboard expected")
        return None, markup
    rows = markup["inline_keyboard"]
    if not isinstance(rows, list) or not all(isinstance(r, list) for r in rows):
        raise ApiError(
            400,
            "Bad Request: can't parse inline keyboard button: Field "
            '"inline_keyboard" must be an Array of Arrays',
        )
    for row in rows:
        for button in row:
            if not isinstance(button, dict) or not isinstance(button.get("text"), str):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Field "
                    '"text" must be of type String',
                )
            if not any(key in button for key in _BUTTON_ACTIONS):
                raise ApiError(
                    400,
                    "Bad Request: can't parse inline keyboard button: Text "
                    "buttons are unallowed in the inline keyboard",
                )
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
    rows = [list(row) for row in rows if row]
    return (rows or None), None


def _normalize(params: dict[str, Any]) -> JSON:
    """Decode JSON-encoded complex fields and numeric strings, as Telegram reads form data."""
    out: JSON = {}
    for key, value in params.items():
        if isinstance(value, bytes):
            value = value.decode("utf-8", "replace")
        if key in _JSON_FIELDS and isinstance(value, str):
            with contextlib.suppress(ValueError):
                value = json.loads(value)
        elif key in _INT_FIELDS and isinstance(value, str) and re.fullmatch(r"-?\d+", value):
            value = int(value)
        elif key in _BOOL_FIELDS and value in ("true", "false", "True", "False"):
            value = value.lower() == "true"
        out[key] = value
    return out


def _as_int(params: JSON, key: str, *, error: str | None = None) -> int:
    value = params.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ApiError(400, error or f"Bad Request: {key} is empty")
    return value


def _as_float(value: Any, default: float) -> float:
    try:
        return float(value) if value is not None else default
    except (TypeError, ValueError):
        return default


# ---------------------------------------------------------------- the emulator


class BotApiEmulator:
    """A fake Telegram for one bot: state, Bot API methods, failure injection, test driver."""

    METHODS = (
        "getMe", "getUpdates", "deleteWebhook", "setWebhook", "getWebhookInfo", "setMyCommands",
        "deleteMyCommands", "getMyCommands", "setChatMenuButton", "sendMessage", "sendPhoto",
        "sendMediaGroup", "editMessageText", "editMessageReplyMarkup", "editMessageCaption",
        "deleteMessage", "answerCallbackQuery", "sendChatAction", "getFile", "getChat", "close",
        "logOut",
    )  # fmt: skip

    def __init__(
        self,
        *,
        bot_id: int = 7000000001,
        bot_username: str = "propdesk_test_bot",
        token: str = "123456:TEST",
        now: Callable[[], int] | None = None,
        bot_name: str = "PropDesk",
    ) -> None:
        self.bot_id = bot_id
        self.bot_username = bot_username
        self.bot_name = bot_name
        self.token = token
        self.now: Callable[[], int] = now or (lambda: int(time.time()))
        self.users: dict[int, EmuUser] = {}
        self.chats: dict[int, EmuChat] = {}
        self.history: dict[int, list[EmuMessage]] = {}
        self.updates: list[JSON] = []
        self.callback_answers: list[JSON] = []
        self.my_commands: dict[tuple[str, str], list[JSON]] = {}
        self.menu_buttons: dict[int | None, JSON] = {}
        self.files: dict[str, bytes] = {}
        self.call_log: list[JSON] = []
        self.stats = EmuStats()
        self.webhook_url = ""
        self._file_paths: dict[str, str] = {}
        self._path_files: dict[str, str] = {}
        self._next_message_id: dict[int, int] = {}
        self._update_id = 0
        self._file_counter = 0
        self._query_counter = 0
        self._media_group_counter = 0
        self._open_queries: set[str] = set()
        self._rules: list[_Rule] = []
        self._overall_rate: float | None = None
        self._chat_rate: float | None = None
        self._window: deque[float] = deque()
        self._chat_windows: dict[int, deque[float]] = {}
        self._poll_generation = 0
        self._waiters: set[asyncio.Future[None]] = set()
        self._latency = 0.0
        self._gates: dict[int | str, asyncio.Event] = {}
        self._methods: dict[str, tuple[str, Callable[[JSON, dict[str, bytes]], Any]]] = {
            name.lower(): (name, getattr(self, f"_api_{name}")) for name in self.METHODS
        }

    # ------------------------------------------------------------ dispatch

    async def handle(
        self, method: str, params: dict[str, Any], files: dict[str, bytes] | None = None
    ) -> tuple[int, JSON]:
        """Execute one Bot API method; return (HTTP status, Telegram JSON answer)."""
        files = files or {}
        known = self._methods.get(method.lower())
        name = known[0] if known else method
        decoded = _normalize(params)
        entry: JSON = {"method": name, "params": decoded, "files": sorted(files), "status": 0}
        self.call_log.append(entry)
        self.stats.calls += 1
        try:
            if known is None:
                raise ApiError(404, "Not Found")
            chat_id = decoded.get("chat_id")
            if name != "getUpdates":
                for key in (chat_id if isinstance(chat_id, int) else None, name):
                    gate = self._gates.get(key) if key is not None else None
                    if gate is not None:
                        await gate.wait()
                if self._latency:
                    await asyncio.sleep(self._latency)
            rule = self._take_rule(name, chat_id if isinstance(chat_id, int) else None)
            if rule is not None:
                self.stats.injected += 1
                if rule.executed:
                    with contextlib.suppress(ApiError):
                        await known[1](decoded, files)
                if rule.kind != "status":
                    entry["status"], entry["failure"] = 0, rule.kind
                    raise EmulatedTimeout(name) if rule.kind == "timeout" else EmulatedReset(name)
                raise ApiError(rule.status, rule.description or _phrase(rule), rule.retry_after)
            self._check_rate(name, chat_id if isinstance(chat_id, int) else None)
            status, body = 200, {"ok": True, "result": await known[1](decoded, files)}
        except ApiError as exc:
            status, body = exc.status, exc.body()
            self.stats.errors += 1
            self.stats.rate_limited += status == 429
        finally:
            self._wake()
        entry["status"] = status
        return status, body

    async def dispatch(
        self, path: str, params: dict[str, Any], files: dict[str, bytes]
    ) -> tuple[int, bytes, str]:
        """Answer an HTTP path: `/bot<token>/<method>` or `/file/bot<token>/<file_path>`."""
        parts = unquote(path).split("/")
        if len(parts) >= 4 and parts[1] == "file" and parts[2].startswith("bot"):
            if parts[2] != f"bot{self.token}":
                return 401, _dumps(ApiError(401, "Unauthorized").body()), "application/json"
            data = self.file_bytes("/".join(parts[3:]))
            if data is None:
                return 404, _dumps(ApiError(404, "Not Found").body()), "application/json"
            return 200, data, "application/octet-stream"
        if len(parts) == 3 and parts[1].startswith("bot") and parts[2]:
            if parts[1] != f"bot{self.token}":
                return 401, _dumps(ApiError(401, "Unauthorized").body()), "application/json"
            status, body = await self.handle(parts[2], params, files)
            return status, _dumps(body), "application/json"
        return 404, _dumps(ApiError(404, "Not Found").body()), "application/json"

    def _take_rule(self, method: str, chat_id: int | None) -> _Rule | None:
        for rule in self._rules:
            if rule.method is None and method == "getUpdates":
                continue
            if rule.method is not None and rule.method != method.lower():
                continue
            if rule.chat_id is not None and rule.chat_id != chat_id:
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._rules.remove(rule)
            return rule
        return None

    def _check_rate(self, method: str, chat_id: int | None) -> None:
        if not method.lower().startswith(_LIMITED_PREFIXES):
            return
        if self._overall_rate is None and (self._chat_rate is None or chat_id is None):
            return
        now = time.monotonic()
        windows: list[tuple[deque[float], float | None]] = [(self._window, self._overall_rate)]
        if chat_id is not None:
            windows.append((self._chat_windows.setdefault(chat_id, deque()), self._chat_rate))
        for window, _ in windows:
            while window and window[0] <= now - 1.0:
                window.popleft()
        if any(rate is not None and len(window) >= rate for window, rate in windows):
            raise ApiError(429, "Too Many Requests: retry after 1", 1)
        for window, _ in windows:
            window.append(now)

    def _wake(self) -> None:
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)
        self._waiters.clear()

    async def _changed(self, seconds: float) -> None:
        """Wait until any state change (a call answered, an update queued) or `seconds` pass."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            await asyncio.wait_for(waiter, max(seconds, 0))
        except TimeoutError:
            pass
        finally:
            self._waiters.discard(waiter)

    # ------------------------------------------------------------ failure injection

    def clear_failures(self) -> None:
        """Telegram is back: drop every failure still waiting to be injected."""
        self._rules.clear()

    def fail(
        self,
        method: str | None = None,
        *,
        status: int = 500,
        retry_after: int | None = None,
        times: int = 1,
        kind: str = "status",
        chat_id: int | None = None,
        description: str | None = None,
        executed: bool = False,
    ) -> None:
        """Make the next `times` matching calls fail; `executed` applies the call first."""
        if kind not in ("status", "timeout", "reset"):
            raise ValueError(f"unknown failure kind {kind!r}")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._rules.append(
            _Rule(
                method.lower() if method else None,
                status,
                retry_after,
                times,
                kind,
                chat_id,
                description,
                executed,
            )
        )

    def latency(self, seconds: float) -> None:
        """Answer every call but getUpdates after `seconds`: Telegram's round trip over a real
        network (tens to hundreds of milliseconds), which the in-process emulator otherwise
        does not have."""
        self._latency = max(seconds, 0.0)

    def hold(self, what: int | str) -> asyncio.Event:
        """Calls naming chat `what` (an int), or calls of method `what` (a Bot API method name,
        e.g. "answerCallbackQuery"), wait until released: Telegram being slow for one chat (a
        large upload, a flaky connection) or for one kind of call, while others are answered."""
        return self._gates.setdefault(what, asyncio.Event())

    def release(self, what: int | str) -> None:
        gate = self._gates.pop(what, None)
        if gate is not None:
            gate.set()

    def rate_limits(
        self, overall_per_second: float | None = None, per_chat_per_second: float | None = None
    ) -> None:
        """Answer 429 (retry_after=1) beyond these rates over sliding one-second windows."""
        self._overall_rate = overall_per_second
        self._chat_rate = per_chat_per_second

    # ------------------------------------------------------------ state helpers

    def _bot_user(self) -> JSON:
        return {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": self.bot_name,
            "username": self.bot_username,
        }

    def _chat_ref(self, params: JSON) -> EmuChat:
        """The chat a method names, or 400 chat not found."""
        ref = params.get("chat_id")
        if ref is None or ref == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat = self.chats.get(ref) if isinstance(ref, int) else None
        if chat is None and isinstance(ref, str) and ref.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username == ref[1:]), None)
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        return chat

    def _writable_chat(self, params: JSON, *, sending: bool = True) -> EmuChat:
        chat = self._chat_ref(params)
        user = self.users.get(chat.id) if chat.type == "private" else None
        if user is not None and user.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if user is not None and sending and not user.started:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        return chat

    def _new_message(self, chat_id: int, **fields: Any) -> EmuMessage:
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        msg = EmuMessage(message_id=message_id, chat_id=chat_id, sent_at=self.now(), **fields)
        self.history.setdefault(chat_id, []).append(msg)
        return msg

    def _find(self, chat_id: int, message_id: int) -> EmuMessage | None:
        for msg in self.history.get(chat_id, []):
            if msg.message_id == message_id and not msg.deleted:
                return msg
        return None

    def _editable(self, params: JSON) -> EmuMessage:
        if "inline_message_id" in params:
            raise ApiError(400, "Bad Request: inline messages are not supported by the emulator")
        chat = self._writable_chat(params, sending=False)
        msg = self._find(
            chat.id, _as_int(params, "message_id", error="Bad Request: message to edit not found")
        )
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not msg.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        return msg

    def message_dict(self, msg: EmuMessage) -> JSON:
        """The Message object for msg in its current state."""
        chat = self.chats.get(msg.chat_id) or EmuChat(msg.chat_id, "private", first_name="?")
        user = self.users.get(msg.from_user_id)
        sender = self._bot_user() if msg.from_bot or user is None else user.to_dict()
        out: JSON = {
            "message_id": msg.message_id,
            "date": msg.sent_at,
            "chat": chat.to_dict(),
            "from": sender,
        }
        if msg.text is not None:
            out["text"] = msg.text
            if msg.entities:
                out["entities"] = msg.entities
        if msg.photo_sizes:
            out["photo"] = msg.photo_sizes
            if msg.caption:
                out["caption"] = msg.caption
                if msg.caption_entities:
                    out["caption_entities"] = msg.caption_entities
        if msg.reply_markup:
            out["reply_markup"] = {"inline_keyboard": msg.reply_markup}
        if msg.edited_at is not None:
            out["edit_date"] = msg.edited_at
        if msg.media_group_id:
            out["media_group_id"] = msg.media_group_id
        return out

    def store_file(self, data: bytes, folder: str = "photos", ext: str = "jpg") -> str:
        """Keep bytes as a new file; return its file_id (long, like Telegram's)."""
        self._file_counter += 1
        digest = hashlib.sha256(f"{self.bot_id}:{self._file_counter}".encode()).hexdigest()
        file_id = f"AgACAgIAAxkBAAI{self._file_counter:06d}{digest[:56]}"
        self._register(file_id, data, f"{folder}/file_{self._file_counter}.{ext}")
        return file_id

    def _register(self, file_id: str, data: bytes, path: str) -> None:
        self.files[file_id] = data
        self._file_paths[file_id] = path
        self._path_files[path] = file_id

    def file_bytes(self, file_path: str) -> bytes | None:
        """The bytes behind a file_path that getFile gave out, or None."""
        file_id = self._path_files.get(file_path)
        return None if file_id is None else self.files[file_id]

    def _photo_sizes(self, file_id: str) -> list[JSON]:
        thumb = f"{file_id}-s"
        if thumb not in self.files:
            path = self._file_paths[file_id]
            self._register(thumb, self.files[file_id], path.replace(".", "_s.", 1))
        size = len(self.files[file_id])
        return [
            {
                "file_id": thumb,
                "file_unique_id": _unique(thumb),
                "width": 90,
                "height": 68,
                "file_size": size,
            },
            {
                "file_id": file_id,
                "file_unique_id": _unique(file_id),
                "width": 1280,
                "height": 960,
                "file_size": size,
            },
        ]

    def _input_photo(self, value: Any, files: dict[str, bytes], name: str) -> str:
        """Resolve a photo given as upload, attach://name, URL or file_id to a file_id."""
        if value is None or value == "":
            data = files.get(name)
        elif isinstance(value, str) and value.startswith("attach://"):
            data = files.get(value[len("attach://") :])
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            return self.store_file(b"")
        elif isinstance(value, str) and value in self.files:
            return value
        else:
            raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")
        if data is None:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        if not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        return self.store_file(data)

    def _caption(self, params: JSON) -> tuple[str, list[JSON]]:
        return _format(
            params.get("caption"),
            params.get("parse_mode"),
            params.get("caption_entities"),
            limit=CAPTION_LIMIT,
            long_error="Bad Request: message caption is too long",
        )

    def _text(self, params: JSON) -> tuple[str, list[JSON]]:
        text, entities = _format(
            params.get("text"),
            params.get("parse_mode"),
            params.get("entities"),
            limit=TEXT_LIMIT,
            long_error="Bad Request: message is too long",
        )
        if not text:
            raise ApiError(400, "Bad Request: message text is empty")
        return text, entities

    # ------------------------------------------------------------ Bot API methods

    async def _api_getMe(self, p: JSON, f: dict[str, bytes]) -> JSON:
        return {
            **self._bot_user(),
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _api_getUpdates(self, p: JSON, f: dict[str, bytes]) -> list[JSON]:
        if self.webhook_url:
            raise ApiError(409, CONFLICT_WEBHOOK)
        offset = p.get("offset")
        if isinstance(offset, int) and offset > 0:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]
        elif isinstance(offset, int) and offset < 0:
            self.updates = self.updates[offset:]
        raw_limit = p.get("limit")
        limit = min(max(raw_limit, 1), 100) if isinstance(raw_limit, int) else 100
        allowed = p.get("allowed_updates") or None
        self._poll_generation += 1
        generation = self._poll_generation
        self._wake()  # an older long poll ends with 409, as on Telegram
        deadline = time.monotonic() + _as_float(p.get("timeout"), 0.0)
        while True:
            batch = [u for u in self.updates if not allowed or any(k in u for k in allowed)]
            if batch:
                return batch[:limit]
            if generation != self._poll_generation:
                raise ApiError(409, CONFLICT_POLL)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            await self._changed(remaining)

    async def _api_deleteWebhook(self, p: JSON, f: dict[str, bytes]) -> bool:
        self.webhook_url = ""
        if p.get("drop_pending_updates") is True:
            self.updates.clear()
        return True

    async def _api_setWebhook(self, p: JSON, f: dict[str, bytes]) -> bool:
        self.webhook_url = str(p.get("url") or "")
        if p.get("drop_pending_updates") is True:
            self.updates.clear()
        return True

    async def _api_getWebhookInfo(self, p: JSON, f: dict[str, bytes]) -> JSON:
        return {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self.updates),
        }

    def _commands_key(self, p: JSON) -> tuple[str, str]:
        scope = p.get("scope") or {"type": "default"}
        if not isinstance(scope, dict) or "type" not in scope:
            raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
        if "chat_id" in scope:
            self._chat_ref({"chat_id": _normalize({"chat_id": scope["chat_id"]})["chat_id"]})
        language = str(p.get("language_code") or "")
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise ApiError(400, "Bad Request: invalid language code specified")
        return _scope_key(scope), language

    async def _api_setMyCommands(self, p: JSON, f: dict[str, bytes]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: can't parse commands JSON object")
        for cmd in commands:
            if not isinstance(cmd, dict) or not _COMMAND_RE.fullmatch(str(cmd.get("command"))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description") or "").strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        key = self._commands_key(p)
        if commands:
            self.my_commands[key] = [dict(c) for c in commands]
        else:
            self.my_commands.pop(key, None)
        return True

    async def _api_deleteMyCommands(self, p: JSON, f: dict[str, bytes]) -> bool:
        self.my_commands.pop(self._commands_key(p), None)
        return True

    async def _api_getMyCommands(self, p: JSON, f: dict[str, bytes]) -> list[JSON]:
        return self.my_commands.get(self._commands_key(p), [])

    async def _api_setChatMenuButton(self, p: JSON, f: dict[str, bytes]) -> bool:
        chat_id = self._chat_ref(p).id if "chat_id" in p else None
        button = p.get("menu_button") or {"type": "default"}
        self.menu_buttons[chat_id] = button if isinstance(button, dict) else {"raw": button}
        return True

    async def _api_sendMessage(self, p: JSON, f: dict[str, bytes]) -> JSON:
        chat = self._writable_chat(p)
        text, entities = self._text(p)
        rows, keyboard = _inline_rows(p.get("reply_markup"))
        msg = self._new_message(
            chat.id, text=text, entities=entities, reply_markup=rows, keyboard=keyboard
        )
        return self.message_dict(msg)

    async def _api_sendPhoto(self, p: JSON, f: dict[str, bytes]) -> JSON:
        chat = self._writable_chat(p)
        caption, entities = self._caption(p)
        rows, keyboard = _inline_rows(p.get("reply_markup"))
        file_id = self._input_photo(p.get("photo"), f, "photo")
        msg = self._new_message(
            chat.id,
            caption=caption or None,
            caption_entities=entities,
            photos=[file_id],
            photo_sizes=self._photo_sizes(file_id),
            reply_markup=rows,
            keyboard=keyboard,
        )
        return self.message_dict(msg)

    async def _api_sendMediaGroup(self, p: JSON, f: dict[str, bytes]) -> list[JSON]:
        chat = self._writable_chat(p)
        media = p.get("media")
        if not isinstance(media, list) or not 2 <= len(media) <= 10:
            raise ApiError(400, "Bad Request: media group must contain 2-10 items")
        prepared: list[tuple[str, str, list[JSON]]] = []
        for item in media:
            if not isinstance(item, dict) or item.get("type") != "photo":
                raise ApiError(400, "Bad Request: only photo media groups are emulated")
            caption, entities = self._caption(item)
            prepared.append((self._input_photo(item.get("media"), f, ""), caption, entities))
        self._media_group_counter += 1
        group = f"1{self._media_group_counter:017d}"
        sent = [
            self._new_message(
                chat.id,
                caption=caption or None,
                caption_entities=entities,
                photos=[file_id],
                photo_sizes=self._photo_sizes(file_id),
                media_group_id=group,
            )
            for file_id, caption, entities in prepared
        ]
        return [self.message_dict(m) for m in sent]

    async def _api_editMessageText(self, p: JSON, f: dict[str, bytes]) -> JSON:
        msg = self._editable(p)
        if msg.text is None:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._text(p)
        rows, _ = _inline_rows(p.get("reply_markup"), edit=True)
        if (text, entities, rows) == (msg.text, msg.entities, msg.reply_markup):
            raise ApiError(400, NOT_MODIFIED)
        msg.edits.append(msg.text)
        msg.text, msg.entities, msg.reply_markup = text, entities, rows
        msg.edited_at = self.now()
        return self.message_dict(msg)

    async def _api_editMessageCaption(self, p: JSON, f: dict[str, bytes]) -> JSON:
        msg = self._editable(p)
        if not msg.photos:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        caption, entities = self._caption(p)
        rows, _ = _inline_rows(p.get("reply_markup"), edit=True)
        old = (msg.caption or "", msg.caption_entities, msg.reply_markup)
        if (caption, entities, rows) == old:
            raise ApiError(400, NOT_MODIFIED)
        msg.edits.append(msg.caption or "")
        msg.caption, msg.caption_entities, msg.reply_markup = caption or None, entities, rows
        msg.edited_at = self.now()
        return self.message_dict(msg)

    async def _api_editMessageReplyMarkup(self, p: JSON, f: dict[str, bytes]) -> JSON:
        msg = self._editable(p)
        rows, _ = _inline_rows(p.get("reply_markup"), edit=True)
        if rows == msg.reply_markup:
            raise ApiError(400, NOT_MODIFIED)
        msg.reply_markup = rows
        msg.edited_at = self.now()
        return self.message_dict(msg)

    async def _api_deleteMessage(self, p: JSON, f: dict[str, bytes]) -> bool:
        chat = self._chat_ref(p)
        msg = self._find(
            chat.id, _as_int(p, "message_id", error="Bad Request: message to delete not found")
        )
        if msg is None:
            raise ApiError(400, "Bad Request: message to delete not found")
        msg.deleted = True
        return True

    async def _api_answerCallbackQuery(self, p: JSON, f: dict[str, bytes]) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._open_queries:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._open_queries.discard(query_id)
        self.callback_answers.append(dict(p))
        return True

    async def _api_sendChatAction(self, p: JSON, f: dict[str, bytes]) -> bool:
        self._writable_chat(p)
        if not p.get("action"):
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        return True

    async def _api_getFile(self, p: JSON, f: dict[str, bytes]) -> JSON:
        file_id = str(p.get("file_id") or "")
        if file_id not in self.files:
            raise ApiError(400, "Bad Request: invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": _unique(file_id),
            "file_size": len(self.files[file_id]),
            "file_path": self._file_paths[file_id],
        }

    async def _api_getChat(self, p: JSON, f: dict[str, bytes]) -> JSON:
        chat = self._chat_ref(p)
        gifts = dict.fromkeys(
            (
                "unlimited_gifts",
                "limited_gifts",
                "unique_gifts",
                "premium_subscription",
                "gifts_from_channels",
            ),
            False,
        )
        return {
            **chat.to_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": gifts,
        }

    async def _api_close(self, p: JSON, f: dict[str, bytes]) -> bool:
        return True

    async def _api_logOut(self, p: JSON, f: dict[str, bytes]) -> bool:
        return True

    # ------------------------------------------------------------ test driver: people

    def add_user(
        self, user_id: int, first_name: str, language_code: str = "zh-hans", started: bool = True
    ) -> EmuUser:
        """A user (and their private chat) the tests act as."""
        user = EmuUser(user_id, first_name, language_code, started)
        self.users[user_id] = user
        self.chats[user_id] = EmuChat(user_id, "private", first_name=first_name)
        return user

    def block(self, user_id: int) -> None:
        """The user blocks the bot: sends answer 403 until they write again."""
        self.users[user_id].blocked = True

    def add_group(
        self, chat_id: int, title: str, type: str = "group", username: str | None = None
    ) -> EmuChat:
        """A group, supergroup or channel the bot is in."""
        if type not in ("group", "supergroup", "channel"):
            raise ValueError(f"unknown chat type {type!r}")
        chat = EmuChat(chat_id, type, title=title, username=username)
        self.chats[chat_id] = chat
        return chat

    # ------------------------------------------------------------ test driver: updates

    def _update(self, kind: str, payload: JSON) -> JSON:
        self._update_id += 1
        return {"update_id": self._update_id, kind: payload}

    def _user(self, user_id: int) -> EmuUser:
        user = self.users.get(user_id)
        if user is None:
            raise AssertionError(f"unknown user {user_id}: call add_user first")
        return user

    def _user_chat(self, user: EmuUser, chat_id: int | None) -> EmuChat:
        chat = self.chats.get(user.id if chat_id is None else chat_id)
        if chat is None:
            raise AssertionError(f"unknown chat {chat_id}: call add_group first")
        if chat.type == "private":
            user.started, user.blocked = True, False
        return chat

    def text_update(
        self, user_id: int, text: str, *, chat_id: int | None = None, edited: bool = False
    ) -> JSON:
        """An Update with a text message from the user (commands carry bot_command entities)."""
        user = self._user(user_id)
        chat = self._user_chat(user, chat_id)
        entities: list[JSON] = []
        if text.startswith("/"):
            entities.append(
                {"type": "bot_command", "offset": 0, "length": utf16_len(text.split(maxsplit=1)[0])}
            )
        if edited:
            mine = [
                m
                for m in self.history.get(chat.id, [])
                if m.from_user_id == user_id and not m.from_bot and m.text is not None
            ]
            if not mine:
                raise AssertionError(f"user {user_id} has no message to edit in chat {chat.id}")
            msg = mine[-1]
            msg.edits.append(msg.content)
            msg.text, msg.entities, msg.edited_at = text, entities, self.now()
            return self._update("edited_message", self.message_dict(msg))
        msg = self._new_message(
            chat.id, text=text, entities=entities, from_bot=False, from_user_id=user_id
        )
        return self._update("message", self.message_dict(msg))

    def photo_update(
        self,
        user_id: int,
        data: bytes = b"\xff\xd8\xff\xe0 emulated jpeg",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> JSON:
        """An Update with a photo from the user; the bytes are downloadable via getFile."""
        user = self._user(user_id)
        chat = self._user_chat(user, chat_id)
        file_id = self.store_file(data)
        msg = self._new_message(
            chat.id,
            caption=caption,
            photos=[file_id],
            from_bot=False,
            photo_sizes=self._photo_sizes(file_id),
            from_user_id=user_id,
        )
        return self._update("message", self.message_dict(msg))

    def callback_update(self, user_id: int, message: EmuMessage, data: str) -> JSON:
        """An Update with a callback_query: the user pressed a button carrying `data`."""
        user = self._user(user_id)
        self._query_counter += 1
        query_id = str(4_000_000_000_000_000 + self._query_counter)
        self._open_queries.add(query_id)
        return self._update(
            "callback_query",
            {
                "id": query_id,
                "from": user.to_dict(),
                "message": self.message_dict(message),
                "chat_instance": str(abs(message.chat_id) * 31 + 7),
                "data": data,
            },
        )

    def press(self, user_id: int, message: EmuMessage, button_text: str) -> JSON:
        """The callback Update for the button whose text is (or, uniquely, contains) button_text."""
        if message.deleted:
            raise AssertionError(f"message {message.message_id} was deleted")
        callbacks = [b for row in message.reply_markup or [] for b in row if "callback_data" in b]
        exact = [b for b in callbacks if b["text"] == button_text]
        found = exact or [b for b in callbacks if button_text in b["text"]]
        if len(found) != 1:
            problem = "no button" if not found else "several buttons"
            raise AssertionError(
                f"{problem} matching {button_text!r}; buttons: {self.buttons(message)}"
            )
        return self.callback_update(user_id, message, str(found[0]["callback_data"]))

    def enqueue(self, update: JSON) -> JSON:
        """Queue an update for getUpdates and wake long polls."""
        self.updates.append(update)
        self._wake()
        return update

    def send_text(
        self, user_id: int, text: str, *, chat_id: int | None = None, edited: bool = False
    ) -> JSON:
        """Build and enqueue a text update."""
        return self.enqueue(self.text_update(user_id, text, chat_id=chat_id, edited=edited))

    def send_photo(
        self,
        user_id: int,
        data: bytes = b"\xff\xd8\xff\xe0 emulated jpeg",
        caption: str | None = None,
        *,
        chat_id: int | None = None,
    ) -> JSON:
        """Build and enqueue a photo update."""
        return self.enqueue(self.photo_update(user_id, data, caption, chat_id=chat_id))

    def click(self, user_id: int, message: EmuMessage, button_text: str) -> JSON:
        """Press a button and enqueue the callback update."""
        return self.enqueue(self.press(user_id, message, button_text))

    # ------------------------------------------------------------ test driver: queries

    def messages(self, chat_id: int) -> list[EmuMessage]:
        """The bot's messages in the chat, in order, without deleted ones."""
        return [m for m in self.history.get(chat_id, []) if m.from_bot and not m.deleted]

    def last(self, chat_id: int) -> EmuMessage:
        """The bot's latest surviving message in the chat."""
        sent = self.messages(chat_id)
        if not sent:
            raise AssertionError(f"the bot sent nothing (surviving) to chat {chat_id}")
        return sent[-1]

    def texts(self, chat_id: int) -> list[str]:
        """Text (or caption) of each surviving bot message in the chat."""
        return [m.content for m in self.messages(chat_id)]

    def mark(self, chat_id: int) -> int:
        """How many messages the bot ever sent to the chat: an index for new_messages."""
        return sum(1 for m in self.history.get(chat_id, []) if m.from_bot)

    def new_messages(self, chat_id: int, since_index: int) -> list[EmuMessage]:
        """Surviving bot messages sent after `mark(chat_id)` returned since_index."""
        sent = [m for m in self.history.get(chat_id, []) if m.from_bot]
        return [m for m in sent[since_index:] if not m.deleted]

    def calls(self, method: str | None = None) -> list[JSON]:
        """Logged calls (method, params, files, status), all or of one method."""
        if method is None:
            return list(self.call_log)
        return [c for c in self.call_log if c["method"].lower() == method.lower()]

    def commands(self, scope: JSON | None = None, language_code: str = "") -> list[JSON]:
        """Commands set for a scope (default scope when None) and language."""
        return self.my_commands.get((_scope_key(scope or {"type": "default"}), language_code), [])

    def pending_updates(self) -> list[JSON]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self.updates)

    @staticmethod
    def buttons(message: EmuMessage) -> list[tuple[str, str]]:
        """(text, callback_data or url or '') of every inline button, row by row."""
        return [
            (str(b.get("text")), str(b.get("callback_data") or b.get("url") or ""))
            for row in message.reply_markup or []
            for b in row
        ]

    async def wait_for(
        self,
        predicate: Callable[[], Any],
        timeout: float = 5.0,  # noqa: ASYNC109 - a plain number is the simplest test API
    ) -> Any:
        """Wait until predicate() is truthy and return its value; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout} s")
            await self._changed(min(remaining, 0.05))


def _phrase(rule: _Rule) -> str:
    if rule.status == 429:
        return f"Too Many Requests: retry after {rule.retry_after}"
    try:
        return HTTPStatus(rule.status).phrase
    except ValueError:
        return "Error"


def _scope_key(scope: JSON) -> str:
    norm = {
        k: _normalize({"chat_id": v})["chat_id"] if k in ("chat_id", "user_id") else v
        for k, v in scope.items()
    }
    return json.dumps(norm, sort_keys=True, separators=(",", ":"))


def _unique(file_id: str) -> str:
    return "AQAD" + hashlib.sha256(file_id.encode()).hexdigest()[:12]


def _dumps(body: Any) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


# ---------------------------------------------------------------- transport 1: in-process


class EmulatorRequest(BaseRequest):
    """A PTB request object answering from a BotApiEmulator in the same event loop."""

    __slots__ = ("emulator",)

    def __init__(self, emulator: BotApiEmulator) -> None:
        self.emulator = emulator

    @property
    def read_timeout(self) -> float | None:
        """Default read timeout (unused: answers come straight from the emulator)."""
        return 1.0

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Answer one Bot API call or file download from the emulator."""
        params: dict[str, Any] = dict(request_data.json_parameters) if request_data else {}
        files: dict[str, bytes] = {}
        if request_data is not None:
            for name, (_filename, content, _mime) in request_data.multipart_data.items():
                files[name] = content if isinstance(content, bytes) else content.read()
        try:
            status, body, _ = await self.emulator.dispatch(urlsplit(url).path, params, files)
        except EmulatedTimeout:
            raise TimedOut("Timed out (emulated)") from None
        except EmulatedReset:
            raise NetworkError("connection reset") from None
        return status, body


# ---------------------------------------------------------------- transport 2: HTTP


class _BadHttp(Exception):
    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status


_MAX_BODY = 64 * 1024 * 1024


async def _read_request(
    reader: asyncio.StreamReader,
) -> tuple[str, str, dict[str, str], bytes] | None:
    """One HTTP/1.1 request: (method, target, lower-cased headers, body); None at EOF."""
    try:
        line = await reader.readline()
        if not line:
            return None
        parts = line.decode("latin-1").split()
        if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
            raise _BadHttp(400, "malformed request line")
        headers: dict[str, str] = {"_version": parts[2]}
        while True:
            raw = await reader.readline()
            if raw in (b"\r\n", b"\n"):
                break
            if not raw or len(headers) > 100:
                raise _BadHttp(400, "malformed headers")
            name, sep, value = raw.decode("latin-1").partition(":")
            if not sep:
                raise _BadHttp(400, "malformed header")
            headers[name.strip().lower()] = value.strip()
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body = bytearray()
            while True:
                size = int((await reader.readline()).split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    while (await reader.readline()) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                body += await reader.readexactly(size)
                await reader.readexactly(2)
                if len(body) > _MAX_BODY:
                    raise _BadHttp(413, "body too large")
            return parts[0].upper(), parts[1], headers, bytes(body)
        length = int(headers.get("content-length", "0"))
        if not 0 <= length <= _MAX_BODY:
            raise _BadHttp(413, "body too large")
        return parts[0].upper(), parts[1], headers, await reader.readexactly(length)
    except (ValueError, asyncio.LimitOverrunError) as exc:
        raise _BadHttp(400, f"malformed request: {exc}") from None


def _parse_body(headers: dict[str, str], body: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Parameters and uploaded files from a form, JSON or multipart body."""
    ctype = headers.get("content-type", "")
    kind = ctype.split(";")[0].strip().lower()
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if not body:
        return params, files
    if kind == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        params.update(data)
    elif kind == "multipart/form-data":
        head = f"Content-Type: {ctype}\r\n\r\n".encode("latin-1")
        msg = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + body)
        if not msg.is_multipart():
            raise ValueError("multipart body without parts")
        for part in msg.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if not isinstance(name, str) or not isinstance(payload, bytes):
                raise ValueError("multipart part without a name")
            if part.get_filename() is not None:
                files[name] = payload
            else:
                params[name] = payload.decode("utf-8")
    else:
        params.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    return params, files


class EmulatorServer:
    """The emulator over HTTP/1.1 (keep-alive) on 127.0.0.1, for a bot in another process."""

    def __init__(self, emulator: BotApiEmulator, *, timeout_seconds: float = 30.0) -> None:
        self.emulator = emulator
        self.timeout_seconds = timeout_seconds
        self.errors: list[BaseException] = []
        self.port = 0
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._stopping = False

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Listen; return the bound port."""
        self._stopping = False
        self._server = await asyncio.start_server(self._connection, host, port)
        self.port = int(self._server.sockets[0].getsockname()[1])
        return self.port

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        self._stopping = True
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        """The `base_url` for telegram.Bot (the token is appended by PTB)."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def file_url(self) -> str:
        """The `base_file_url` for telegram.Bot."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    async def _connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        self._writers.add(writer)
        try:
            while await self._exchange(reader, writer):
                pass
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            if not self._stopping:
                raise
            # stop() cancelled us: end quietly, or asyncio's stream callback logs the cancel
        except _BadHttp as exc:
            with contextlib.suppress(ConnectionError):
                body = _dumps(ApiError(exc.status, str(exc)).body())
                await self._respond(writer, exc.status, body, "application/json", False)
        finally:
            self._writers.discard(writer)
            if task is not None:
                self._tasks.discard(task)
            writer.close()

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> bool:
        """Serve one request; return whether to keep the connection open."""
        request = await _read_request(reader)
        if request is None:
            return False
        method, target, headers, body = request
        split = urlsplit(target)
        connection = headers.get("connection", "").lower()
        keep = connection != "close" and (
            headers["_version"] != "HTTP/1.0" or connection == "keep-alive"
        )
        try:
            if method not in ("GET", "POST"):
                raise ApiError(405, "Method Not Allowed")
            try:
                params, files = _parse_body(headers, body)
            except (ValueError, UnicodeDecodeError) as exc:
                raise ApiError(400, f"Bad Request: can't parse request body: {exc}") from None
            params = {**dict(parse_qsl(split.query, keep_blank_values=True)), **params}
            status, payload, ctype = await self.emulator.dispatch(split.path, params, files)
        except ApiError as exc:
            status, payload, ctype = exc.status, _dumps(exc.body()), "application/json"
        except EmulatedReset:
            writer.transport.abort()
            return False
        except EmulatedTimeout:
            await asyncio.sleep(self.timeout_seconds)
            return False
        except Exception as exc:  # an emulator bug: answer 500 and keep it for the test to see
            self.errors.append(exc)
            status, ctype = 500, "application/json"
            payload = _dumps(ApiError(500, f"Internal Server Error: {exc!r}").body())
        await self._respond(writer, status, payload, ctype, keep)
        return keep

    @staticmethod
    async def _respond(
        writer: asyncio.StreamWriter, status: int, payload: bytes, ctype: str, keep: bool
    ) -> None:
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Error"
        head = (
            f"HTTP/1.1 {status} {phrase}\r\nContent-Type: {ctype}\r\n"
            f"Content-Length: {len(payload)}\r\nConnection: {'keep-alive' if keep else 'close'}"
            "\r\n\r\n"
        )
        writer.write(head.encode("latin-1") + payload)
        await writer.drain()
