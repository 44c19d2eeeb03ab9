"""Builds the python-telegram-bot Application: handlers, the sweep job, outbox delivery."""

from __future__ import annotations

import asyncio
import logging
import secrets
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any
from urllib.parse import urlsplit

from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    TypeHandler,
    filters,
)
from telegram.request import BaseRequest

import models.all  # noqa: F401  (every table, deadline handler and start-up hook registered)
from bot import sweep
from bot.clock import Clock, SystemClock
from bot.config import Settings
from bot.db import (
    keep_postgresql_lock,
    lock_postgresql,
    lock_sqlite,
    make_engine,
    make_sessions,
    schema_is_current,
    upgrade,
)
from bot.delivery import Delivery, Timer
from bot.flood import FloodGuard
from bot.i18n import I18n, load_catalogs
from bot.runtime import Runtime
from bot.updates import PerPersonOrder
from handlers import common, onboarding, tickets
from handlers.menu import publish_default_commands
from models.deadline import run_startup_hooks
from models.system import set_meta

log = logging.getLogger(__name__)

PRIVATE = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE


def flow_modules() -> list[ModuleType]:
    """Handler modules of the flows; each exports COMMANDS and BUTTONS (pattern → callback)."""
    from handlers import complaint, lost_found, repair, vacancy

    return [repair, complaint, vacancy, lost_found]


def add_handlers(app: Application) -> None:
    flows = flow_modules()
    commands = {
        "start": onboarding.start,
        "help": onboarding.help_command,
        "language": onboarding.language,
        "cancel": onboarding.cancel,
        "phone": onboarding.phone,
        "my": tickets.my,
        "queue": tickets.queue,
        "ticket": tickets.ticket,
    }
    for flow in flows:
        commands.update(flow.COMMANDS)
    for name, callback in commands.items():
        app.add_handler(CommandHandler(name, callback, filters=PRIVATE))
    app.add_handler(CallbackQueryHandler(onboarding.language_chosen, pattern=r"^lang:"))
    app.add_handler(CallbackQueryHandler(common.form_button, pattern=r"^f:"))
    app.add_handler(CallbackQueryHandler(tickets.open_card, pattern=r"^t:"))
    for flow in flows:
        for pattern, callback in flow.BUTTONS.items():
            app.add_handler(CallbackQueryHandler(callback, pattern=pattern))
    app.add_handler(MessageHandler(PRIVATE & filters.COMMAND, common.unknown_command))
    app.add_handler(MessageHandler(PRIVATE & ~filters.COMMAND, common.message))
    app.add_handler(
        MessageHandler(
            filters.ChatType.PRIVATE & filters.UpdateType.EDITED_MESSAGE, common.edited_message
        )
    )
    app.add_handler(CallbackQueryHandler(common.stale_button))
    app.add_handler(MessageHandler(filters.ChatType.GROUPS, common.group_message))
    app.add_error_handler(common.on_error)


def build_application(
    settings: Settings,
    *,
    clock: Clock | None = None,
    request: BaseRequest | None = None,
    updates_request: BaseRequest | None = None,
    run_delivery: bool = True,
    run_sweep_job: bool = True,
    timer: Timer | None = None,
) -> tuple[Application, Runtime]:
    """The real Application; tests pass an emulator transport and a movable clock."""
    if settings.token is None:
        raise ValueError("PROPDESK_TOKEN is not set")
    clock = clock or SystemClock()
    engine = make_engine(settings.database_url)
    i18n = I18n(settings.locale, settings.tz, load_catalogs())
    rt = Runtime(
        settings=settings,
        clock=clock,
        engine=engine,
        sessions=make_sessions(engine),
        calendar=settings.business_calendar(),
        env=settings.env(),
        i18n=i18n,
    )
    builder = (
        ApplicationBuilder()
        .token(settings.token.get_secret_value())
        .concurrent_updates(PerPersonOrder())
        .base_url(settings.api_base_url)
        .base_file_url(settings.file_url)
    )
    if request is not None:
        builder = builder.request(request)
    if updates_request is not None:
        builder = builder.get_updates_request(updates_request)

    async def post_init(app: Application) -> None:
        rt.delivery = Delivery(rt.sessions, app.bot, clock, i18n, timer=timer)
        me = app.bot.username
        if me:
            async with rt.uow() as session:
                await set_meta(session, "bot_username", me)
        async with rt.uow() as session:
            await run_startup_hooks(session, clock.now(), rt.env)
        try:
            await publish_default_commands(app.bot, i18n)
        except Exception:
            log.exception("could not publish the command menu")
        if run_delivery:
            rt.extras["delivery_task"] = asyncio.create_task(rt.delivery.run_forever())

    async def post_shutdown(app: Application) -> None:
        watch: asyncio.Task[Any] | None = rt.extras.pop("lock_watch", None)
        if watch is not None:
            watch.cancel()
        task: asyncio.Task[Any] | None = rt.extras.pop("delivery_task", None)
        if rt.delivery is not None:
            rt.delivery.stop()
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                task.cancel()
        await engine.dispose()

    app = builder.post_init(post_init).post_shutdown(post_shutdown).build()
    app.bot_data["runtime"] = rt
    flood = FloodGuard(
        (timer or Timer()).monotonic, notice=common.flood_notice, toast=common.flood_toast
    )
    rt.extras["flood"] = flood
    app.add_handler(TypeHandler(Update, flood), group=-1)
    add_handlers(app)
    if run_sweep_job:
        sweep.install(app, rt)
    return app, rt


async def _prepare_database(settings: Settings) -> None:
    engine = make_engine(settings.database_url)
    try:
        current = await schema_is_current(engine)
    finally:
        await engine.dispose()
    if not current:
        if settings.database_url.startswith("sqlite"):
            return None
        raise SystemExit(
            "propdesk: error: the database schema is not up to date; run `propdesk db upgrade`"
        )
    return None


ALLOWED_UPDATES = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.EDITED_MESSAGE]


@dataclass(frozen=True)
class Webhook:
    """Where Telegram posts updates (behind a reverse proxy that terminates HTTPS)."""

    url: str
    listen: str = "127.0.0.1"
    port: int = 8443
    secret: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def path(self) -> str:
        return urlsplit(self.url).path.strip("/")


class Redact(logging.Filter):
    """Keeps the bot token out of the log: python-telegram-bot writes it into InvalidToken's
    message, and a request URL (``…/bot<token>/getMe``) can appear in a network error."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secret:
            return True
        message = record.getMessage()
        if self.secret in message:
            record.msg, record.args = message.replace(self.secret, "<token>"), ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text and self.secret in record.exc_text:
            record.exc_text = record.exc_text.replace(self.secret, "<token>")
        return True


def run_bot(settings: Settings, webhook: Webhook | None = None) -> None:
    """`propdesk run`: long polling (default) or a webhook, until interrupted.

    An embedded SQLite database is upgraded by itself; PostgreSQL must be upgraded with
    `propdesk db upgrade` first. With a webhook, Telegram must send the secret token header:
    requests without it are refused (403) by python-telegram-bot's webhook server.
    """
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    if settings.token is not None:
        redact = Redact(settings.token.get_secret_value())
        for handler in logging.getLogger().handlers:
            handler.addFilter(redact)
    if settings.token is not None:
        # Telegram or the network down at start: wait for it, saying so, instead of dying
        # with a traceback (python-telegram-bot's own start would try once).
        from bot.ops import wait_for_bot_api

        asyncio.run(wait_for_bot_api(settings, settings.token.get_secret_value(), log))
    held: list[Any] = []  # the single-instance lock, kept for as long as the bot runs
    if settings.database_url.startswith("sqlite"):
        held.append(lock_sqlite(settings.database_url))
        upgrade(settings.database_url)
    else:
        asyncio.run(_prepare_database(settings))
    app, _ = build_application(settings)
    if not settings.database_url.startswith("sqlite"):
        started = app.post_init

        async def locked(app: Application) -> None:
            held.append(await lock_postgresql(settings.database_url))  # on the bot's loop

            def lost() -> None:
                rt = app.bot_data["runtime"]
                if rt.delivery is not None:
                    rt.delivery.stop()
                app.stop_running()

            watch = keep_postgresql_lock(settings.database_url, held, lost)
            app.bot_data["runtime"].extras["lock_watch"] = asyncio.create_task(watch)
            if started is not None:
                await started(app)

        app.post_init = locked
    if webhook is None:
        app.run_polling(allowed_updates=ALLOWED_UPDATES)
        return
    app.run_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.path,
        webhook_url=webhook.url,
        secret_token=webhook.secret,
        allowed_updates=ALLOWED_UPDATES,
    )
