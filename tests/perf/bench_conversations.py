"""N owners filing a repair request at the same time, against the bot run as in production.

The bot is the real Application from `bot.app.build_application`, started the way
`run_polling` starts it: `initialize()`, `post_init`, `start()`, `updater.start_polling()`
(long-poll getUpdates), with the outbox delivery loop and the sweep job running. Telegram is
the in-process emulator (`EmulatorRequest`), so no socket is opened. Each simulated owner
behaves like a person: it sends one step, waits for the bot's reply, then sends the next.
Latency is measured from the moment an update is queued in the emulator to the moment the
bot's first reply message for that chat is created in the emulator (a hook, not polling).

The same harness then drives a minimal python-telegram-bot echo bot (same transport, same
owners, same 7 steps) as a baseline: PropDesk/echo is the cost of the desk's own work. The
minimal bot is run twice: with python-telegram-bot's defaults (one update at a time) and with
`concurrent_updates(True)`, since PropDesk handles different people's updates concurrently.
A third baseline per backend, "echo + 1 durable write", is the concurrent echo bot that reads
and writes one row per update in a committed transaction before it answers: the least a
form step that survives a crash costs on the customer's stack, whatever the desk does.
`--api-latency-ms` adds Telegram's round trip to every Bot API call but the long poll.

    PYTHONPATH=. /work/venv/bin/python tests/perf/bench_conversations.py \
        [--backend sqlite|postgresql|both] [--owners 50] [--solo 5] [--api-latency-ms 0]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from bot.app import build_application
from bot.clock import SystemClock
from bot.config import load_settings
from bot.emulator import BotApiEmulator, EmulatorRequest, EmuMessage
from models.invite import issue_unit_code
from models.people import Person, add_staff
from models.property import UnitRow, import_units, unit_by_code
from models.ticket import Kind, Ticket
from tests.perf._common import (
    Stopwatch,
    backend_arg,
    chosen_backends,
    database,
    percentile,
    quiet_logs,
    run_per_backend,
    table,
)

TOKEN = "123456:PERF-TOKEN"
BASE_URL = "http://127.0.0.1/bot"  # never contacted: EmulatorRequest answers in-process
OWNER_BASE = 500_000
STEP_TIMEOUT = 60.0
ALLOWED = [Update.MESSAGE, Update.CALLBACK_QUERY, Update.EDITED_MESSAGE]

# (label, kind, what the owner sends/presses, a text the bot's reply must contain)
STEPS: list[tuple[str, str, str, str]] = [
    ("/repair", "text", "/repair", "New repair request"),
    ("In my home", "press", "In my home", "What kind of problem"),
    ("Water supply", "press", "Water supply", "Please describe the problem"),
    ("description", "text", "{description}", "You can send up to"),
    ("Skip photos", "press", "Skip photos", "When can the technician come"),
    ("As soon as possible", "press", "As soon as possible", "Please check your request"),
    ("Submit", "press", "Submit", "Your repair request has been filed. Reference: R-"),
]
PLACES = ["kitchen", "bathroom", "balcony", "laundry", "hallway", "bedroom", "garage"]
FAULTS = ["tap drips", "pipe leaks", "valve is stuck", "no hot water", "low pressure"]


def description(i: int) -> str:
    """Distinct enough per owner that duplicate detection never refuses one."""
    return f"Owner {i}: the {PLACES[i % 7]} {FAULTS[i % 5]} since {1 + i % 28} days, case {i}"


class TimedEmulator(BotApiEmulator):
    """The emulator plus a hook: the time each bot message to a chat was created."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self._bot_count: dict[int, int] = {}
        self._waiting: dict[int, tuple[int, asyncio.Future[float]]] = {}

    def _new_message(self, chat_id: int, **fields: Any) -> EmuMessage:
        message = super()._new_message(chat_id, **fields)
        if message.from_bot:
            now = time.perf_counter()
            count = self._bot_count.get(chat_id, 0) + 1
            self._bot_count[chat_id] = count
            pending = self._waiting.get(chat_id)
            if pending is not None and count > pending[0] and not pending[1].done():
                pending[1].set_result(now)
                del self._waiting[chat_id]
        return message

    def reply_after(self, chat_id: int, mark: int) -> asyncio.Future[float]:
        """A future set to the perf_counter time of the first bot message after `mark`."""
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting[chat_id] = (mark, future)
        return future


@dataclass
class Sample:
    step: str
    seconds: float


@dataclass
class Outcome:
    owner: int
    samples: list[Sample] = field(default_factory=list)
    reference: str | None = None
    error: str | None = None


def _find_button(emu: BotApiEmulator, message: EmuMessage, label: str) -> bool:
    return any(label in text for text, _ in emu.buttons(message))


async def converse(emu: TimedEmulator, uid: int, i: int, *, echo: bool) -> Outcome:
    """One owner: the 7 steps, each waiting for the bot's reply before the next."""
    out = Outcome(uid)
    last: EmuMessage | None = None
    try:
        for label, kind, payload, expected in STEPS:
            mark = emu.mark(uid)
            if kind == "text":
                update = emu.text_update(uid, payload.format(description=description(i)))
            elif echo:
                assert last is not None
                update = emu.callback_update(uid, last, f"f:repair:x:{label[:20]}")
            else:
                assert last is not None and _find_button(emu, last, payload), (
                    f"no button {payload!r} on the bot's reply {last.content if last else None!r}"
                )
                update = emu.press(uid, last, payload)
            reply = emu.reply_after(uid, mark)
            sent = time.perf_counter()
            emu.enqueue(update)
            arrived = await asyncio.wait_for(reply, STEP_TIMEOUT)
            out.samples.append(Sample(label, arrived - sent))
            last = emu.new_messages(uid, mark)[0]
            if not echo and expected not in last.content:
                raise AssertionError(f"step {label!r}: unexpected reply {last.content!r}")
        if not echo:
            assert last is not None
            out.reference = last.content.rsplit(" ", 1)[1]
    except Exception as exc:  # recorded and reported: a benchmark must not hide errors
        out.error = f"{type(exc).__name__}: {exc}"
    return out


# ------------------------------------------------------------------------------ the bots


@dataclass
class Running:
    app: Application
    emu: TimedEmulator
    stop: Callable[[], Awaitable[None]]
    db_check: Callable[[list[Outcome]], Awaitable[str]] | None = None
    prepare: Callable[[list[int]], Awaitable[None]] | None = None


async def start_app(app: Application) -> None:
    """What Application.run_polling does before idling (and post_init, which it also calls)."""
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(allowed_updates=ALLOWED)


async def stop_app(app: Application) -> None:
    assert app.updater is not None
    await app.updater.stop()
    await app.stop()
    await app.shutdown()
    if app.post_shutdown is not None:
        await app.post_shutdown(app)


async def propdesk(url: str) -> Running:
    # The real clock, as in production: it moves, so every update also records last_seen_at.
    clock = SystemClock()
    emu = TimedEmulator(token=TOKEN)
    settings = load_settings(token=TOKEN, database_url=url, api_base_url=BASE_URL)
    app, rt = build_application(
        settings,
        clock=clock,
        request=EmulatorRequest(emu),
        updates_request=EmulatorRequest(emu),
        run_delivery=True,
        run_sweep_job=True,
    )
    # A staffed office, as the repair tests have: the receptionist gets every new repair via
    # the outbox, the technicians are listed as dispatch buttons.
    staff = [
        (2001, "receptionist", "Wang Fang", ()),
        (3001, "technician", "Zhang Wei", ("1",)),
        (3002, "technician", "Liu Qiang", ("1",)),
        (3301, "supervisor", "Sun Boss", ()),
    ]
    for tg_id, _role, name, _buildings in staff:
        emu.add_user(tg_id, name, "en")
    async with rt.uow() as s:
        for tg_id, role, name, buildings in staff:
            person = await add_staff(
                s,
                name=name,
                roles=[role],
                buildings=list(buildings),
                telegram_id=tg_id,
                now=clock.now(),
            )
            person.locale = "en"
    await start_app(app)

    async def prepare(uids: list[int]) -> None:
        """Units, one-time codes and /start CODE for every owner (not measured)."""
        codes: dict[int, str] = {}
        async with rt.uow() as s:
            rows = [  # one unit per owner: duplicate detection is per unit
                UnitRow(
                    0,
                    f"1-{uid // 100}-{uid % 100 + 100}",
                    "1",
                    None,
                    f"Owner {uid}",
                    f"138{uid:08d}",
                )
                for uid in uids
            ]
            await import_units(s, rows, clock.now())
        async with rt.uow() as s:
            for row, uid in zip(rows, uids, strict=True):
                unit = await unit_by_code(s, row.unit)
                assert unit is not None
                codes[uid] = await issue_unit_code(s, unit, clock.now(), 30)
        for uid in uids:
            emu.add_user(uid, f"Owner{uid}", "en")

        async def bind(uid: int) -> None:
            mark = emu.mark(uid)
            reply = emu.reply_after(uid, mark)
            emu.enqueue(emu.text_update(uid, f"/start {codes[uid]}"))
            await asyncio.wait_for(reply, STEP_TIMEOUT)

        await asyncio.gather(*(bind(uid) for uid in uids))
        # let the command-menu calls that /start schedules after its reply finish
        await asyncio.sleep(0.2)

    async def db_check(outcomes: list[Outcome]) -> str:
        async with rt.sessions() as s:
            total = await s.scalar(
                select(func.count()).select_from(Ticket).where(Ticket.kind == Kind.REPAIR.value)
            )
            mine = {
                tg: ref
                for tg, ref in (
                    await s.execute(
                        select(Person.telegram_id, Ticket.ref).join(
                            Ticket, Ticket.owner_id == Person.id
                        )
                    )
                ).all()
            }
        wrong = [
            o.owner for o in outcomes if o.reference is None or mine.get(o.owner) != o.reference
        ]
        if total != len(outcomes) or wrong:
            return f"FAILED: {total} tickets for {len(outcomes)} owners, mismatched: {wrong[:5]}"
        return f"ok: {total} tickets, each owner got their own reference"

    return Running(app, emu, lambda: stop_app(app), db_check, prepare)


async def echo_bot(
    concurrent: bool = False, before: Callable[[Update], Awaitable[None]] | None = None
) -> Running:
    """The minimal bot: python-telegram-bot's defaults, or with `concurrent_updates(True)`;
    `before` runs ahead of each reply (the durable-echo baseline's write)."""
    emu = TimedEmulator(token=TOKEN)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.message is not None and update.message.text is not None
        if before is not None:
            await before(update)
        await update.message.reply_text(update.message.text)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None and update.effective_chat is not None
        if before is not None:
            await before(update)
        await query.answer()
        await context.bot.send_message(update.effective_chat.id, f"pressed {query.data}")

    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(BASE_URL)
        .request(EmulatorRequest(emu))
        .get_updates_request(EmulatorRequest(emu))
        .concurrent_updates(concurrent)
        .build()
    )
    app.add_handler(MessageHandler(filters.TEXT, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    await start_app(app)

    async def prepare(uids: list[int]) -> None:
        for uid in uids:
            emu.add_user(uid, f"Owner{uid}", "en")

    return Running(app, emu, lambda: stop_app(app), None, prepare)


async def durable_echo_bot(url: str) -> Running:
    """The floor under a crash-safe form step on the customer's stack: the concurrent echo
    bot that, before each reply, reads the person's step and writes the next one in one
    committed transaction (SQLAlchemy Core, no ORM, the bot's own engine settings: WAL and
    `synchronous=NORMAL` on SQLite, pooled asyncpg on PostgreSQL). PropDesk does this and
    more per update (the person with their roles, the draft, the reply's text), so its rate
    cannot exceed this bot's."""
    from sqlalchemy import BigInteger, Column, Integer, MetaData, Table
    from sqlalchemy.dialects.postgresql import insert as pg_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    from bot.db import make_engine

    engine = make_engine(url)
    meta = MetaData()
    steps = Table(
        "floor_steps",
        meta,
        Column("chat_id", BigInteger, primary_key=True),
        Column("step", Integer, nullable=False),
        Column("last_update_id", BigInteger, nullable=False),
    )
    async with engine.begin() as conn:
        await conn.run_sync(meta.create_all)
    insert = sqlite_insert if url.startswith("sqlite") else pg_insert
    # One writer at a time on SQLite, as PropDesk's unit of work does (bot.runtime).
    writer = asyncio.Lock() if url.startswith("sqlite") else None

    async def remember(update: Update) -> None:
        chat = update.effective_chat
        assert chat is not None

        async def write() -> None:
            async with engine.begin() as conn:
                step = (
                    await conn.execute(select(steps.c.step).where(steps.c.chat_id == chat.id))
                ).scalar()
                stmt = insert(steps).values(
                    chat_id=chat.id, step=(step or 0) + 1, last_update_id=update.update_id
                )
                new = {"step": stmt.excluded.step, "last_update_id": stmt.excluded.last_update_id}
                await conn.execute(
                    stmt.on_conflict_do_update(index_elements=[steps.c.chat_id], set_=new)
                )

        if writer is None:
            await write()
        else:
            async with writer:
                await write()

    running = await echo_bot(concurrent=True, before=remember)
    stop_bot = running.stop

    async def stop() -> None:
        await stop_bot()
        await engine.dispose()

    running.stop = stop
    return running


# ------------------------------------------------------------------------------ the run


@dataclass
class Result:
    name: str
    owners: int
    updates: int
    walls: list[float]
    latencies: list[float]
    errors: list[str]
    check: str
    solo: dict[str, float] = field(default_factory=dict)
    api_errors: int = 0
    cpu: list[float] = field(default_factory=list)

    @property
    def rates(self) -> list[float]:
        per_run = self.updates / len(self.walls) if self.walls else 0
        return [per_run / w for w in self.walls if w]

    @property
    def cpu_per_update(self) -> float:
        return sum(self.cpu) / self.updates if self.updates else float("nan")

    @property
    def rate(self) -> float:
        """Median over the runs of updates/s."""
        return percentile(self.rates, 50)

    def row(self) -> list[Any]:
        ms = [x * 1000 for x in self.latencies]
        return [
            self.name,
            self.owners,
            self.updates,
            percentile(self.walls, 50),
            self.rate,
            "/".join(f"{r:.0f}" for r in self.rates),
            percentile(ms, 50),
            percentile(ms, 95),
            percentile(ms, 99),
            max(ms, default=0.0),
            self.cpu_per_update * 1000,
            len(self.errors),
            self.api_errors,
        ]


async def measure(
    name: str, running: Running, owners: int, solo: int, runs: int, echo: bool
) -> Result:
    emu = running.emu
    assert running.prepare is not None
    # Unloaded service time: `solo` owners one after another, nobody else talking. The first
    # one also warms the caches (SQLAlchemy statement cache, catalogs, prepared statements).
    solo_uids = [OWNER_BASE + 900_000 + n for n in range(solo + 1)]
    await running.prepare(solo_uids)
    errors_before = emu.stats.errors
    solo_samples: dict[str, list[float]] = {}
    all_outcomes: list[Outcome] = []
    for n, uid in enumerate(solo_uids):
        outcome = await converse(emu, uid, 900_000 + n, echo=echo)
        all_outcomes.append(outcome)
        for sample in outcome.samples if n else []:
            solo_samples.setdefault(sample.step, []).append(sample.seconds * 1000)
    # The load: every owner at once, each waiting for each reply like a person. Each run has
    # fresh owners (bound before the clock starts), so the daily limit never interferes.
    walls: list[float] = []
    cpu: list[float] = []
    latencies: list[float] = []
    for run in range(runs):
        uids = [OWNER_BASE + run * 10_000 + n for n in range(owners)]
        await running.prepare(uids)
        cpu_start = time.process_time()
        with Stopwatch() as sw:
            outcomes = await asyncio.gather(
                *(converse(emu, uid, run * 10_000 + n, echo=echo) for n, uid in enumerate(uids))
            )
        cpu.append(time.process_time() - cpu_start)
        walls.append(sw.seconds)
        latencies += [s.seconds for o in outcomes for s in o.samples]
        all_outcomes += outcomes
    errors = [f"owner {o.owner}: {o.error}" for o in all_outcomes if o.error]
    check = "n/a (echo)"
    if running.db_check is not None:
        check = await running.db_check(all_outcomes)
    bad_replies = [
        m.content
        for o in all_outcomes
        for m in emu.messages(o.owner)
        if "something went wrong" in m.content
    ]
    errors += [f"error reply: {t[:80]}" for t in bad_replies]
    return Result(
        name,
        owners,
        len(latencies),
        walls,
        latencies,
        errors,
        check,
        {k: percentile(v, 50) for k, v in solo_samples.items()},
        emu.stats.errors - errors_before,
        cpu,
    )


async def run_one(
    kind: str, url: str | None, owners: int, solo: int, runs: int, latency: float = 0.0
) -> Result:
    if kind == "propdesk":
        assert url is not None
        running = await propdesk(url)
    elif kind == "durable-echo":
        assert url is not None
        running = await durable_echo_bot(url)
    else:
        running = await echo_bot(concurrent=kind == "echo-concurrent")
    # Telegram's round trip, for every Bot API call but the long poll (0: in-process, as fast
    # as the emulator answers; a real bot sees tens to hundreds of milliseconds).
    running.emu.latency(latency)
    try:
        return await measure(kind, running, owners, solo, runs, echo=kind != "propdesk")
    finally:
        await running.stop()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    backend_arg(parser)
    parser.add_argument("--owners", type=int, default=50, help="concurrent owners (default 50)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs, fresh owners each")
    parser.add_argument(
        "--solo",
        type=int,
        default=5,
        help="owners who first go through the form alone, for the unloaded per-step time",
    )
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=0.0,
        help="added to every Bot API call but getUpdates: Telegram's round trip (default 0)",
    )
    args = parser.parse_args(argv)
    latency = args.api_latency_ms / 1000
    quiet_logs()
    print(
        f"{args.owners} concurrent owners × {len(STEPS)} steps × {args.runs} runs; steps: "
        + ", ".join(s[0] for s in STEPS)
    )
    print(
        "load average at start: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" ({os.cpu_count()} CPUs)"
    )

    print(f"Bot API latency: {args.api_latency_ms:g} ms per call (getUpdates excluded)")

    echo = asyncio.run(run_one("echo", None, args.owners, args.solo, args.runs, latency))
    echo_c = asyncio.run(
        run_one("echo-concurrent", None, args.owners, args.solo, args.runs, latency)
    )

    def work(backend: str) -> list[Result]:
        with database(backend, "conv") as url:
            result = asyncio.run(
                run_one("propdesk", url, args.owners, args.solo, args.runs, latency)
            )
        result.name = f"PropDesk {backend}"
        with database(backend, "floor", migrate=False) as url:
            floor = asyncio.run(
                run_one("durable-echo", url, args.owners, args.solo, args.runs, latency)
            )
        floor.name = f"echo + 1 durable write, {backend}"
        return [result, floor]

    results = run_per_backend(chosen_backends(args.backend), work)
    rows = [r for rs in results.values() for r in rs]
    echo.name = "echo bot (baseline)"
    echo_c.name = "echo bot, concurrent"
    all_rows = [*rows, echo, echo_c]
    print()
    print(
        table(
            [
                "bot",
                "owners",
                "updates",
                "wall s",
                "updates/s",
                "per run",
                "p50 ms",
                "p95 ms",
                "p99 ms",
                "max ms",
                "CPU ms/upd",
                "errors",
                "API 4xx",
            ],
            [r.row() for r in all_rows],
            title=f"Concurrent repair conversations ({args.owners} owners, each waits for each "
            f"reply; wall and updates/s: median of {args.runs} runs; latencies over all runs)",
        )
    )
    print()
    print(
        table(
            [
                "bot",
                "updates/s",
                "ratio PropDesk/echo",
                "ratio PropDesk/concurrent echo",
                "CPU per update × echo",
                "correctness",
            ],
            [
                [
                    r.name,
                    r.rate,
                    r.rate / echo.rate if echo.rate else float("nan"),
                    r.rate / echo_c.rate if echo_c.rate else float("nan"),
                    r.cpu_per_update / echo.cpu_per_update if echo.cpu_per_update else float("nan"),
                    r.check,
                ]
                for r in rows
            ],
            title="Throughput relative to the echo bot (CPU: this process, per update)",
        )
    )
    print()
    steps = [s[0] for s in STEPS]
    print(
        table(
            ["step", *[r.name for r in all_rows]],
            [[s, *[r.solo.get(s, float("nan")) for r in all_rows]] for s in steps],
            title=f"Unloaded reply time per step, median of {args.solo} owners alone, after one "
            "warm-up owner (ms)",
        )
    )
    failed = False
    for r in all_rows:
        for e in r.errors[:10]:
            print(f"!! {r.name}: {e}")
        failed |= bool(r.errors) or r.check.startswith("FAILED")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
