"""SIGKILL the real `propdesk run` process mid-conversation; the owner carries on after the
restart and nothing acknowledged is lost (the bot talks to the emulator over HTTP)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.clock import SystemClock
from bot.db import make_engine, make_sessions
from bot.emulator import BotApiEmulator, EmulatorServer
from models.invite import issue_unit_code
from models.notification import Notification
from models.people import add_staff
from models.property import UnitRow, import_units, unit_by_code
from models.ticket import Ticket

TOKEN = "123456:CRASH-TEST"
OWNER, RECEPTIONIST = 5001, 5002
ROOT = Path(__file__).resolve().parents[2]


class BotProcess:
    """`python -m bot run` against the emulator, killable without a clean shutdown."""

    def __init__(self, server: EmulatorServer, database_url: str, log: Path) -> None:
        self.env = {
            **os.environ,
            "PROPDESK_TOKEN": TOKEN,
            "PROPDESK_API_BASE_URL": server.base_url,
            "PROPDESK_API_FILE_URL": server.file_url,
            "PROPDESK_DATABASE_URL": database_url,
            "PROPDESK_LOCALE": "en",
        }
        self.env.pop("PROPDESK_CONFIG", None)
        self.server = server
        self.log = log
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "run"], cwd=ROOT, env=self.env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()


@pytest.fixture
async def office(
    database_url: str, tmp_path: Path
) -> AsyncIterator[tuple[BotApiEmulator, BotProcess, str]]:
    engine = make_engine(database_url)
    sessions = make_sessions(engine)
    now = SystemClock().now()
    async with sessions() as s, s.begin():
        await import_units(s, [UnitRow(2, "1-2-301", "1", None, "李伟", "13800000000")], now)
        unit = await unit_by_code(s, "1-2-301")
        assert unit is not None
        code = await issue_unit_code(s, unit, now, 30)
        await add_staff(s, name="Wang Fang", roles=["receptionist"], buildings=[],
                        telegram_id=RECEPTIONIST, now=now)  # fmt: skip
    await engine.dispose()
    emu = BotApiEmulator(token=TOKEN)
    emu.add_user(OWNER, "Li", "en")
    emu.add_user(RECEPTIONIST, "Wang", "en")
    async with EmulatorServer(emu) as server:
        bot = BotProcess(server, database_url, tmp_path / "bot.log")
        try:
            yield emu, bot, code
        finally:
            bot.stop()
            print((tmp_path / "bot.log").read_text(errors="replace")[-4000:])


async def _reply(emu: BotApiEmulator, chat: int, since: int, check: Callable[[str], bool]) -> str:
    def found() -> str | None:
        for message in emu.new_messages(chat, since):
            if check(message.content):
                return message.content
        return None

    return str(await emu.wait_for(found, timeout=20))


@pytest.mark.slow
async def test_owner_continues_the_repair_form_after_the_bot_is_killed_at_each_step(
    office: tuple[BotApiEmulator, BotProcess, str], database_url: str
) -> None:
    emu, bot, code = office
    bot.start()

    async def say(text: str, expect: str) -> None:
        mark = emu.mark(OWNER)
        emu.send_text(OWNER, text)
        await _reply(emu, OWNER, mark, lambda t: expect in t)

    async def click(button: str, expect: str) -> None:
        mark = emu.mark(OWNER)
        message = next(m for m in reversed(emu.messages(OWNER))
                       if any(button in b for b, _ in emu.buttons(m)))  # fmt: skip
        emu.click(OWNER, message, button)
        await _reply(emu, OWNER, mark, lambda t: expect in t)

    def crash() -> None:
        bot.kill()
        bot.start()

    await say(f"/start {code}", "You are now linked to unit 1-2-301")
    await say("/repair", "Where is the problem?")
    crash()
    await click("In my home", "What kind of problem is it?")
    crash()
    await click("Water supply", "Please describe the problem")
    crash()
    await say("Water leaks under the kitchen sink", "photos of the problem")
    crash()
    await click("Skip photos", "When can the technician come?")
    crash()
    await click("As soon as possible", "Please check your request")
    crash()
    await click("Submit", "Your repair request has been filed")
    crash()
    # The receptionist's notification was committed with the ticket; it arrives even though
    # the process that created it may have died before sending it.
    await emu.wait_for(
        lambda: any("🆕 New repair" in t for t in emu.texts(RECEPTIONIST)), timeout=20
    )
    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as s:
            assert await s.scalar(select(func.count()).select_from(Ticket)) == 1
        # Telegram has the message a moment before the bot records it as sent: under load
        # that moment can be long, so wait for the record (up to 20 s), then require none left.
        unsent = select(func.count()).select_from(Notification).where(Notification.status != "sent")
        for _ in range(200):
            async with make_sessions(engine)() as s:
                pending = await s.scalar(unsent)
            if pending == 0:
                break
            await asyncio.sleep(0.1)
        assert pending == 0
    finally:
        await engine.dispose()
    assert sum("🆕 New repair" in t for t in emu.texts(RECEPTIONIST)) == 1
    filed = [t for t in emu.texts(OWNER) if "Your repair request has been filed" in t]
    assert len(filed) == 1


@pytest.mark.slow
async def test_bot_started_while_telegram_is_unreachable_waits_and_comes_up_when_it_is_back(
    office: tuple[BotApiEmulator, BotProcess, str],
) -> None:
    emu, bot, code = office
    await bot.server.stop()  # the network (or Telegram) is down when the bot starts
    bot.start()
    for _ in range(200):
        if "cannot reach the Bot API" in bot.log.read_text(errors="replace"):
            break
        await asyncio.sleep(0.1)
    log = bot.log.read_text(errors="replace")
    assert f"cannot reach the Bot API at {bot.server.base_url} (" in log
    assert "trying again in 1 s" in log
    assert "Traceback" not in log and TOKEN.split(":")[1] not in log
    assert bot.proc is not None and bot.proc.poll() is None  # still running, waiting
    await bot.server.start(port=bot.server.port)  # back
    mark = emu.mark(OWNER)
    emu.send_text(OWNER, f"/start {code}")
    await _reply(emu, OWNER, mark, lambda t: "You are now linked to unit 1-2-301" in t)


# Every other owner and staff form, killed after each step in turn: (who, kind, value).
# "say" sends text, "press" presses the newest button with that label. After each step the
# bot must have answered before it is killed; the last answer must be the filing receipt.
FLOWS = {
    "complaint": [
        (OWNER, "say", "/complain"), (OWNER, "press", "Complaint"),
        (OWNER, "say", "The lift in building 1 has been noisy for a week"),
        (OWNER, "press", "Skip photos"), (OWNER, "say", "Building 1 lift"),
        (OWNER, "press", "No"), (OWNER, "press", "Submit"),
    ],
    "vacancy": [
        (OWNER, "say", "/vacancy"), (OWNER, "say", "2027-01-05"), (OWNER, "say", "2027-06-01"),
        (OWNER, "say", "Working abroad for half a year"),
        (OWNER, "press", "I have read and accept"), (OWNER, "press", "Submit"),
    ],
    "found item": [
        (RECEPTIONIST, "say", "/found"), (RECEPTIONIST, "say", "black wallet"),
        (RECEPTIONIST, "say", "Brown leather inside, three bank cards, a photo of a cat"),
        (RECEPTIONIST, "press", "Wallets and bags"), (RECEPTIONIST, "press", "Not valuable"),
        (RECEPTIONIST, "say", "Lobby of building 1"), (RECEPTIONIST, "press", "Just now"),
        (RECEPTIONIST, "press", "I found it"), (RECEPTIONIST, "press", "No photo"),
        (RECEPTIONIST, "press", "Register"),
    ],
}  # fmt: skip
FLOWS["lost-item claim"] = [
    (OWNER, "say", "/lost"), (OWNER, "press", "Recently found items"),
    (OWNER, "press", "Claim F-"), (OWNER, "say", "My black wallet"),
    (OWNER, "say", "Brown leather inside with three bank cards and a cat photo"),
    (OWNER, "press", "Submit claim"),
]  # fmt: skip
# Steps done before the kills start (the item must exist before anyone can claim it).
BEFORE = {"lost-item claim": FLOWS["found item"]}
RECEIPTS = {
    "complaint": "C-",
    "vacancy": "V-",
    "found item": "F-",
    "lost-item claim": "L-",
}


@pytest.mark.slow
@pytest.mark.parametrize("flow", sorted(FLOWS))
async def test_every_form_survives_a_kill_after_each_step(
    office: tuple[BotApiEmulator, BotProcess, str], database_url: str, flow: str
) -> None:
    emu, bot, code = office
    bot.start()
    mark = emu.mark(OWNER)
    emu.send_text(OWNER, f"/start {code}")
    await _reply(emu, OWNER, mark, lambda t: "What you can do" in t)

    def button(who: int, label: str) -> object:
        return next(
            (m for m in reversed(emu.messages(who)) if any(label in b for b, _ in emu.buttons(m))),
            None,
        )

    steps = [(*s, False) for s in BEFORE.get(flow, [])] + [(*s, True) for s in FLOWS[flow]]
    for who, kind, value, crash in steps:
        mark = emu.mark(who)
        if kind == "say":
            emu.send_text(who, value)
        else:
            try:
                message = await emu.wait_for(lambda who=who, value=value: button(who, value), 20)
            except AssertionError:
                raise AssertionError(f"no button {value!r}; chat: {emu.texts(who)[-3:]}") from None

            emu.click(who, message, value)  # type: ignore[arg-type]
        await _reply(emu, who, mark, lambda t: True)
        if crash:
            bot.kill()
            bot.start()
    who = FLOWS[flow][-1][0]

    await emu.wait_for(lambda: any(RECEIPTS[flow] in t for t in emu.texts(who)), 20)

    engine = make_engine(database_url)
    try:
        async with make_sessions(engine)() as s:
            kinds = (await s.execute(select(Ticket.kind))).scalars().all()
    finally:
        await engine.dispose()
    assert sorted(kinds) == sorted(["F", "L"] if flow == "lost-item claim" else [RECEIPTS[flow][0]])
