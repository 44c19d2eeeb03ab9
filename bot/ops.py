"""Operator tools: `propdesk health` and `propdesk export`."""

from __future__ import annotations

import asyncio
import csv
import logging
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import func, make_url, or_, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import selectinload
from telegram import Bot
from telegram.error import BadRequest, NetworkError, RetryAfter

from bot.config import Settings
from bot.db import current_revision, head_revision, make_engine
from models.notification import Notification, Status
from models.people import Person
from models.ticket import Ticket

TICKET_COLUMNS = [
    "ref", "kind", "state", "unit", "owner", "assignee", "created_at", "updated_at",
    "closed_at", "summary",
]  # fmt: skip
EVENT_COLUMNS = ["ref", "at", "actor", "action", "from_state", "to_state", "note", "details"]
# What an event's data may show in the office's records: amounts, ratings, the follow-up's
# answer, materials, meter readings, who it went to. Never the masked ID number (`id`) nor
# internal ids.
EVENT_DETAILS = (
    "amount", "rating", "satisfied", "opinion", "prevention", "class", "major", "share_unit",
    "scope", "channel", "received_at", "late", "on_the_spot", "technician", "responsible",
    "delegate", "name", "spec", "model", "quantity", "unit_price", "water", "electricity",
    "reason", "why", "approve", "by_owner", "from", "to", "unit", "repair", "complaint",
    "claim", "claimant", "receipt", "document", "since",
)  # fmt: skip


def details(data: dict[str, object] | None) -> str:
    """An event's data as ``key=value; …`` from EVENT_DETAILS, in the order recorded."""
    if not data:
        return ""
    return "; ".join(
        f"{k}={v}" for k, v in data.items() if k in EVENT_DETAILS and v not in (None, "")
    )


HEALTH_TIMEOUT_S = 10.0  # per part: a check that hangs is as bad as one that fails


def short_reason(exc: BaseException, secret: str | None = None) -> str:
    """An error as one short line for the operator's monitoring: never the bot token (PTB puts
    it in InvalidToken's message), never several lines of SQL."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        exc = exc.orig  # the driver's own words, without SQLAlchemy's "[SQL: …]" block
    text = " ".join(str(exc).split())
    if secret:
        text = text.replace(secret, "<token>")
    return f"{type(exc).__name__}: {text[:200]}" if text else type(exc).__name__


def _missing_sqlite_file(url: str) -> Path | None:
    """The SQLite file the URL names when it does not exist (connecting would create it)."""
    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("sqlite"):
        return None
    name = parsed.database or ""
    if not name or name.startswith(":memory:") or name.startswith("file:"):
        return None
    path = Path(name)
    return None if path.exists() else path.resolve()


async def _database(settings: Settings) -> list[str]:
    missing = _missing_sqlite_file(settings.database_url)
    if missing is not None:
        return [
            f"database: no database file at {missing} (check PROPDESK_DATABASE_URL and the "
            "working directory; `propdesk db upgrade` creates it)"
        ]
    engine = make_engine(
        settings.database_url,
        **(
            {"connect_args": {"timeout": HEALTH_TIMEOUT_S, "command_timeout": HEALTH_TIMEOUT_S}}
            if settings.database_url.startswith("postgresql+asyncpg")
            else {}
        ),
    )
    try:
        revision = await current_revision(engine)
        head = head_revision()
        if revision != head:
            # (an older schema may lack the outbox table: the schema is what to fix first)
            return [
                f"database: schema {revision or '(none)'} but {head} is needed "
                "(`propdesk db upgrade`)"
            ]
        lines = [f"database: ok (schema {revision})"]
        async with engine.connect() as conn:
            pending, oldest = (
                await conn.execute(
                    select(func.count(), func.min(Notification.created_at)).where(
                        Notification.status == Status.PENDING
                    )
                )
            ).one()
        lines.append(f"outbox: {pending} pending" + (f" since {oldest}" if oldest else ""))
        return lines
    finally:
        try:
            await asyncio.wait_for(engine.dispose(), HEALTH_TIMEOUT_S)
        except Exception:  # (a connection stuck in a lock, a timeout: let it go)
            pass


STARTUP_RETRY_MAX_S = 60.0


async def wait_for_bot_api(
    settings: Settings, token: str, log: logging.Logger, *, delay: float = 1.0
) -> str:
    """getMe until the Bot API answers, one warning line per failed try: a bot started while
    the network or Telegram is down comes up when it is back. A refused token (InvalidToken)
    or another answer from Telegram is raised at once: waiting would not change it."""
    while True:
        try:
            return await asyncio.wait_for(_telegram(settings, token), HEALTH_TIMEOUT_S)
        except RetryAfter as exc:
            after = exc.retry_after
            seconds = after.total_seconds() if isinstance(after, timedelta) else float(after)
            wait, why = max(delay, seconds), short_reason(exc, token)
        except BadRequest:
            raise
        except (NetworkError, TimeoutError, OSError) as exc:  # (TimedOut is a NetworkError)
            wait, why = delay, short_reason(exc, token)
        log.warning(
            "cannot reach the Bot API at %s (%s); trying again in %g s",
            settings.api_base_url, why, wait,
        )  # fmt: skip
        await asyncio.sleep(wait)
        delay = min(delay * 2, STARTUP_RETRY_MAX_S)


async def _telegram(settings: Settings, token: str) -> str:
    bot = Bot(token, base_url=settings.api_base_url, base_file_url=settings.file_url)
    async with bot:
        me = await bot.get_me()
    return f"telegram: ok (@{me.username})"


async def health(settings: Settings) -> tuple[bool, list[str]]:
    """Check the database (reachable, schema current) and the Bot API (getMe), each within
    HEALTH_TIMEOUT_S: a database locked by a restore or a proxy that never answers is
    reported as such, not waited on."""
    ok = True
    lines: list[str] = []
    try:
        lines += await asyncio.wait_for(_database(settings), HEALTH_TIMEOUT_S)
        ok = lines[0].startswith("database: ok")
    except TimeoutError:
        ok = False
        lines.append(f"database: no answer within {HEALTH_TIMEOUT_S:g} s")
    except Exception as exc:
        ok = False
        lines.append(f"database: unreachable ({short_reason(exc)})")
    token = settings.token.get_secret_value() if settings.token is not None else ""
    if not token:
        return False, [*lines, "telegram: not checked, PROPDESK_TOKEN is not set"]
    try:
        lines.append(await asyncio.wait_for(_telegram(settings, token), HEALTH_TIMEOUT_S))
    except TimeoutError:
        ok = False
        lines.append(f"telegram: no answer within {HEALTH_TIMEOUT_S:g} s")
    except Exception as exc:
        ok = False
        lines.append(f"telegram: unreachable ({short_reason(exc, token)})")
    return ok, lines


def _local(moment: datetime | None, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M") if moment else ""


async def export_rows(
    sessions: async_sessionmaker[AsyncSession], tz: ZoneInfo, since: date | None
) -> tuple[list[list[str]], list[list[str]]]:
    """Tickets and their events as CSV rows: office times, names of owners and staff, no phone
    or ID numbers."""
    tickets: list[list[str]] = []
    events: list[list[str]] = []
    async with sessions() as session:
        if session.get_bind().dialect.name == "postgresql":
            # One snapshot for every query: the bot may write while the export reads.
            await session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
        names = {
            pid: name for pid, name in (await session.execute(select(Person.id, Person.name))).all()
        }
        query = (
            select(Ticket)
            .options(selectinload(Ticket.events))
            .order_by(Ticket.created_at, Ticket.id)
        )
        start = datetime.combine(since, time(), tz) if since is not None else None
        if start is not None:  # what happened since: new tickets, and steps on older ones
            query = query.where(or_(Ticket.created_at >= start, Ticket.updated_at >= start))
        for t in (await session.execute(query)).scalars():
            tickets.append([
                t.ref, t.kind, t.state, t.unit.code if t.unit else "",
                names.get(t.owner_id or 0, ""), names.get(t.assignee_id or 0, ""),
                _local(t.created_at, tz), _local(t.updated_at, tz), _local(t.closed_at, tz),
                t.summary,
            ])  # fmt: skip
            for e in t.events:
                if start is not None and e.at < start:
                    continue
                events.append([
                    t.ref, _local(e.at, tz), names.get(e.actor_id or 0, "system"), e.action,
                    e.from_state or "", e.to_state or "", e.note or "", details(e.data),
                ])  # fmt: skip
    return tickets, events


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")


def safe_cell(value: str) -> str:
    """A cell a spreadsheet shows as text: what owners type (a description, their Telegram
    name) must not run as a formula when the office opens the file (CSV injection)."""
    if value.lstrip(" \u3000").startswith(_FORMULA_START):
        return "'" + value
    return value


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    """UTF-8 with a BOM, which Excel needs to read Chinese text correctly."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows([safe_cell(cell) for cell in row] for row in rows)
