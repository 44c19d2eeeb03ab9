"""Drive the real Application through the Bot API emulator, as several users at once.

Updates go through `Application.process_update` (the same handlers, error handler and
persistence as in production); the outbox is drained after each step with a fake timer, and
the deadline sweep runs when the test moves the clock.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload
from telegram import Update

from bot.app import build_application
from bot.clock import ManualClock
from bot.config import Settings, load_settings
from bot.delivery import Timer
from bot.emulator import BotApiEmulator, EmulatedReset, EmulatorRequest, EmuMessage
from bot.runtime import Runtime
from bot.sweep import run_sweep
from models.invite import issue_unit_code
from models.people import Person, add_staff
from models.property import UnitRow, import_units, unit_by_code
from models.ticket import Ticket

TOKEN = "123456:TEST-TOKEN"


class FakeTimer(Timer):
    """Sleeps instantly; records what delivery asked to wait."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += max(seconds, 0.0)


class Desk:
    """A running PropDesk and the people talking to it."""

    def __init__(
        self,
        database_url: str,
        clock: ManualClock,
        emu: BotApiEmulator | None = None,
        **settings: Any,
    ) -> None:
        """`emu` lets a restarted Desk talk to the same Telegram (same users and chats)."""
        self.clock = clock
        self.emu = emu or BotApiEmulator(token=TOKEN, now=lambda: int(clock.now().timestamp()))
        self.timer = FakeTimer()
        self.settings: Settings = load_settings(token=TOKEN, database_url=database_url, **settings)
        self.app, self.rt = build_application(
            self.settings,
            clock=clock,
            request=EmulatorRequest(self.emu),
            updates_request=EmulatorRequest(self.emu),
            run_delivery=False,
            run_sweep_job=False,
            timer=self.timer,
        )
        self._marks: dict[int, int] = {}

    async def __aenter__(self) -> Desk:
        await self.app.initialize()
        assert self.app.post_init is not None
        await self.app.post_init(self.app)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.app.shutdown()
        if self.app.post_shutdown is not None:
            await self.app.post_shutdown(self.app)

    @property
    def runtime(self) -> Runtime:
        return self.rt

    def session(self) -> AsyncSession:
        return self.rt.sessions()

    # --- people -------------------------------------------------------------------------------

    async def add_unit(
        self, code: str, owner_name: str = "李伟", phone: str | None = "13800000000"
    ) -> None:
        async with self.rt.uow() as s:
            row = UnitRow(0, code, code.split("-")[0], None, owner_name, phone)
            await import_units(s, [row], self.clock.now())

    async def invite(self, unit_code: str, relation: str = "owner") -> str:
        async with self.rt.uow() as s:
            unit = await unit_by_code(s, unit_code)
            if unit is None:
                await self.add_unit(unit_code)
                unit = await unit_by_code(s, unit_code)
            assert unit is not None
            return await issue_unit_code(s, unit, self.clock.now(), 30, relation=relation)

    async def owner(
        self, tg_id: int, unit_code: str = "1-2-301", name: str = "Li", lang: str = "zh-hans"
    ) -> int:
        """A user bound to `unit_code` the way owners are: /start with a code."""
        self.emu.add_user(tg_id, name, lang)
        code = await self.invite(unit_code)
        await self.send(tg_id, f"/start {code}")
        return tg_id

    async def staff(
        self,
        tg_id: int,
        *roles: str,
        name: str = "Staff",
        buildings: tuple[str, ...] = (),
        lang: str = "zh-hans",
        started: bool = True,
    ) -> int:
        self.emu.add_user(tg_id, name, lang, started=started)
        async with self.rt.uow() as s:
            person = await add_staff(
                s,
                name=name,
                roles=list(roles),
                buildings=list(buildings),
                telegram_id=tg_id,
                now=self.clock.now(),
            )
            person.locale = "en" if lang.startswith("en") else "zh_CN"
        return tg_id

    async def person(self, tg_id: int) -> Person:
        from models.people import person_by_telegram

        async with self.rt.sessions() as s:
            found = await person_by_telegram(s, tg_id)
            assert found is not None
            return found

    async def ticket(self, ref: str) -> Ticket:
        """The ticket with its history loaded (`Ticket.events` is not loaded by default)."""
        async with self.rt.sessions() as s:
            query = select(Ticket).options(selectinload(Ticket.events)).where(Ticket.ref == ref)
            return (await s.execute(query)).scalar_one()

    # --- acting ---------------------------------------------------------------------------------

    async def feed(self, update: dict[str, Any], pace: float = 1.0) -> None:
        """Process one update; `pace` seconds pass first, as between a person's messages."""
        self.timer.t += pace
        await self.app.process_update(Update.de_json(update, self.app.bot))

        await self.deliver()

    async def send(self, tg_id: int, text: str, **kw: Any) -> list[str]:
        """The user sends `text`; returns what the bot sent them in answer."""
        mark = self.emu.mark(tg_id)
        await self.feed(self.emu.text_update(tg_id, text, **kw))
        return [m.content for m in self.emu.new_messages(tg_id, mark)]

    async def photo(
        self, tg_id: int, data: bytes = b"\xff\xd8photo", caption: str | None = None
    ) -> list[str]:
        mark = self.emu.mark(tg_id)
        await self.feed(self.emu.photo_update(tg_id, data, caption))
        return [m.content for m in self.emu.new_messages(tg_id, mark)]

    async def press(self, tg_id: int, button: str, message: EmuMessage | None = None) -> list[str]:
        """The user presses the button labelled `button` on `message` (default: the latest
        message of theirs that has it)."""
        target = message or self.with_button(tg_id, button)
        mark = self.emu.mark(tg_id)
        await self.feed(self.emu.press(tg_id, target, button))
        return [m.content for m in self.emu.new_messages(tg_id, mark)]

    async def press_data(self, tg_id: int, message: EmuMessage, data: str) -> list[str]:
        """A press with arbitrary (possibly forged) callback data."""
        mark = self.emu.mark(tg_id)
        await self.feed(self.emu.callback_update(tg_id, message, data))
        return [m.content for m in self.emu.new_messages(tg_id, mark)]

    def with_button(self, tg_id: int, button: str) -> EmuMessage:
        for message in reversed(self.emu.messages(tg_id)):
            if any(button in text for text, _ in self.emu.buttons(message)):
                return message
        raise AssertionError(f"no message to {tg_id} has a button {button!r}")

    def last_answer(self) -> str:
        """Text of the latest answerCallbackQuery (the toast the presser saw)."""
        calls = self.emu.calls("answerCallbackQuery")
        return str(calls[-1]["params"].get("text", "")) if calls else ""

    # --- reading --------------------------------------------------------------------------------

    def inbox(self, tg_id: int) -> list[str]:
        return self.emu.texts(tg_id)

    def unread(self, tg_id: int) -> list[str]:
        """Messages to `tg_id` since the last call of unread for them."""
        start = self._marks.get(tg_id, 0)
        self._marks[tg_id] = self.emu.mark(tg_id)
        return [m.content for m in self.emu.new_messages(tg_id, start)]

    # --- time -----------------------------------------------------------------------------------

    async def deliver(self) -> int:
        assert self.rt.delivery is not None
        return await self.rt.delivery.drain()

    async def tick(self, delta: timedelta) -> datetime:
        """Move the clock, run the sweep as the job would, deliver what it queued."""
        self.clock.advance(delta)
        await run_sweep(self.rt)
        await self.deliver()
        return self.clock.now()

    async def at(self, moment: datetime) -> None:
        self.clock.set(moment)
        await run_sweep(self.rt)
        await self.deliver()


__all__ = ["TOKEN", "Desk", "EmulatedReset", "FakeTimer"]


async def run_cli(*argv: str) -> int:
    """`propdesk ARGV…` as the operator runs it. The CLI runs its own event loop
    (asyncio.run), so it gets a thread of its own here."""
    from bot.cli import main

    return await asyncio.to_thread(main, list(argv))
