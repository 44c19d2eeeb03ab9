"""`propdesk sandbox`: the real bot on the built-in Bot API emulator, the demo office, the page.

The Application runs as in production (initialize, post_init, start, long polling over the
in-process emulator, outbox delivery loop, sweep job); only Telegram is the emulator and the
clock is real time plus an offset the page can jump forward.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot.app import ALLOWED_UPDATES, build_application
from bot.clock import OffsetClock
from bot.config import Settings, load_settings
from bot.db import upgrade
from bot.emulator import EmulatorRequest
from bot.sandbox import dataset
from bot.sandbox.api import routes
from bot.sandbox.chats import SandboxEmulator
from bot.sandbox.server import PageServer
from bot.sweep import run_sweep
from models.deadline import SweepResult

log = logging.getLogger(__name__)

TOKEN = "1000000001:SANDBOX-no-telegram-token"
READY_SECONDS = 20.0  # the demo office is bound in well under a second; this is a safety net


class ListenError(Exception):
    """The page's address cannot be listened on (port taken, address not on this machine)."""


@dataclass(frozen=True)
class Options:
    """What the command line chose."""

    host: str = "127.0.0.1"
    port: int = 8080
    locale: str = "zh_CN"
    db: Path | None = None
    start: datetime | None = None


def sandbox_settings(database: Path, locale: str) -> Settings:
    """The bot's settings (PROPDESK_CONFIG's business rules apply), without any token."""
    return load_settings(token=TOKEN, database_url=f"sqlite:///{database}", locale=locale,
                         bot_username="propdesk_sandbox_bot")  # fmt: skip


class Sandbox:
    """A running PropDesk against the emulator, with the personas' chats and the page."""

    def __init__(self, settings: Settings, locale: str, start: datetime | None = None) -> None:
        self.settings = settings
        self.locale = locale
        self.clock = OffsetClock(start=start)
        clock = self.clock
        self.emu = SandboxEmulator(
            token=TOKEN,
            bot_username="propdesk_sandbox_bot",
            now=lambda: int(clock.now().timestamp()),
        )
        self.app, self.rt = build_application(
            settings,
            clock=self.clock,
            request=EmulatorRequest(self.emu),
            updates_request=EmulatorRequest(self.emu),
        )
        dataset.add_users(self.emu, locale)
        self.server = PageServer(routes(self))
        self._started = False

    @property
    def url(self) -> str:
        host = f"[{self.server.host}]" if ":" in self.server.host else self.server.host
        return f"http://{host}:{self.server.port}/"

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen (a busy port fails first), start the bot, bind the demo office through it;
        returns the page's URL."""
        try:
            await self.server.start(host, port)
        except OSError as exc:
            raise ListenError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
        await self.app.initialize()
        assert self.app.post_init is not None and self.app.updater is not None
        await self.app.post_init(self.app)
        await self.app.start()
        self._started = True
        await self.app.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
        await self._bind_office()
        return self.url

    async def _bind_office(self) -> None:
        codes = await dataset.issue_codes(self.rt, self.locale, self.clock.now())
        if not codes:
            await dataset.republish_menus(self.rt, self.app.bot, self.rt.i18n)
            return
        for tg_id, code in codes.items():
            self.emu.send_text(tg_id, f"/start {code}")
        chat_scopes = [{"type": "chat", "chat_id": p.tg_id} for p in dataset.PERSONAS]
        await self.emu.wait_for(
            lambda: all(self.emu.commands(scope) for scope in chat_scopes), READY_SECONDS
        )

    async def stop(self) -> None:
        await self.server.stop()
        if self._started:
            assert self.app.updater is not None
            if self.app.updater.running:
                await self.app.updater.stop()
            await self.app.stop()
            self._started = False
        await self.app.shutdown()
        assert self.app.post_shutdown is not None
        await self.app.post_shutdown(self.app)

    async def __aenter__(self) -> Sandbox:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    async def jump(self, delta: timedelta) -> SweepResult:
        """Move the clock forward, fire what fell due and send it now (the sweep kicks delivery)."""
        self.clock.jump(delta)
        result = await run_sweep(self.rt)
        if self.rt.delivery is not None:
            self.rt.delivery.kick()
        self.emu.bump()
        return result


async def _serve(options: Options, settings: Settings, database: Path, started: float) -> None:
    sandbox = Sandbox(settings, options.locale, options.start)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    try:
        url = await sandbox.start(options.host, options.port)
        print(f"PropDesk sandbox: {url}", flush=True)
        print(f"Ready in {time.monotonic() - started:.1f} s; database {database}. "
              "Ctrl+C stops it.", flush=True)  # fmt: skip
        if options.host not in ("127.0.0.1", "localhost", "::1"):
            print(f"Warning: the sandbox has no login; anyone who can reach {options.host} can "
                  "act as every person in it.", flush=True)  # fmt: skip
        await stop.wait()
    finally:
        await sandbox.stop()


def run(options: Options) -> None:
    """Blocking: a fresh SQLite file in a temporary folder unless --db names one; the schema is
    upgraded before the loop starts; runs until Ctrl+C or SIGTERM."""
    started = time.monotonic()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    scratch = None if options.db else Path(tempfile.mkdtemp(prefix="propdesk-sandbox-"))
    database = options.db or (scratch / "sandbox.db")  # type: ignore[operator]
    try:
        settings = sandbox_settings(database, options.locale)
        upgrade(settings.database_url)
        asyncio.run(_serve(options, settings, database, started))
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
