"""Start `propdesk sandbox` as its own process, as a person would, and find its URL."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "sandbox"
START = "2026-11-27T10:00"  # a Friday morning, office open: the same moments on every run
URL_PREFIX = "PropDesk sandbox: "


@dataclass
class SandboxProcess:
    proc: subprocess.Popen[str]
    url: str
    seconds_to_url: float
    output: list[str] = field(default_factory=list)


def _reader(proc: subprocess.Popen[str], lines: queue.Queue[str | None]) -> None:
    assert proc.stdout is not None
    for line in proc.stdout:
        lines.put(line.rstrip("\n"))
    lines.put(None)


@contextmanager
def sandbox_process(
    *args: str, lang: str = "en", prefix: list[str] | None = None, env: dict[str, str] | None = None
) -> Iterator[SandboxProcess]:
    """`python -m bot sandbox --port 0 …` (or behind `prefix`, e.g. an audit-hook wrapper);
    yields once it printed its URL, stops it with SIGTERM afterwards."""
    command = prefix or [sys.executable, "-m", "bot"]
    full_env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    for name in ("PROPDESK_CONFIG", "PROPDESK_DATABASE_URL", "PROPDESK_TOKEN"):
        full_env.pop(name, None)
    started = time.monotonic()
    proc = subprocess.Popen(
        [*command, "sandbox", "--port", "0", "--lang", lang, "--start", START, *args],
        cwd=ROOT, env=full_env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str | None] = queue.Queue()
    threading.Thread(target=_reader, args=(proc, lines), daemon=True).start()
    output: list[str] = []
    url = ""
    try:
        deadline = started + 30
        while not url:
            try:
                line = lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                raise AssertionError(f"no URL within 30 s; output: {output}") from None
            if line is None:
                raise AssertionError(f"the sandbox ended: {output}")
            output.append(line)
            if line.startswith(URL_PREFIX):
                url = line.removeprefix(URL_PREFIX).strip()
        yield SandboxProcess(proc, url, time.monotonic() - started, output)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        while True:
            try:
                rest = lines.get(timeout=1)
            except queue.Empty:
                break
            if rest is None:
                break
            output.append(rest)
