"""Delivery of the notification outbox to Telegram.

Rows are sent oldest first, one chat at a time in order, within Telegram's limits (about 30
messages a second overall, one a second per chat). RetryAfter pauses all sending for the time
Telegram asks; network errors and timeouts are retried with backoff; 403 marks the person
unreachable, tells the office once and hands the message to a colleague of the same role.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputMediaPhoto
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
)

from bot.clock import Clock
from bot.i18n import I18n, Rendered
from models.notification import N_, Msg, Notification, Status, enqueue, msg, notify_role
from models.people import Person, Role, staff_with_role
from models.ticket import Ticket, open_button

log = logging.getLogger(__name__)

MAX_BACKOFF = timedelta(minutes=1)  # a chat bot: retry at least every minute
MARGIN = 0.02  # seconds kept in hand on Telegram's limits (timers wake a little late)

MAX_ATTEMPTS = 50  # of an error of unknown kind (network errors are retried for ever)
RECORD_ATTEMPTS = 60  # writing a send's result: about five minutes of database trouble


class Timer:
    """Monotonic time and sleep; tests swap in a fake that advances instantly."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


def keyboard(rendered: Rendered) -> InlineKeyboardMarkup | None:
    if not rendered.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(text, callback_data=data) for text, data in row]
            for row in rendered.buttons
        ]
    )


def part_count(rendered: Rendered) -> int:
    """How many Telegram messages `rendered` is: its photos (one message or one album), then
    each piece of its text."""
    return (1 if rendered.photos else 0) + len(rendered.chunks)


async def send_part(bot: Bot, chat_id: int, rendered: Rendered, index: int) -> int:
    """Send part `index` (see `part_count`); returns the id of the (last) message sent. The
    buttons go with the last piece of text."""
    if rendered.photos:
        if index == 0:
            if len(rendered.photos) == 1:
                return (await bot.send_photo(chat_id, rendered.photos[0])).message_id
            album = [InputMediaPhoto(p) for p in rendered.photos[:10]]
            return (await bot.send_media_group(chat_id, album))[-1].message_id
        index -= 1
    last = index == len(rendered.chunks) - 1
    sent = await bot.send_message(
        chat_id, rendered.chunks[index], reply_markup=keyboard(rendered) if last else None
    )
    return sent.message_id


async def send_rendered(
    bot: Bot, chat_id: int, rendered: Rendered, progress: list[int] | None = None
) -> int:
    """Send every part in order; returns the id of the last message sent. `progress[0]`
    counts the parts Telegram took, for a caller that must not send them again after a
    failure part-way."""
    done = progress if progress is not None else [0]
    message_id = 0
    while done[0] < part_count(rendered):
        message_id = await send_part(bot, chat_id, rendered, done[0])
        done[0] += 1
    return message_id


async def edit_rendered(bot: Bot, chat_id: int, message_id: int, rendered: Rendered) -> int:
    """Edit a message the bot sent into `rendered` (its first chunk; one message's worth);
    an edit that changes nothing counts as done."""
    try:
        await bot.edit_message_text(
            rendered.chunks[0],
            chat_id=chat_id,
            message_id=message_id,
            reply_markup=keyboard(rendered),
        )
    except BadRequest as exc:
        if "message is not modified" not in str(exc).lower():
            raise
    return message_id


class Delivery:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bot: Bot,
        clock: Clock,
        i18n: I18n,
        *,
        overall_per_second: float = 30.0,
        per_chat_interval: float = 1.0,
        timer: Timer | None = None,
        batch: int = 100,
    ) -> None:
        self.sessions = sessions
        self.bot = bot
        self.clock = clock
        self.i18n = i18n
        self._window: deque[float] = deque(maxlen=max(1, int(overall_per_second)))
        self.per_chat_interval = per_chat_interval + MARGIN
        self.timer = timer or Timer()
        self.batch = batch
        self._last_send = -1e9
        self._chat_last: dict[int, float] = {}
        self._paused_until = 0.0
        self._wake = asyncio.Event()
        self._stopping = False
        self.sent = 0
        self.on_sent: Callable[[Notification], Awaitable[None]] | None = None

    def kick(self) -> None:
        """Wake the loop: something was just committed to the outbox."""
        self._wake.set()

    async def run_forever(self, idle_seconds: float = 1.0) -> None:
        while not self._stopping:
            try:
                await self.drain()
            except Exception:  # the loop must outlive a database hiccup
                log.exception("outbox delivery pass failed; retrying")
                await self.timer.sleep(1.0)
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=idle_seconds)
            except TimeoutError:
                pass
            self._wake.clear()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()

    async def drain(self) -> int:
        """Send everything that is due now; returns how many messages were delivered."""
        delivered = 0
        while True:
            rows = await self._due_rows()
            if not rows:
                return delivered
            progressed = False
            waiting_chats: set[int] = set()
            for row_id, chat_id in rows:
                if chat_id in waiting_chats:
                    continue
                gap = self._chat_last.get(chat_id, -1e9) + self.per_chat_interval
                if gap > self.timer.monotonic():
                    waiting_chats.add(chat_id)
                    continue
                outcome = await self._deliver(row_id)
                if outcome == "sent":
                    delivered += 1
                if outcome != "retry":
                    progressed = True
                else:
                    waiting_chats.add(chat_id)
            if not progressed:
                soonest = min(
                    (self._chat_last.get(c, 0) + self.per_chat_interval for c in waiting_chats),
                    default=0.0,
                )
                wait = max(soonest, self._paused_until) - self.timer.monotonic()
                if wait > 0:
                    await self.timer.sleep(wait)

    async def _due_rows(self) -> list[tuple[int, int]]:
        now = self.clock.now()
        # A retry is never set further ahead than MAX_BACKOFF: a row further ahead than that
        # was scheduled before the clock stepped back (an NTP correction) and is due now.
        stepped_back = now + MAX_BACKOFF + timedelta(seconds=5)
        async with self.sessions() as session:
            # Only the oldest pending row of each chat may go: per-chat order is kept even
            # when an earlier message is waiting for a retry. Every chat's oldest row is
            # looked at, however long another chat's backlog is.
            first = (
                select(func.min(Notification.id).label("id"))
                .where(Notification.status == Status.PENDING)
                .group_by(Notification.chat_id)
                .subquery()
            )
            rows = (
                await session.execute(
                    select(Notification.id, Notification.chat_id, Notification.next_attempt_at)
                    .join(first, Notification.id == first.c.id)
                    .where(
                        or_(
                            Notification.next_attempt_at <= now,
                            Notification.next_attempt_at > stepped_back,
                        )
                    )
                    .order_by(Notification.id)
                    .limit(self.batch)
                )
            ).all()
        return [(row_id, chat_id) for row_id, chat_id, _ in rows]

    async def _deliver(self, row_id: int) -> str:
        """Try one row: 'sent', 'retry' (still pending) or 'final' (failed/undeliverable).

        No database transaction stays open while Telegram is being called. A pause Telegram
        asked for (RetryAfter) or the overall limit is waited out before the row is read, not
        after: a message withdrawn meanwhile (``staff remove``) is then not sent.
        """
        wait = self._ready_at() - self.timer.monotonic()
        if wait > 0:
            await self.timer.sleep(wait)
        async with self.sessions() as session:
            row = await session.get(Notification, row_id)
            if row is None or row.status != Status.PENDING:
                return "final"
            # The reader's language only: the person (with their roles) is loaded when a
            # refusal needs them, not for every message.
            chosen = (
                await session.scalar(select(Person.locale).where(Person.id == row.person_id))
                if row.person_id
                else None
            )
            locale = self.i18n.locale_for(chosen)
            rendered = self.i18n.render(Msg.from_json(row.body), locale)
            chat_id = row.chat_id
            part, parts = row.parts_sent, part_count(rendered)
            if part >= parts:
                # Rendered again with fewer pieces than were sent (the reader changed their
                # language meanwhile, a new translation): nothing is left to send.
                row.status, row.sent_at = Status.SENT, self.clock.now()
                await session.commit()
                return "sent"
            target: tuple[int, int] | None = None  # the message this row edits, if it edits
            if row.edit_of_id is not None:
                original = await session.get(Notification, row.edit_of_id)
                if original is None or original.message_id is None:
                    # Not sent yet (it goes first: same chat, older), or never will be.
                    waiting = original is not None and original.status == Status.PENDING
                    if waiting:
                        self._retry_later(row, self.clock.now(), RuntimeError("original pending"))
                    else:
                        row.status = Status.FAILED
                        row.error = "the message to edit was never delivered"
                    await session.commit()
                    return "retry" if waiting else "final"
                target = (original.chat_id, original.message_id)
        await self._wait_for_slot(chat_id)
        error: TelegramError | None = None
        message_id: int | None = None
        try:
            if target is not None:
                message_id = await edit_rendered(self.bot, *target, rendered)
                part, parts = 0, 1
            else:  # one part at a time, each within the limits and recorded
                message_id = await send_part(self.bot, chat_id, rendered, min(part, parts - 1))
        except TelegramError as exc:
            error = exc
        outcome = await self._record_result(row_id, error, message_id, part + 1 >= parts)
        if outcome == "sent":
            self.sent += 1
            if self.on_sent:
                await self.on_sent(row)
        return outcome

    async def _record_result(
        self, row_id: int, error: TelegramError | None, message_id: int | None, last: bool
    ) -> str:
        """Write what Telegram answered. Once Telegram has taken a part, only the writing is
        retried (the database may be restarting): the part is never sent a second time."""
        for attempt in range(RECORD_ATTEMPTS):
            try:
                async with self.sessions() as session:
                    row = await session.get(Notification, row_id)
                    if row is None:
                        return "final"
                    person = (
                        await session.get(Person, row.person_id)
                        if row.person_id and error is not None
                        else None
                    )
                    outcome = await self._record(session, row, person, error, message_id, last)
                    await session.commit()
                    return outcome
            except (DBAPIError, OSError) as exc:
                if attempt + 1 == RECORD_ATTEMPTS or self._stopping:
                    raise
                log.warning("could not record notification %s yet: %s", row_id, type(exc))
                await self.timer.sleep(min(0.1 * 2**attempt, 5.0))
        raise AssertionError("unreachable")

    async def _record(
        self,
        session: AsyncSession,
        row: Notification,
        person: Person | None,
        error: TelegramError | None,
        message_id: int | None,
        last: bool = True,
    ) -> str:
        now = self.clock.now()
        row.attempts += 1
        if error is None:
            row.message_id = message_id
            row.error = None
            if not last:  # the next part goes on its own turn (1 a second in a chat)
                row.parts_sent += 1
                row.next_attempt_at = now
                return "partial"
            row.parts_sent += 1
            row.status = Status.SENT
            row.sent_at = now
            return "sent"
        if isinstance(error, ChatMigrated):  # a group became a supergroup: its new id
            log.warning(
                "chat %s is now %s (update PROPDESK_NOTICE_CHAT if it is the notice chat)",
                row.chat_id,
                error.new_chat_id,
            )
            row.chat_id = error.new_chat_id
            row.next_attempt_at = now
            return "retry"
        if isinstance(error, RetryAfter):
            seconds = _seconds(error.retry_after)
            self._paused_until = self.timer.monotonic() + seconds
            row.error = f"RetryAfter {seconds}s"
            log.warning("Telegram asked to wait %ss; sending paused", seconds)
            return "retry"
        if isinstance(error, Forbidden) or (
            isinstance(error, BadRequest) and "chat not found" in str(error).lower()
        ):
            await self._unreachable(session, row, person, str(error), now)
            return "final"
        if isinstance(error, BadRequest):
            row.status = Status.FAILED
            row.error = str(error)[:500]
            log.error("notification %s refused by Telegram: %s", row.id, error)
            return "final"
        self._retry_later(row, now, error)  # NetworkError, TimedOut, anything else transient
        return "retry"

    def note_direct(self, chat_id: int, sends: int) -> None:
        """A handler's reply went to Telegram directly (not through the outbox): count its
        messages against the overall and per-chat limits the outbox keeps to."""
        now = self.timer.monotonic()
        for _ in range(sends):
            self._window.append(now)
        if sends:
            self._chat_last[chat_id] = now

    def note_retry_after(self, retry_after: Any) -> None:
        """Telegram told a handler's reply to wait (RetryAfter.retry_after): the outbox waits
        too."""
        until = self.timer.monotonic() + _seconds(retry_after)
        self._paused_until = max(self._paused_until, until)

    def _ready_at(self) -> float:
        """When the next send may go: after a RetryAfter pause and within the overall limit."""
        ready = self._paused_until
        if len(self._window) == self._window.maxlen:
            ready = max(ready, self._window[0] + 1.0 + MARGIN)
        return ready

    async def _wait_for_slot(self, chat_id: int) -> None:
        """At most `overall_per_second` sends in any window of a second (plus a small margin),
        counted over the sends themselves, so a late wake-up does not slow the next ones."""
        mono = self.timer.monotonic()
        ready = self._ready_at()
        if ready > mono:
            await self.timer.sleep(ready - mono)
        self._last_send = self.timer.monotonic()
        self._window.append(self._last_send)
        self._chat_last[chat_id] = self._last_send
        if len(self._chat_last) > 10_000:  # only the last second matters: keep memory bounded
            horizon = self._last_send - self.per_chat_interval
            self._chat_last = {c: t for c, t in self._chat_last.items() if t >= horizon}

    def _retry_later(self, row: Notification, now: datetime, exc: Exception) -> None:
        """Try again later. A network error or a Telegram outage is waited out however long
        it lasts (at most a minute between tries): what is queued is never lost to it. Only an
        error of an unknown kind, repeated MAX_ATTEMPTS times, fails the row."""
        row.error = f"{type(exc).__name__}: {exc}"[:500]
        if not isinstance(exc, NetworkError) and row.attempts >= MAX_ATTEMPTS:
            row.status = Status.FAILED
            log.error("notification %s given up after %s attempts: %s", row.id, row.attempts, exc)
            return
        backoff = min(timedelta(seconds=2 ** min(row.attempts, 12)), MAX_BACKOFF)
        row.next_attempt_at = now + backoff
        log.warning("notification %s: %s; retry in %s", row.id, row.error, backoff)

    async def _unreachable(
        self,
        session: AsyncSession,
        row: Notification,
        person: Person | None,
        reason: str,
        now: datetime,
    ) -> None:
        row.status = Status.UNDELIVERABLE
        row.error = reason[:500]
        if person is None:
            log.error("notification %s to chat %s undeliverable: %s", row.id, row.chat_id, reason)
            return
        first_time = person.unreachable_at is None
        person.unreachable_at = now
        if first_time:
            notice = msg(
                "⚠️ {name} cannot be reached in Telegram: they have not opened the bot or have "
                "blocked it. Please ask them to open the bot and send /start.",
                name=person.name,
            )
            for role in (Role.RECEPTIONIST, Role.ADMIN):
                for colleague in await staff_with_role(session, role):
                    if colleague.id != person.id and colleague.unreachable_at is None:
                        enqueue(session, colleague, notice, now)
        fallback = row.body.get("fallback_role")
        if fallback:
            await self._hand_over(session, row, person, fallback, now)

    async def _hand_over(
        self, session: AsyncSession, row: Notification, person: Person, role: str, now: datetime
    ) -> None:
        """Give a message meant for an unreachable person to the next reachable colleague."""
        building = row.body.get("fallback_building")
        for colleague in await staff_with_role(session, Role(role), building):
            if colleague.id != person.id and colleague.unreachable_at is None:
                body: dict[str, Any] = dict(row.body)
                body.pop("fallback_role", None)
                handed = Msg.from_json(body)
                handed.lines.insert(
                    0, (N_("(Forwarded: {name} cannot be reached.)"), {"name": person.name})
                )
                if handed.buttons:  # they act for the holder only: pressing would be refused
                    handed.buttons = []
                    handed.add(
                        N_(
                            "The job is still {name}'s: the front desk has been asked to give "
                            "it to you or to someone else."
                        ),
                        name=person.name,
                    )
                    await self._ask_desk(session, row, person, colleague, building, now)
                enqueue(session, colleague, handed, now, ticket_id=row.ticket_id)
                return
        await notify_role(
            session,
            Role.SUPERVISOR,
            msg(
                "⚠️ Nobody with the role {role} can be reached for: {what}",
                role=role,
                what=Msg.from_json(row.body),
            ),
            now,
        )

    @staticmethod
    async def _ask_desk(
        session: AsyncSession,
        row: Notification,
        person: Person,
        colleague: Person,
        building: str | None,
        now: datetime,
    ) -> None:
        """The front desk decides who does the work (派单): tell them which job is stuck with
        an unreachable holder, with a button to open it and give it to someone else."""
        ticket = await session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None:
            return
        body = msg(
            N_(
                "⚠️ {ref} could not be delivered to {name}, who cannot be reached; {colleague} "
                "has a copy for information. Please give it to someone who can act on it."
            ),
            ref=ticket.ref,
            name=person.name,
            colleague=colleague.name,
        )
        body.button_row(open_button(ticket))
        await notify_role(
            session, Role.RECEPTIONIST, body, now, building=building, ticket_id=ticket.id
        )


def _seconds(value: Any) -> float:
    if isinstance(value, timedelta):
        return value.total_seconds()
    return float(value)
