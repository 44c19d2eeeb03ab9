"""Shared plumbing for the benchmarks in tests/perf (not collected by pytest: no test_ names).

Databases: a migrated SQLite file in a temp directory, or a scratch PostgreSQL database on
127.0.0.1 created for the run and dropped afterwards (even on error or Ctrl-C).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

PG_SERVER = os.environ.get("PROPDESK_TEST_PG", "postgresql+asyncpg://postgres@127.0.0.1:5432")
PG_ADMIN_DB = os.environ.get("PROPDESK_TEST_PG_DB", "test")
BACKENDS = ("sqlite", "postgresql")


def backend_arg(parser: argparse.ArgumentParser, default: str = "both") -> None:
    parser.add_argument(
        "--backend",
        choices=("sqlite", "postgresql", "both"),
        default=default,
        help="database backend(s) to run against (default: %(default)s)",
    )


def chosen_backends(value: str) -> list[str]:
    return list(BACKENDS) if value == "both" else [value]


def quiet_logs() -> None:
    """Benchmarks print tables; the bot's INFO chatter would drown them."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for name in ("httpx", "apscheduler", "telegram", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)


# ------------------------------------------------------------------------------ databases


def _pg_admin_dsn() -> str:
    return PG_SERVER.replace("postgresql+asyncpg://", "postgresql://") + "/" + PG_ADMIN_DB


async def _pg_exec(*statements: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(_pg_admin_dsn(), timeout=5)
    try:
        for stmt in statements:
            await conn.execute(stmt)
    finally:
        await conn.close()


def pg_reachable() -> str | None:
    """None when PostgreSQL answers, else why not."""
    try:
        asyncio.run(_pg_exec("SELECT 1"))
    except Exception as exc:
        return f"PostgreSQL not reachable at {_pg_admin_dsn()}: {exc!r}"
    return None


@contextlib.contextmanager
def database(backend: str, tag: str, *, migrate: bool = True) -> Iterator[str]:
    """A fresh database URL at the current schema (Alembic head); removed afterwards."""
    from bot.db import upgrade

    if backend == "sqlite":
        with tempfile.TemporaryDirectory(prefix=f"propdesk-{tag}-") as tmp:
            url = f"sqlite+aiosqlite:///{os.path.join(tmp, 'bench.db')}"
            if migrate:
                upgrade(url)
            yield url
        return
    name = f"propdesk_perf_{tag}_{os.getpid()}"
    asyncio.run(
        _pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)', f'CREATE DATABASE "{name}"')
    )
    try:
        url = f"{PG_SERVER}/{name}"
        if migrate:
            upgrade(url)
        yield url
    finally:
        asyncio.run(_pg_exec(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


# ------------------------------------------------------------------------------ figures


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100) of `values`; NaN when empty."""
    if not values:
        return math.nan
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return data[lo] + (data[hi] - data[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    return percentile(values, 50)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None) -> str:
    """A plain fixed-width table (also valid Markdown) for the terminal and the README."""
    cells = [[str(h) for h in headers]] + [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]

    def line(row: Sequence[str]) -> str:
        return (
            "| "
            + " | ".join(
                c.rjust(w) if i else c.ljust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
            + " |"
        )

    out = [] if title is None else [title, ""]
    out.append(line(cells[0]))
    out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    out.extend(line(r) for r in cells[1:])
    return "\n".join(out)


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if abs(value) >= 10:
            return f"{value:.1f}"
        return f"{value:.2f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


class Stopwatch:
    """`with Stopwatch() as sw: ...` then `sw.seconds`."""

    def __enter__(self) -> Stopwatch:
        self.start = time.perf_counter()
        self.seconds = 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.start


def run_per_backend(backends: list[str], work: Callable[[str], list[Any]]) -> dict[str, list[Any]]:
    """Call work(backend) for each backend; PostgreSQL is skipped (loudly) when unreachable."""
    out: dict[str, list[Any]] = {}
    for backend in backends:
        if backend == "postgresql":
            reason = pg_reachable()
            if reason:
                print(f"!! skipping postgresql: {reason}")
                continue
        out[backend] = work(backend)
    return out
