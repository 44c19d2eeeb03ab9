"""The Bot API double answers real PTB `Bot` calls as Telegram would, in-process and over HTTP."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaPhoto,
    Message,
    Update,
)
from telegram.error import (
    BadRequest,
    EndPointNotFound,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from bot.emulator import BotApiEmulator, EmulatorRequest, EmulatorServer, HtmlError, parse_html

TOKEN = "123456:TEST"
OWNER = 1001


@pytest.fixture(autouse=True)
def _timedelta_retry_after(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as timedelta, no warning


@pytest.fixture
def emu() -> BotApiEmulator:
    emulator = BotApiEmulator(token=TOKEN, now=lambda: 1_790_000_000)
    emulator.add_user(OWNER, "王芳")
    return emulator


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[Bot]:
    async with Bot(
        TOKEN, request=EmulatorRequest(emu), get_updates_request=EmulatorRequest(emu)
    ) as b:
        yield b


@pytest.fixture
async def http_bot(emu: BotApiEmulator) -> AsyncIterator[tuple[Bot, EmulatorServer]]:
    async with EmulatorServer(emu, timeout_seconds=0.2) as server:
        async with Bot(TOKEN, base_url=server.base_url, base_file_url=server.file_url) as b:
            yield b, server
        assert server.errors == []


def keyboard(*data: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup([[InlineKeyboardButton(f"btn {d}", callback_data=d)] for d in data])


async def test_send_message_with_a_keyboard_returns_a_message_and_is_recorded(
    bot: Bot, emu: BotApiEmulator
) -> None:
    sent = await bot.send_message(
        OWNER, "<b>Ticket</b> R-1 &amp; co", parse_mode="HTML", reply_markup=keyboard("t:1:ok")
    )
    assert sent.text == "Ticket R-1 & co" and sent.chat.id == OWNER
    assert sent.from_user is not None and sent.from_user.is_bot
    assert sent.entities[0].type == "bold" and sent.entities[0].length == 6
    assert sent.reply_markup == keyboard("t:1:ok")
    assert emu.last(OWNER).message_id == sent.message_id
    assert emu.texts(OWNER) == ["Ticket R-1 & co"]
    assert emu.buttons(emu.last(OWNER)) == [("btn t:1:ok", "t:1:ok")]
    assert emu.calls("sendmessage")[0]["params"]["chat_id"] == OWNER


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"text": "x" * 4097}, "message is too long"),
        ({"text": "  "}, "message text is empty"),
        ({"text": "hi", "reply_markup": keyboard("é" * 33)}, "BUTTON_DATA_INVALID"),
        ({"text": "<b>a <i>b</b></i>", "parse_mode": "HTML"}, "Unmatched end tag"),
        ({"text": "1 < 2", "parse_mode": "HTML"}, "can't parse entities"),
        ({"text": "<br>", "parse_mode": "HTML"}, 'Unsupported start tag "br"'),
    ],
)
async def test_telegram_refuses_what_breaks_its_rules(
    bot: Bot, emu: BotApiEmulator, kwargs: dict[str, object], reason: str
) -> None:
    with pytest.raises(BadRequest, match=rf"(?i){reason}"):
        await bot.send_message(OWNER, **kwargs)  # type: ignore[arg-type]
    assert emu.messages(OWNER) == [] and emu.calls("sendMessage")[0]["status"] == 400


def test_html_parser_accepts_telegrams_tags_and_entities() -> None:
    text, entities = parse_html('<a href="https://x.y/?a=1&amp;b">R&D</a> &lt;3 &#128512;')
    assert text == "R&D <3 😀"
    assert entities == [
        {"type": "text_link", "offset": 0, "length": 3, "url": "https://x.y/?a=1&b"}
    ]
    with pytest.raises(HtmlError, match="Can't find end tag"):
        parse_html("<b>open")


async def test_edits_that_change_nothing_are_refused(bot: Bot, emu: BotApiEmulator) -> None:
    sent = await bot.send_message(OWNER, "Status: open", reply_markup=keyboard("a"))
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await sent.edit_text("Status: open", reply_markup=keyboard("a"))
    edited = await sent.edit_text("Status: closed")
    assert isinstance(edited, Message) and edited.edit_date and edited.reply_markup is None
    assert emu.last(OWNER).edits == ["Status: open"]
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", chat_id=OWNER, message_id=999)


async def test_users_who_never_started_or_blocked_the_bot_are_forbidden(
    bot: Bot, emu: BotApiEmulator
) -> None:
    emu.add_user(2002, "Li", started=False)
    with pytest.raises(Forbidden, match=r"(?i)can't initiate conversation"):
        await bot.send_message(2002, "hello")
    emu.block(OWNER)
    with pytest.raises(Forbidden, match=r"(?i)blocked by the user"):
        await bot.send_message(OWNER, "hello")
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(424242, "hello")
    emu.text_update(OWNER, "/start")  # writing to the bot again unblocks it
    await bot.send_message(OWNER, "welcome back")


async def test_injected_failures_surface_as_ptb_errors(bot: Bot, emu: BotApiEmulator) -> None:
    emu.fail("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as caught:
        await bot.send_message(OWNER, "a")
    assert caught.value.retry_after == timedelta(seconds=7) and emu.stats.rate_limited == 1
    emu.fail(status=500, chat_id=OWNER)
    with pytest.raises(NetworkError) as server_error:
        await bot.send_message(OWNER, "b")
    assert not isinstance(server_error.value, BadRequest)
    emu.fail("sendMessage", kind="timeout", executed=True)
    with pytest.raises(TimedOut):
        await bot.send_message(OWNER, "c")
    await bot.send_message(OWNER, "d")
    assert emu.texts(OWNER) == ["c", "d"]  # the timed-out call took effect: a lost answer


async def test_rate_limits_answer_429_beyond_one_message_per_second_per_chat(
    bot: Bot, emu: BotApiEmulator
) -> None:
    emu.rate_limits(per_chat_per_second=1)
    await bot.send_message(OWNER, "first")
    with pytest.raises(RetryAfter):
        await bot.send_message(OWNER, "second")
    assert emu.stats.rate_limited == 1


async def test_commands_are_kept_per_scope_and_language(bot: Bot, emu: BotApiEmulator) -> None:
    scope = BotCommandScopeChat(OWNER)
    await bot.set_my_commands([BotCommand("repair", "报修")], scope=scope, language_code="zh")
    assert emu.commands({"type": "chat", "chat_id": OWNER}, "zh") == [
        {"command": "repair", "description": "报修"}
    ]
    assert emu.commands() == []
    assert (await bot.get_my_commands(scope=scope, language_code="zh"))[0].command == "repair"
    with pytest.raises(BadRequest, match=r"(?i)language code"):
        await bot.set_my_commands([BotCommand("a", "b")], language_code="zh-hans")
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Repair", "b")])


async def test_an_application_answers_commands_and_button_presses(emu: BotApiEmulator) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Menu", reply_markup=keyboard("repair", "help"))

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("ok")
        await query.edit_message_text(f"Chose {query.data}")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(EmulatorRequest(emu))
        .get_updates_request(EmulatorRequest(emu))
        .build()
    )
    app.add_handlers([CommandHandler("start", start), CallbackQueryHandler(pressed)])
    async with app:
        await app.process_update(Update.de_json(emu.text_update(OWNER, "/start"), app.bot))
        menu = emu.last(OWNER)
        with pytest.raises(AssertionError, match="btn help"):
            emu.press(OWNER, menu, "nothing like it")
        await app.process_update(Update.de_json(emu.press(OWNER, menu, "repair"), app.bot))
    assert emu.texts(OWNER) == ["Chose repair"] and menu.edits == ["Menu"]
    assert emu.callback_answers[0]["text"] == "ok"


async def test_long_poll_over_http_returns_a_command_update(
    http_bot: tuple[Bot, EmulatorServer], emu: BotApiEmulator
) -> None:
    bot, _ = http_bot
    assert (await bot.get_updates(timeout=0)) == ()
    poll = asyncio.create_task(bot.get_updates(timeout=2))
    await asyncio.sleep(0.05)
    emu.send_text(OWNER, "/start@propdesk_test_bot hello")
    updates = await asyncio.wait_for(poll, 3)
    message = updates[0].message
    assert message is not None and message.text == "/start@propdesk_test_bot hello"
    assert message.entities[0].type == "bot_command" and message.entities[0].length == 24
    await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)
    assert emu.pending_updates() == []


async def test_photo_upload_over_http_downloads_the_same_bytes(
    http_bot: tuple[Bot, EmulatorServer], emu: BotApiEmulator
) -> None:
    bot, _ = http_bot
    data = bytes(range(256)) * 8 + b"\r\n--boundary\r\n\n" + os.urandom(3000)
    sent = await bot.send_photo(OWNER, photo=data, caption="<i>meter</i>", parse_mode="HTML")
    assert sent.caption == "meter" and emu.last(OWNER).photos == [sent.photo[-1].file_id]
    downloaded = await (await bot.get_file(sent.photo[-1].file_id)).download_as_bytearray()
    assert bytes(downloaded) == data
    album = await bot.send_media_group(
        OWNER, [InputMediaPhoto(b"one", caption="1"), InputMediaPhoto(sent.photo[-1].file_id)]
    )
    assert len(album) == 2 and album[0].media_group_id == album[1].media_group_id
    user_photo = emu.photo_update(OWNER, b"from the user")["message"]["photo"][-1]["file_id"]
    file = await bot.get_file(user_photo)
    assert bytes(await file.download_as_bytearray()) == b"from the user"


async def test_http_failures_surface_as_network_errors(
    http_bot: tuple[Bot, EmulatorServer], emu: BotApiEmulator
) -> None:
    bot, _ = http_bot
    emu.fail("sendMessage", kind="reset")
    with pytest.raises(NetworkError) as reset:
        await bot.send_message(OWNER, "lost")
    assert not isinstance(reset.value, TimedOut)
    emu.fail("getMe", kind="timeout")
    with pytest.raises(TimedOut):
        await bot.get_me(read_timeout=0.1)
    sent = await bot.send_message(OWNER, "after the storm")
    assert sent.text == "after the storm" and emu.texts(OWNER) == ["after the storm"]


async def test_wrong_token_and_unknown_method_over_http(
    http_bot: tuple[Bot, EmulatorServer], emu: BotApiEmulator
) -> None:
    bot, server = http_bot
    with pytest.raises(InvalidToken, match="rejected"):
        async with Bot("999:WRONG", base_url=server.base_url):
            pass
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("noSuchMethod")
