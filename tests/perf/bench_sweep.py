"""The deadline sweep: its cost must grow with what is due, not with what is open.

A database is filled (core bulk inserts) with OPEN open deadlines of which DUE are due, then
`models.deadline.sweep(sessions, now, env)` is timed: the median of several runs, the fired
rows re-armed (fired_at back to NULL) and their effects deleted between runs. Sizes: 10,000 and
100,000 open, with 1,000 and with 0 due. The query plan of the claim query (the exact SQL the
sweep sent, captured from the engine) is printed for each backend.

Deadline kind. The main figures use a kind registered here, "bench.noop", whose effect is one
trivial write (a notification row queued for a chat, as most real effects do), so the numbers
are the sweep's own machinery: the claim (which loads the rows), the outbox INSERT, the
commit.
The real handlers' cost depends on what each does, so it is measured separately: with
`--real` (default on) 1,000 real "repair.dispatch" reminders (level 1) on 1,000 waiting
repair tickets in a staffed office are swept as well, among 100,000 open deadlines.

    PYTHONPATH=. /work/venv/bin/python tests/perf/bench_sweep.py \
        [--backend sqlite|postgresql|both] [--open 10000,100000] [--due 1000] [--runs 5]
        [--no-real]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, event, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

import models.all  # noqa: F401  (every table and every registered deadline handler)
from bot.db import make_engine, make_sessions
from models.deadline import Deadline, Due, on_due, sweep
from models.env import Env
from models.notification import Notification, enqueue_chat, msg
from models.people import add_staff
from models.repair import Repair
from models.ticket import Ticket
from tests.perf._common import (
    backend_arg,
    chosen_backends,
    database,
    median,
    quiet_logs,
    run_per_backend,
    table,
)

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # Friday 10:00 office time
NOOP = "bench.noop"
BENCH_CHAT = -100_777
TARGET_MS = 100.0
CHUNK = 5_000


@on_due(NOOP)
async def _bench_noop(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """The smallest realistic effect: one outbox row."""
    enqueue_chat(session, BENCH_CHAT, msg("bench {id}", id=d.id), now)


# ------------------------------------------------------------------------------ data


async def fill(
    engine: AsyncEngine,
    sessions: async_sessionmaker[AsyncSession],
    open_total: int,
    due: int,
    real: int,
) -> None:
    """`open_total` open deadlines; `due` of them due (spread over the last `due` seconds),
    the rest in the next 30 days. With `real`, that many of the due ones are level-1
    "repair.dispatch" reminders of waiting repair tickets in a staffed office."""
    if real:
        async with sessions() as s:
            for tg, role, name in (
                (2001, "receptionist", "Wang"),
                (3001, "technician", "Zhang"),
                (3002, "technician", "Liu"),
                (3301, "supervisor", "Sun"),
            ):
                await add_staff(
                    s,
                    name=name,
                    roles=[role],
                    buildings=["1"] if role == "technician" else [],
                    telegram_id=tg,
                    now=NOW,
                )
            await s.commit()
        async with engine.begin() as conn:
            await conn.execute(
                insert(Ticket),
                [
                    {
                        "id": i + 1,
                        "kind": "R",
                        "ref": f"R-20261127-{i + 1:04d}",
                        "state": "new",
                        "summary": f"bench ticket {i}",
                        "created_at": NOW - timedelta(hours=1),
                        "updated_at": NOW - timedelta(hours=1),
                        "version": 1,
                    }
                    for i in range(real)
                ],
            )
            await conn.execute(
                insert(Repair),
                [
                    {
                        "ticket_id": i + 1,
                        "scope": "public",
                        "category": "water",
                        "description": f"bench {i}",
                        "location": "lobby",
                        "building": "1",
                        "photos": [],
                        "fees_accepted": [],
                        "reopen_count": 0,
                    }
                    for i in range(real)
                ],
            )
    rows: list[dict[str, Any]] = []
    for i in range(open_total):
        if i < due:
            due_at = NOW - timedelta(seconds=due - i)
        else:
            due_at = NOW + timedelta(hours=1) + timedelta(seconds=(i * 2_591_993) % 2_592_000)
        is_real = i < real
        rows.append(
            {
                "ticket_id": i + 1 if is_real else None,
                "kind": "repair.dispatch" if is_real else NOOP,
                "level": 1,
                "due_at": due_at,
                "created_at": NOW - timedelta(hours=2),
                "data": {},
            }
        )
    async with engine.begin() as conn:
        for start in range(0, len(rows), CHUNK):
            await conn.execute(insert(Deadline), rows[start : start + CHUNK])
        # planner statistics, as a database that has lived a while has them
        await conn.execute(text("ANALYZE"))


async def rearm(sessions: async_sessionmaker[AsyncSession]) -> None:
    """Undo a sweep: the fired rows open again, their effects gone."""
    async with sessions() as s, s.begin():
        await s.execute(
            update(Deadline)
            .where(Deadline.fired_at.is_not(None))
            .values(fired_at=None, error=None)
            .execution_options(synchronize_session=False)
        )
        await s.execute(delete(Notification))


# ------------------------------------------------------------------------------ timing


@dataclass
class Timing:
    backend: str
    kind: str
    open_total: int
    due: int
    runs: list[float]
    fired: int
    failed: int
    cpu: list[float]

    def row(self) -> list[Any]:
        ms = median(self.runs) * 1000
        verdict = "—"
        if self.due >= 1000:
            verdict = "yes" if ms < TARGET_MS else "NO"
        return [
            self.backend,
            self.kind,
            self.open_total,
            self.due,
            len(self.runs),
            ms,
            min(self.runs) * 1000,
            max(self.runs) * 1000,
            median(self.cpu) * 1000,
            ms / self.due * 1000 if self.due else float("nan"),
            self.fired,
            self.failed,
            verdict,
        ]


async def time_sweeps(
    sessions: async_sessionmaker[AsyncSession],
    now: datetime,
    env: Env,
    runs: int,
    expect: int,
) -> tuple[list[float], int, int, list[float]]:
    seconds: list[float] = []
    cpu: list[float] = []
    fired = failed = 0
    for _ in range(runs):
        c = time.process_time()
        t = time.perf_counter()
        result = await sweep(sessions, now, env)
        seconds.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        fired, failed = result.fired, result.failed
        if result.fired + result.failed != expect:
            raise AssertionError(
                f"sweep fired {result.fired}, failed {result.failed}; expected {expect} due"
            )
        if expect:
            await rearm(sessions)
    return seconds, fired, failed, cpu


class Capture:
    """The claim statement exactly as the sweep sent it (SQL and parameters)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.sql: str | None = None
        self.params: Any = None
        event.listen(engine.sync_engine, "before_cursor_execute", self._seen)

    def _seen(self, conn: Any, cursor: Any, statement: str, params: Any, *_: Any) -> None:
        if self.sql is None and statement.lstrip().upper().startswith("UPDATE DEADLINE"):
            self.sql, self.params = statement, params


async def explain(engine: AsyncEngine, capture: Capture) -> str:
    assert capture.sql is not None, "the sweep sent no claim statement"
    async with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            trans = await conn.begin()  # EXPLAIN ANALYZE executes the UPDATE: roll it back
            rows = await conn.exec_driver_sql(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY ON) " + capture.sql,
                capture.params,
            )
            lines = [r[0] for r in rows]
            await trans.rollback()
        else:
            plan = await conn.exec_driver_sql("EXPLAIN QUERY PLAN " + capture.sql, capture.params)
            lines = [str(r[-1]) for r in plan]  # (id, parent, notused, detail)
    return "\n".join("    " + line for line in lines)


async def bench_size(
    url: str,
    backend: str,
    open_total: int,
    due: int,
    runs: int,
    real: int,
    explain_out: dict[str, str],
) -> list[Timing]:
    engine = make_engine(url)
    sessions = make_sessions(engine)
    env = Env()
    out: list[Timing] = []
    try:
        t = time.perf_counter()
        await fill(engine, sessions, open_total, due, real)
        fill_s = time.perf_counter() - t
        async with sessions() as s:
            total = await s.scalar(select(func.count()).select_from(Deadline))
        print(
            f"  {backend}: {total:,} open deadlines ({due:,} due"
            + (f", {real:,} of them real repair.dispatch" if real else "")
            + f") inserted in {fill_s:.1f} s",
            flush=True,
        )
        kind = "repair.dispatch" if real else NOOP
        if not real:  # (the real handlers take seconds: their first run is not thrown away)
            capture = Capture(engine)
            # warm-up (statement caches, prepared statements), also the plan's source
            await sweep(sessions, NOW, env)
            await rearm(sessions)
            key = f"{backend}, {kind}, {open_total:,} open, {due:,} due"
            explain_out[key] = await explain(engine, capture)
        secs, fired, failed, cpu = await time_sweeps(sessions, NOW, env, runs, due)
        out.append(Timing(backend, kind, open_total, due, secs, fired, failed, cpu))
        if not real:
            # nothing due: a 'now' before the earliest due_at
            early = NOW - timedelta(seconds=due + 60)
            secs, fired, failed, cpu = await time_sweeps(sessions, early, env, max(runs, 20), 0)
            out.append(Timing(backend, NOOP, open_total, 0, secs, fired, failed, cpu))
    finally:
        await engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    backend_arg(parser)
    parser.add_argument(
        "--open",
        default="10000,100000",
        help="comma-separated open-deadline counts (default %(default)s)",
    )
    parser.add_argument("--due", type=int, default=1000, help="how many are due (default 1000)")
    parser.add_argument("--runs", type=int, default=5, help="timed sweeps per size (median)")
    parser.add_argument("--real-runs", type=int, default=2, help="timed sweeps of the real kind")
    parser.add_argument(
        "--real",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also sweep DUE real repair.dispatch reminders among the largest "
        "open count (default on)",
    )
    args = parser.parse_args(argv)
    quiet_logs()
    sizes = [int(x) for x in args.open.split(",") if x]
    print(
        "load average at start: "
        + " ".join(f"{x:.2f}" for x in os.getloadavg())
        + f" ({os.cpu_count()} CPUs)"
    )
    plans: dict[str, str] = {}

    def work(backend: str) -> list[Timing]:
        timings: list[Timing] = []
        for size in sizes:
            with database(backend, "sweep") as url:
                timings += asyncio.run(
                    bench_size(url, backend, size, args.due, args.runs, 0, plans)
                )
        if args.real:
            with database(backend, "sweepreal") as url:
                timings += asyncio.run(
                    bench_size(url, backend, max(sizes), args.due, args.real_runs, args.due, plans)
                )
        return timings

    results = run_per_backend(chosen_backends(args.backend), work)
    rows = [t.row() for ts in results.values() for t in ts]
    print()
    print(
        table(
            [
                "backend",
                "kind",
                "open",
                "due",
                "runs",
                "median ms",
                "min ms",
                "max ms",
                "CPU ms",
                "µs per due",
                "fired",
                "failed",
                f"< {TARGET_MS:.0f} ms",
            ],
            rows,
            title="models.deadline.sweep(sessions, now, env)",
        )
    )
    print()
    print(
        "Plan of the claim query (UPDATE ... WHERE id IN (SELECT ... LIMIT 200) RETURNING id),"
        " first batch:"
    )
    for key, plan in plans.items():
        if NOOP in key:
            print(f"  {key}:")
            print(plan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
