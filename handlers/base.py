"""The per-update frame every handler runs in: who is speaking, one unit of work, replies
sent after commit, domain refusals turned into a localized answer."""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.exc import DBAPIError, SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError
from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.delivery import send_rendered
from bot.runtime import Runtime
from handlers import labels
from handlers.menu import chat_menu, set_chat_menu
from models.base import DomainError
from models.notification import N_, Msg, enqueue, msg
from models.people import Person, linked_changed, remember_menu, touch_person
from models.property import is_linked

log = logging.getLogger(__name__)
updates_log = logging.getLogger("propdesk.updates")
DB_ATTEMPTS = 4  # an update that met a concurrent change is handled again this often
# A database that does not answer (PostgreSQL restarting, a failover, SQLite's writer busy)
# is waited for about seven seconds before the user is told to try again: Telegram has
# already been told the update was received, so giving up at once would lose it.
OUTAGE_ATTEMPTS = 8
OUTAGE_WAIT_MAX = 2.0


# Domain refusals, by code, as the user reads them.
REFUSALS: dict[str, str] = {
    "code_unknown": N_(
        "This code is not valid. Please check it, or ask the property office for a new one."
    ),
    "code_used": N_(
        "This code has already been used. Please ask the property office for a new one."
    ),
    "code_expired": N_("This code has expired. Please ask the property office for a new one."),
    "ticket_state": N_("{ref} is now in a state where this is no longer possible ({state})."),
    "not_allowed": N_("You are not allowed to do this."),
    "stale": N_("This button is out of date. Nothing was changed."),
}


def runtime(context: ContextTypes.DEFAULT_TYPE) -> Runtime:
    rt = context.application.bot_data["runtime"]
    assert isinstance(rt, Runtime)
    return rt


@dataclass
class Ctx:
    """One update being handled: the person, their language, the open session."""

    rt: Runtime
    session: AsyncSession
    person: Person
    update: Update
    context: ContextTypes.DEFAULT_TYPE
    replies: list[Msg] = field(default_factory=list)
    callback_answer: str | None = None
    callback_alert: bool = False
    clear_buttons: bool = False
    after_commit: list[Callable[[], Awaitable[Any]]] = field(default_factory=list)
    fixed_locale: str | None = None  # after a rollback the person's row can no longer be read
    person_id: int = 0

    @property
    def now(self) -> datetime:
        return self.rt.clock.now()

    @property
    def locale(self) -> str:
        if self.fixed_locale:
            return self.fixed_locale
        return self.rt.i18n.locale_for(self.person.locale or self.rt.settings.locale)

    def t(self, msgid: str, **params: Any) -> str:
        return self.rt.i18n.text(msgid, self.locale, **params)

    def reply(self, message: Msg | str, **params: Any) -> Msg:
        out = msg(message, **params) if isinstance(message, str) else message
        self.replies.append(out)
        return out

    def answer(self, msgid: str | None = None, *, alert: bool = False, **params: Any) -> None:
        """Text for the pressed button's toast (callback queries only)."""
        self.callback_answer = self.t(msgid, **params) if msgid else None
        self.callback_alert = alert

    def later(self, job: Callable[[], Awaitable[Any]]) -> None:
        """Run `job` once the unit of work has committed (e.g. a Telegram call)."""
        self.after_commit.append(job)

    @property
    def text(self) -> str:
        message = self.update.effective_message
        return (message.text or message.caption or "") if message else ""

    @property
    def args(self) -> list[str]:
        return list(self.context.args or [])

    def _callback_parts(self) -> list[str]:
        query = self.update.callback_query
        parts = (query.data or "").split(":") if query is not None else []
        if len(parts) < 3 or not parts[2].isdigit() or len(parts[2]) > 18:
            raise DomainError("stale")
        return parts

    @property
    def target_id(self) -> int:
        """The ticket id in callback data ``<flow>:<action>:<id>[:<arg>]`` (untrusted input)."""
        return int(self._callback_parts()[2])

    @property
    def target_arg(self) -> str:
        parts = self._callback_parts()
        if len(parts) < 4:
            raise DomainError("stale")
        return parts[3]

    @property
    def target_number(self) -> int:
        """`target_arg` as an id (a technician, a fee): anything else is a forged or stale
        button, refused as such, never an error carrying the data into the log."""
        arg = self.target_arg
        if not arg.isdigit() or len(arg) > 18:
            raise DomainError("stale")
        return int(arg)

    @property
    def target_second_number(self) -> int:
        """A second id after `target_arg` (``<flow>:<action>:<id>:<arg>:<arg2>``), checked
        the same way; missing means a button made before it was added: stale."""
        parts = self._callback_parts()
        arg = parts[4] if len(parts) > 4 else ""
        if not arg.isdigit() or len(arg) > 18:
            raise DomainError("stale")
        return int(arg)


Handler = Callable[[Ctx], Awaitable[None]]
TgCallback = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def log_update(update: Update, handler: str, outcome: str, started: float) -> None:
    """The one log line of an update (every path writes one: handled, refused, dropped by
    the flood guard, a group's); ids only, never names, phones or what people typed."""
    user = update.effective_user
    updates_log.info(
        "update=%s user=%s handler=%s outcome=%s ms=%.1f",
        update.update_id, user.id if user else "-", handler, outcome,
        (time.perf_counter() - started) * 1000,
    )  # fmt: skip


def desk(fn: Handler) -> TgCallback:
    """Run `fn` in a unit of work for a private-chat update; send its replies after commit."""

    @functools.wraps(fn)
    async def wrapper(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        rt = runtime(context)
        user = update.effective_user
        if user is None or user.is_bot:
            return
        started = time.perf_counter()
        outcome = "error"
        try:
            ctx, outcome = await _run_unit(fn, rt, update, context, user.id, user.full_name,
                                           user.language_code)  # fmt: skip
            await send_replies(ctx)
            if outcome == "ok":
                for job in ctx.after_commit:
                    await job()
        finally:
            log_update(update, fn.__name__, outcome, started)

    return wrapper


def _retryable(exc: DBAPIError) -> bool:
    """A lost connection (PostgreSQL restarted, backend killed) or SQLite's writer lock."""
    return bool(exc.connection_invalidated) or "database is locked" in str(exc.orig)


async def _run_unit(
    fn: Handler,
    rt: Runtime,
    update: Update,
    context: ContextTypes.DEFAULT_TYPE,
    user_id: int,
    name: str,
    language_code: str | None,
) -> tuple[Ctx, str]:
    """The handler in one unit of work, retried whole when the database connection drops or
    a concurrent change to the same ticket made this one stale."""
    for attempt in range(OUTAGE_ATTEMPTS):
        ctx: Ctx | None = None
        locale = rt.settings.locale
        try:
            async with rt.uow() as session:
                person = await touch_person(session, user_id, name, language_code, rt.clock.now())
                ctx = Ctx(rt, session, person, update, context, person_id=person.id)
                locale = ctx.locale
                await fn(ctx)
                await _menu_follows(ctx)
            return ctx, "ok"
        except DomainError as exc:
            if ctx is None:
                raise
            ctx.fixed_locale = locale
            params = dict(exc.params)
            if isinstance(params.get("state"), str) and isinstance(params.get("ref"), str):
                # Show the state as people read it, for the ticket's kind (its letter).
                params["state"] = labels.state(params["state"], params["ref"][:1])
            refusal = msg(REFUSALS.get(exc.code, N_("This cannot be done right now.")), **params)

            ctx.replies = [refusal]
            ctx.after_commit = []
            ctx.callback_answer = ctx.t(refusal.lines[0][0], **refusal.lines[0][1])
            ctx.callback_alert = True
            return ctx, f"refused:{exc.code}"
        except StaleDataError:
            # Someone else changed the same ticket in the meantime (updates of different people
            # run concurrently): handle this update again on what is there now, which either
            # still works or is refused the way a late button press is.
            if attempt + 1 >= DB_ATTEMPTS:
                raise
            log.info("update %s met a concurrent change; handling it again", update.update_id)
        except (DBAPIError, OSError) as exc:
            if isinstance(exc, DBAPIError) and not _retryable(exc):
                raise
            if attempt + 1 >= OUTAGE_ATTEMPTS:
                raise
            cause = type(exc.orig if isinstance(exc, DBAPIError) else exc).__name__
            log.warning("database unavailable (%s); retrying the update", cause)
            await asyncio.sleep(min(0.1 * 2**attempt, OUTAGE_WAIT_MAX))
    raise AssertionError("unreachable")


async def _menu_follows(ctx: Ctx) -> None:
    """The person's own command menu follows what they may do now. What changes it mostly
    happens outside their chat (roles given or taken with the CLI, possibly while the bot is
    down; a unit unlinked by the office; a release), so every update compares the menu they
    should see with the one last published to them and, when they differ, publishes it once
    the unit of work has committed. A refused publish is tried again at the next update."""
    person = ctx.person
    if person.telegram_id is None:
        return
    is_owner = person.linked_at_load  # (loaded with the person: no statement of its own)
    if is_owner is None or linked_changed(ctx.session):
        is_owner = await is_linked(ctx.session, person)
    roles = {r.value for r in person.role_names()}
    commands, fingerprint = chat_menu(ctx.rt.i18n, ctx.locale, is_owner, person.is_staff, roles)
    if fingerprint == person.menu:
        return
    rt, bot, chat_id, person_id = ctx.rt, ctx.context.bot, person.telegram_id, person.id

    async def publish() -> None:
        if not await set_chat_menu(bot, chat_id, commands):
            return
        try:
            async with rt.uow() as session:
                await remember_menu(session, person_id, fingerprint)
        except (SQLAlchemyError, OSError) as exc:  # published; only published again later
            log.warning("could not record the menu of person %s: %s", person_id, exc)

    ctx.later(publish)


async def send_replies(ctx: Ctx) -> None:
    """Answer the press, then the replies. A reply Telegram does not take now goes to the
    outbox, so what the bot has committed to saying is said once Telegram is back."""
    query = ctx.update.callback_query
    if query is not None:

        async def answer() -> None:
            try:
                await query.answer(
                    (ctx.callback_answer or "")[:200] or None, show_alert=ctx.callback_alert
                )
            except TelegramError as exc:  # too old, or Telegram trouble: the press took effect
                log.info("callback answer refused: %s", exc)

        async def clear() -> None:
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except TelegramError as exc:
                log.info("could not clear buttons: %s", exc)

        # The toast and the cleared buttons do not depend on each other: one round trip to
        # Telegram for both rather than two, before the reply (about 50 ms less per press
        # over a real network).
        if ctx.clear_buttons and query.message is not None:
            await asyncio.gather(answer(), clear())
        else:
            await answer()
    chat = ctx.update.effective_chat
    if chat is None:
        return
    for index, out in enumerate(ctx.replies):
        progress = [0]  # parts Telegram took: the outbox goes on from the next one
        delivery = ctx.rt.delivery
        try:
            rendered = ctx.rt.i18n.render(out, ctx.locale)
            await send_rendered(ctx.context.bot, chat.id, rendered, progress)
        except (RetryAfter, NetworkError) as exc:
            if isinstance(exc, BadRequest):
                raise
            if delivery is not None:
                delivery.note_direct(chat.id, progress[0])
                if isinstance(exc, RetryAfter):
                    delivery.note_retry_after(exc.retry_after)
            log.warning("reply to %s deferred to the outbox: %s", chat.id, type(exc).__name__)
            async with ctx.rt.uow() as session:
                person = await session.get(Person, ctx.person_id)

                if person is not None:
                    for offset, later in enumerate(ctx.replies[index:]):
                        done = progress[0] if offset == 0 else 0
                        enqueue(session, person, later, ctx.rt.clock.now(), parts_sent=done)
            return
        if delivery is not None:
            delivery.note_direct(chat.id, progress[0])
