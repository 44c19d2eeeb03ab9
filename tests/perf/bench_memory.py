"""Memory: the bot's resident size idle, and with N repair conversations in progress.

The bot is the real Application from `bot.app.build_application`, started the way
`run_polling` starts it (`initialize()`, `post_init`, `start()`, `updater.start_polling()`
over the in-process emulator, the outbox delivery loop and the sweep job running, the real
clock). It runs in a fresh interpreter per backend (a `spawn`ed child), so the figures are
that process's alone: the database set-up (migration, units, codes, bulk binding) is done by
the parent and nothing of it is in the measured heap.

Measured (VmRSS and VmHWM from /proc/self/status of the bot's process):
  1. idle: after start-up, 2 s of idling and a gc.collect();
  2. after N owners (default 10,000) each started /repair and answered its first two steps
     ("In my home", "Water supply"), so N drafts wait at the description step;
  3. the same after a forced gc.collect().
Each owner is bound to its own unit: units imported with `import_units` and a code issued
with `issue_unit_code` per unit in set-up; binding with `/start CODE` through the bot
(`--bind bot`), or in bulk in the database (`--bind db`, the default: see the README).

The emulator lives in the bot's process. By default it runs "history-light" (`--emulator
light`): no call log, no list of callback answers, the last message per chat only. What it
still holds (a user, a chat and its last message per owner, the per-chat command menus) is
measured as the deep size of those objects and reported, with the net figure beside it.
`--emulator full` keeps the stock emulator's whole history, to show what it would add.
`--trace N` additionally runs tracemalloc and prints the N allocation sites that grew most
between idle and the end (slow, inflates RSS: use it with fewer owners).

    PYTHONPATH=. /work/venv/bin/python tests/perf/bench_memory.py \
        [--backend sqlite|postgresql|both] [--owners 10000] [--concurrency 200] \
        [--bind db|bot] [--emulator light|full] [--trace 25]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import sys
import time
from collections import deque
from collections.abc import Collection
from dataclasses import asdict, dataclass, field
from typing import Any

OWNER_BASE = 500_000
TOKEN = "123456:PERF-TOKEN"
BASE_URL = "http://127.0.0.1/bot"  # never contacted: EmulatorRequest answers in-process
STEP_TIMEOUT = 120.0
WARM = 20  # the first owners, after which the "warm" figure is taken (caches filled)
CHUNK = 2_000  # rows per set-up statement batch

# (label, kind, what the owner sends/presses, a text the bot's reply must contain)
BIND_STEP = ("/start CODE", "text", "/start {code}", "You are now linked to unit")
STEPS: list[tuple[str, str, str, str]] = [
    ("/repair", "text", "/repair", "New repair request"),
    ("In my home", "press", "In my home", "What kind of problem"),
    ("Water supply", "press", "Water supply", "Please describe the problem"),
]
DRAFT_STEP = "description"  # where the drafts wait after the steps above
STAFF = [
    (2001, "receptionist", "Wang Fang", ()),
    (3001, "technician", "Zhang Wei", ("1",)),
    (3002, "technician", "Liu Qiang", ("1",)),
    (3301, "supervisor", "Sun Boss", ()),
]


def uid_of(i: int) -> int:
    return OWNER_BASE + i


def unit_code(uid: int) -> str:
    return f"1-{uid // 100}-{uid % 100 + 100}"


def proc_status() -> dict[str, int]:
    """VmRSS, VmHWM, ... of this process, in kB."""
    out: dict[str, int] = {}
    with open("/proc/self/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key.startswith("Vm") or key.startswith("Rss"):
                out[key] = int(value.split()[0])
    return out


def rss_mb() -> float:
    return proc_status()["VmRSS"] / 1024


# ------------------------------------------------------------------------------ set-up


async def _seed(url: str, owners: int, bind: str) -> dict[int, str]:
    """Staff, one unit and one code per owner; bound in bulk when bind == "db".

    Returns the codes (uid → code) the owners send with /start when bind == "bot".
    """
    from sqlalchemy import insert, select, update

    from bot.clock import SystemClock
    from bot.db import make_engine, make_sessions
    from models.invite import InviteCode, issue_unit_code
    from models.people import Person, add_staff
    from models.property import Unit, UnitBinding, UnitRow, import_units

    now = SystemClock().now()
    engine = make_engine(url)
    sessions = make_sessions(engine)
    codes: dict[int, str] = {}
    try:
        async with sessions() as s, s.begin():
            for tg_id, role, name, buildings in STAFF:
                person = await add_staff(
                    s, name=name, roles=[role], buildings=list(buildings), telegram_id=tg_id,
                    now=now,
                )  # fmt: skip
                person.locale = "en"
        uids = [uid_of(i) for i in range(owners)]
        for start in range(0, owners, CHUNK):
            part = uids[start : start + CHUNK]
            async with sessions() as s, s.begin():
                rows = [
                    UnitRow(0, unit_code(uid), "1", None, f"Owner {uid}", f"138{uid:08d}")
                    for uid in part
                ]
                await import_units(s, rows, now)
                units = {
                    u.code: u
                    for u in (
                        await s.execute(select(Unit).where(Unit.code.in_([r.unit for r in rows])))
                    ).scalars()
                }
                for uid in part:
                    codes[uid] = await issue_unit_code(s, units[unit_code(uid)], now, 30)
                if bind != "db":
                    continue
                # Bulk binding: what redeem() leaves behind, written directly (see README).
                await s.execute(
                    insert(Person),
                    [
                        {"telegram_id": uid, "name": f"Owner{uid}", "locale": "en",
                         "created_at": now}
                        for uid in part
                    ],
                )  # fmt: skip
                person_ids = dict(
                    (
                        await s.execute(
                            select(Person.telegram_id, Person.id).where(
                                Person.telegram_id.in_(part)
                            )
                        )
                    ).all()
                )
                await s.execute(
                    insert(UnitBinding),
                    [
                        {"person_id": person_ids[uid], "unit_id": units[unit_code(uid)].id,
                         "relation": "owner", "created_at": now}
                        for uid in part
                    ],
                )  # fmt: skip
                unit_ids = [units[unit_code(uid)].id for uid in part]
                invites = dict(
                    (
                        await s.execute(
                            select(InviteCode.unit_id, InviteCode.id).where(
                                InviteCode.unit_id.in_(unit_ids)
                            )
                        )
                    ).all()
                )
                await s.execute(  # ORM bulk UPDATE by primary key: one executemany
                    update(InviteCode),
                    [
                        {"id": invites[units[unit_code(uid)].id], "used_at": now,
                         "used_by_id": person_ids[uid]}
                        for uid in part
                    ],
                )  # fmt: skip
    finally:
        await engine.dispose()
    return codes if bind == "bot" else {}


# ------------------------------------------------------------------------------ the bot's process


@dataclass
class Figures:
    backend: str
    owners: int
    bind: str
    emulator: str
    concurrency: int
    rss_start: float = 0.0  # after imports, before the Application is built
    rss_idle: float = 0.0
    rss_warm: float = 0.0
    rss_loaded: float = 0.0
    rss_gc: float = 0.0
    hwm: float = 0.0
    emu_mb: float = 0.0
    emu_detail: dict[str, float] = field(default_factory=dict)
    gc_objects_idle: int = 0
    gc_objects_end: int = 0
    structures: dict[str, tuple[int, float]] = field(default_factory=dict)
    pool: str = ""
    drafts: int = 0
    drafts_at_step: int = 0
    updates: int = 0
    drive_s: float = 0.0
    cpu_s: float = 0.0
    errors: list[str] = field(default_factory=list)
    trace: list[str] = field(default_factory=list)
    curve: list[tuple[int, float]] = field(default_factory=list)


def deep_size(roots: list[Any], seen: set[int] | None = None, follow: tuple[type, ...] = ()) -> int:
    """Bytes of the plain data reachable from roots (containers, str, numbers, the emulator's
    dataclasses and the classes in `follow`), each object counted once; functions, classes,
    modules and futures are not followed."""
    from bot.emulator import EmuChat, EmuMessage, EmuUser

    seen = set() if seen is None else seen
    leaves = (str, bytes, int, float, bool, type(None))
    records = (EmuUser, EmuChat, EmuMessage, *follow)
    containers = (dict, list, tuple, set, frozenset, deque, *records)
    total = 0
    stack = list(roots)
    while stack:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        if not isinstance(obj, leaves + containers):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        if isinstance(obj, dict):
            stack.extend(obj.keys())
            stack.extend(obj.values())
        elif isinstance(obj, (list, tuple, set, frozenset, deque)):
            stack.extend(obj)
        elif isinstance(obj, records):
            stack.append(obj.__dict__)
    return total


class _Discard(list[Any]):
    """A list that keeps nothing (the light emulator's call log and callback answers)."""

    def append(self, item: Any) -> None:
        pass


def make_emulator(light: bool) -> Any:
    from bot.emulator import BotApiEmulator, EmuMessage

    class MemEmulator(BotApiEmulator):
        """The emulator plus a hook resolving a waiter on the bot's reply; optionally light."""

        KEEP = 1

        def __init__(self, **kw: Any) -> None:
            super().__init__(**kw)
            self.light = light
            if light:
                self.call_log = _Discard()
                self.callback_answers = _Discard()
            self.waiting: dict[int, tuple[str, asyncio.Future[EmuMessage]]] = {}

        def _new_message(self, chat_id: int, **fields: Any) -> EmuMessage:
            message = super()._new_message(chat_id, **fields)
            if self.light:
                history = self.history[chat_id]
                if len(history) > self.KEEP:
                    del history[: -self.KEEP]
            pending = self.waiting.get(chat_id)
            if message.from_bot and pending is not None and not pending[1].done():
                expected, future = pending
                if expected in message.content:
                    future.set_result(message)
                    del self.waiting[chat_id]
                elif "went wrong" in message.content or "did not understand" in message.content:
                    future.set_exception(AssertionError(f"error reply {message.content!r}"))
                    del self.waiting[chat_id]
            return message

        def expect(self, chat_id: int, text: str) -> asyncio.Future[EmuMessage]:
            future: asyncio.Future[EmuMessage] = asyncio.get_running_loop().create_future()
            self.waiting[chat_id] = (text, future)
            return future

    return MemEmulator(token=TOKEN)


def emulator_sizes(emu: Any) -> dict[str, float]:
    """Deep size (MB) of what the emulator holds, by attribute; each object counted once."""
    seen: set[int] = set()
    out: dict[str, float] = {}
    for name in (
        "history", "users", "chats", "my_commands", "call_log", "callback_answers",
        "_next_message_id", "updates", "_open_queries", "menu_buttons", "files", "waiting",
    ):  # fmt: skip
        out[name] = deep_size([getattr(emu, name)], seen) / 2**20
    return out


async def _bot_run(url: str, fig: Figures, codes: dict[int, str], trace: int) -> None:
    from sqlalchemy import func, select
    from telegram import Update

    from bot.app import build_application
    from bot.clock import SystemClock
    from bot.config import load_settings
    from bot.emulator import EmulatorRequest
    from bot.flood import FloodGuard, _Bucket
    from models.draft import Draft

    clock = SystemClock()
    emu = make_emulator(fig.emulator == "light")
    settings = load_settings(token=TOKEN, database_url=url, api_base_url=BASE_URL)
    app, rt = build_application(
        settings,
        clock=clock,
        request=EmulatorRequest(emu),
        updates_request=EmulatorRequest(emu),
        run_delivery=True,
        run_sweep_job=True,
    )
    for tg_id, _role, name, _buildings in STAFF:
        emu.add_user(tg_id, name, "en")
    await app.initialize()
    if app.post_init is not None:
        await app.post_init(app)
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(
        allowed_updates=[Update.MESSAGE, Update.CALLBACK_QUERY, Update.EDITED_MESSAGE]
    )
    try:
        await asyncio.sleep(2.0)  # the sweep job's first run (first=1 s) is part of idle
        gc.collect()
        fig.rss_idle = rss_mb()
        fig.gc_objects_idle = len(gc.get_objects())
        if trace:
            import tracemalloc

            idle_snapshot = tracemalloc.take_snapshot()

        async def step(uid: int, update: dict[str, Any], expected: str) -> Any:
            reply = emu.expect(uid, expected)
            emu.enqueue(update)
            return await asyncio.wait_for(reply, STEP_TIMEOUT)

        async def owner(i: int) -> None:
            uid = uid_of(i)
            emu.add_user(uid, f"Owner{uid}", "en")
            if fig.bind == "bot":
                code = codes.pop(uid)
                await step(uid, emu.text_update(uid, f"/start {code}"), BIND_STEP[3])
            last = None
            for label, kind, payload, expected in STEPS:
                if kind == "text":
                    update = emu.text_update(uid, payload)
                else:
                    assert last is not None
                    update = emu.press(uid, last, payload)
                try:
                    last = await step(uid, update, expected)
                except Exception as exc:
                    raise AssertionError(f"owner {uid}, step {label!r}: {exc!r}") from exc

        errors: list[str] = []
        queue = iter(range(min(WARM, fig.owners), fig.owners))

        # RSS each time another tenth of the owners is through: linear growth or a plateau?
        done = [min(WARM, fig.owners)]
        marks = [fig.owners * k // 10 for k in range(1, 11) if fig.owners * k // 10 > done[0]]
        marks.append(fig.owners + 1)

        async def worker() -> None:
            for i in queue:
                try:
                    await owner(i)
                except Exception as exc:  # counted and reported; the run goes on
                    emu.waiting.pop(uid_of(i), None)
                    if len(errors) < 20:
                        errors.append(str(exc))
                    else:
                        errors.append("")
                done[0] += 1
                if done[0] >= marks[0]:
                    fig.curve.append((done[0], rss_mb()))
                    marks.pop(0)

        cpu0 = time.process_time()
        t0 = time.perf_counter()
        # The first WARM owners alone (one at a time): after them the caches are filled.
        warm = min(WARM, fig.owners)
        for i in range(warm):
            try:
                await owner(i)
            except Exception as exc:
                errors.append(str(exc))
        await asyncio.sleep(0.2)
        fig.rss_warm = rss_mb()
        await asyncio.gather(*(worker() for _ in range(fig.concurrency)))
        fig.drive_s = time.perf_counter() - t0
        fig.cpu_s = time.process_time() - cpu0
        per_owner = len(STEPS) + (fig.bind == "bot")
        fig.updates = fig.owners * per_owner
        fig.errors = [e for e in errors if e][:10] + (
            [f"... {len(errors)} owners failed in all"] if len(errors) > 10 else []
        )
        await asyncio.sleep(1.0)  # command menus published after /start, delivery idle
        fig.rss_loaded = rss_mb()
        gc.collect()
        fig.rss_gc = rss_mb()
        status = proc_status()
        fig.hwm = status["VmHWM"] / 1024
        fig.gc_objects_end = len(gc.get_objects())
        if trace:  # before the deep sizes below, which materialize instance __dict__s
            snapshot = tracemalloc.take_snapshot()
            stats = snapshot.compare_to(idle_snapshot, "lineno")
            grown = sum(st.size_diff for st in stats) / 2**20
            fig.trace = [f"all sites: {grown:+.1f} MB of live Python allocations"] + [
                f"{st.size_diff / 1024:10,.0f} KiB {st.count_diff:+9,d} blocks  "
                f"{st.traceback[0].filename.replace(os.getcwd() + '/', '')}:"
                f"{st.traceback[0].lineno}"
                for st in stats[:trace]
            ]
            del snapshot, idle_snapshot, stats
        fig.emu_detail = emulator_sizes(emu)
        fig.emu_mb = sum(fig.emu_detail.values())
        flood = rt.extras["flood"]
        assert isinstance(flood, FloodGuard) and rt.delivery is not None
        per_user: dict[str, Collection[Any]] = {  # name → (entries, deep size MB)
            "FloodGuard._buckets (bot/flood.py)": flood._buckets,
            "Delivery._chat_last (bot/delivery.py)": rt.delivery._chat_last,
            "PTB Application._user_ids_to_be_updated_in_persistence": (
                app._user_ids_to_be_updated_in_persistence
            ),
            "PTB Application._chat_ids_to_be_updated_in_persistence": (
                app._chat_ids_to_be_updated_in_persistence
            ),
            "PTB Application.user_data": app._user_data,
            "PTB Application.chat_data": app._chat_data,
        }
        fig.structures = {
            name: (len(obj), deep_size([obj], follow=(_Bucket,)) / 2**20)
            for name, obj in per_user.items()
        }
        fig.pool = rt.engine.pool.status()
        async with rt.sessions() as s:
            fig.drafts = int(await s.scalar(select(func.count()).select_from(Draft)) or 0)
            fig.drafts_at_step = int(
                await s.scalar(
                    select(func.count())
                    .select_from(Draft)
                    .where(Draft.flow == "repair", Draft.step == DRAFT_STEP)
                )
                or 0
            )
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
        if app.post_shutdown is not None:
            await app.post_shutdown(app)


def bot_process(url: str, fig_dict: dict[str, Any], codes: dict[int, str], trace: int,
                conn: Any) -> None:  # fmt: skip
    """The measured process (a spawned child): build, start, load, measure."""
    try:
        if trace:
            import tracemalloc

            tracemalloc.start()
        fig = Figures(**fig_dict)
        from tests.perf._common import quiet_logs

        quiet_logs()
        # What a `propdesk run` process has imported before it builds the Application.
        import bot.app  # noqa: F401

        gc.collect()
        fig.rss_start = rss_mb()
        asyncio.run(_bot_run(url, fig, codes, trace))
        conn.send(asdict(fig))
    except BaseException as exc:
        conn.send({"crash": f"{type(exc).__name__}: {exc}"})
        raise
    finally:
        conn.close()


# ------------------------------------------------------------------------------ the parent


def run_backend(backend: str, args: argparse.Namespace) -> tuple[Figures | None, float, float]:
    from bot.db import upgrade
    from tests.perf._common import Stopwatch, database

    with Stopwatch() as total, database(backend, "mem", migrate=False) as url:
        with Stopwatch() as setup:
            upgrade(url)
            codes = asyncio.run(_seed(url, args.owners, args.bind))
        print(f"  {backend}: set-up {setup.seconds:.1f} s ({args.owners:,} units and codes"
              f"{', bound in bulk' if args.bind == 'db' else ''})", flush=True)  # fmt: skip
        fig = Figures(backend, args.owners, args.bind, args.emulator, args.concurrency)
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe(duplex=False)
        proc = ctx.Process(
            target=bot_process, args=(url, asdict(fig), codes, args.trace, child), daemon=True
        )
        del codes
        proc.start()
        child.close()
        try:
            result = parent.recv()
        except EOFError:
            result = {"crash": "the bot's process ended without an answer"}
        proc.join(60)
        if proc.is_alive():
            proc.kill()
            proc.join()
    if "crash" in result:
        print(f"!! {backend}: {result['crash']}")
        return None, setup.seconds, total.seconds
    return Figures(**result), setup.seconds, total.seconds


def main(argv: list[str] | None = None) -> int:
    from tests.perf._common import backend_arg, chosen_backends, quiet_logs, run_per_backend, table

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    backend_arg(parser)
    parser.add_argument("--owners", type=int, default=10_000, help="owners (default 10,000)")
    parser.add_argument(
        "--concurrency", type=int, default=200, help="owners talking at once (default 200)"
    )
    parser.add_argument(
        "--bind",
        choices=("db", "bot"),
        default="db",
        help="bind owners in bulk in the database (default) or with /start CODE via the bot",
    )
    parser.add_argument(
        "--emulator",
        choices=("light", "full"),
        default="light",
        help="emulator history kept: last message per chat (default) or everything",
    )
    parser.add_argument(
        "--trace", type=int, default=0, metavar="N",
        help="tracemalloc: print the N allocation sites that grew most (slow; inflates RSS)",
    )  # fmt: skip
    args = parser.parse_args(argv)
    if args.owners < 1 or args.concurrency < 1:
        parser.error("--owners and --concurrency must be positive")
    quiet_logs()
    steps = ([BIND_STEP[0]] if args.bind == "bot" else []) + [s[0] for s in STEPS]
    print(
        f"{args.owners:,} owners, {args.concurrency} at a time, each: {', '.join(steps)}; "
        f"binding: {'via the bot' if args.bind == 'bot' else 'in bulk in the database'}; "
        f"emulator: {args.emulator}{'; tracemalloc on' if args.trace else ''}"
    )
    print(
        "load average at start: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" ({os.cpu_count()} CPUs)",
        flush=True,
    )

    def work(backend: str) -> list[tuple[Figures | None, float, float]]:
        return [run_backend(backend, args)]

    results = run_per_backend(chosen_backends(args.backend), work)
    done = [(f, setup, wall) for rs in results.values() for f, setup, wall in rs if f]
    print()
    print(
        table(
            [
                "backend",
                "owners",
                "RSS idle MB",
                "RSS with N MB",
                "RSS after gc MB",
                "delta MB",
                "per conv KB",
                "peak MB",
                "drafts",
                "wall s",
            ],
            [
                [
                    f.backend,
                    f.owners,
                    f.rss_idle,
                    f.rss_loaded,
                    f.rss_gc,
                    f.rss_gc - f.rss_idle,
                    (f.rss_gc - f.rss_idle) * 1024 / f.owners,
                    f.hwm,
                    f"{f.drafts:,}" + ("" if f.drafts == f.drafts_at_step == f.owners else " (!)"),
                    wall,
                ]
                for f, _setup, wall in done
            ],
            title="Resident set size of the bot's process (VmRSS; peak = VmHWM); delta and per "
            "conversation: after gc − idle",
        )
    )
    print()
    print(
        table(
            [
                "backend",
                "RSS imports MB",
                "idle MB",
                "warm MB",
                "emulator MB",
                "net delta MB",
                "net per conv KB",
                "gc objects idle",
                "gc objects end",
                "updates",
                "updates/s",
                "CPU ms/upd",
                "set-up s",
            ],
            [
                [
                    f.backend,
                    f.rss_start,
                    f.rss_idle,
                    f.rss_warm,
                    f.emu_mb,
                    f.rss_gc - f.rss_idle - f.emu_mb,
                    (f.rss_gc - f.rss_idle - f.emu_mb) * 1024 / f.owners,
                    f.gc_objects_idle,
                    f.gc_objects_end,
                    f.updates,
                    f.updates / f.drive_s if f.drive_s else float("nan"),
                    f.cpu_s * 1000 / f.updates if f.updates else float("nan"),
                    setup,
                ]
                for f, setup, _wall in done
            ],
            title=f"Breakdown (warm: after the first {WARM} owners; emulator: deep size of what "
            "the in-process emulator holds; net = after gc − idle − emulator)",
        )
    )
    for f, _setup, _wall in done:
        print()
        print(
            f"{f.backend}: emulator holds "
            + ", ".join(f"{k} {v:.1f} MB" for k, v in f.emu_detail.items() if v >= 0.05)
        )
        print(f"{f.backend}: structures keyed by user or chat (entries, deep size):")
        for name, (entries, mb) in f.structures.items():
            print(f"   {name}: {entries:,} entries, {mb:.2f} MB")
        print(f"{f.backend}: connection pool at the end: {f.pool}")
        print(
            f"{f.backend}: RSS (MB) as owners got through: "
            + ", ".join(f"{n:,}: {mb:.1f}" for n, mb in f.curve)
        )
        if f.trace:
            print(f"{f.backend}: tracemalloc, growth idle → end by allocation site:")
            for line in f.trace:
                print("   " + line)
    failed = len(done) < len(results)
    for f, _setup, _wall in done:
        if not f.drafts == f.drafts_at_step == f.owners:
            print(f"!! {f.backend}: {f.drafts:,} drafts ({f.drafts_at_step:,} at step "
                  f"{DRAFT_STEP!r}) for {f.owners:,} owners")  # fmt: skip
            failed = True
        for e in f.errors:
            print(f"!! {f.backend}: {e}")
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
