"""The sandbox's pieces on their own: its clock, Telegram's menu rules, pictures, the CLI."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import build_parser, main
from bot.clock import ManualClock, OffsetClock
from bot.sandbox.api import image_type
from bot.sandbox.chats import SandboxEmulator
from tests.browser.test_sandbox_repair import png

T0 = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("PROPDESK_"):
            monkeypatch.delenv(name)
    yield


def test_offset_clock_runs_with_real_time_from_its_start_and_only_jumps_forward() -> None:
    real = ManualClock(T0)
    clock = OffsetClock(real, start=T0 - timedelta(days=3))
    assert clock.now() == T0 - timedelta(days=3)
    real.advance(timedelta(seconds=90))
    assert clock.now() == T0 - timedelta(days=3) + timedelta(seconds=90)
    clock.jump(timedelta(hours=1))
    assert clock.now() == T0 - timedelta(days=3) + timedelta(hours=1, seconds=90)
    with pytest.raises(ValueError):
        clock.jump(timedelta(minutes=-1))
    with pytest.raises(ValueError):
        OffsetClock(real, start=datetime(2026, 11, 27, 10, 0))
    assert OffsetClock(real).now() == real.now()


async def test_the_menu_a_chat_shows_follows_telegrams_scope_and_language_order() -> None:
    emu = SandboxEmulator(token="1:T")
    user = emu.add_user(5, "Li", "zh-hans")
    other = emu.add_user(6, "Wu", "en")

    async def set_commands(command: str, scope: dict[str, object] | None, lang: str) -> None:
        params = {"commands": [{"command": command, "description": command}]}
        if scope:
            params["scope"] = scope
        if lang:
            params["language_code"] = lang
        status, body = await emu.handle("setMyCommands", params)
        assert status == 200, body

    assert emu.menu(user) == []
    await set_commands("default", None, "")
    await set_commands("zh_default", None, "zh")
    assert [c["command"] for c in emu.menu(user)] == ["zh_default"]
    assert [c["command"] for c in emu.menu(other)] == ["default"]
    await set_commands("mine", {"type": "chat", "chat_id": 5}, "")
    assert [c["command"] for c in emu.menu(user)] == ["mine"]
    assert [c["command"] for c in emu.menu(other)] == ["default"]
    version = emu.version
    await set_commands("mine_zh", {"type": "chat", "chat_id": 5}, "zh")
    assert [c["command"] for c in emu.menu(user)] == ["mine_zh"]
    assert emu.version > version  # a new menu is something the page must draw


def test_only_pictures_are_served_as_pictures() -> None:
    assert image_type(png()) == "image/png"
    assert image_type(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert image_type(b"GIF89a...") == "image/gif"
    assert image_type(b"RIFF\0\0\0\0WEBPVP8 ") == "image/webp"
    for other in (b"", b"<svg onload=alert(1)>", b"<html>", b"\xff\xd8 emulated"):
        assert image_type(other) is None


def test_the_sandbox_command_line() -> None:
    args = build_parser().parse_args(["sandbox"])
    assert (args.host, args.port, args.lang, args.db, args.start) == (
        "127.0.0.1", 8080, None, None, None,
    )  # fmt: skip
    args = build_parser().parse_args(
        ["sandbox", "--port", "0", "--lang", "en", "--db", "x.db", "--start", "2026-11-27T10:00"]
    )
    assert (args.port, args.lang, args.db) == (0, "en", Path("x.db"))
    assert args.start == datetime(2026, 11, 27, 10, 0)
    for bad in (["--lang", "fr"], ["--port", "70000"], ["--port", "x"], ["--start", "soon"]):
        assert main(["sandbox", *bad]) == 2


def test_sandbox_refuses_a_missing_folder_and_a_busy_port(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sandbox", "--db", str(tmp_path / "no" / "x.db")]) == 2
    assert "does not exist" in capsys.readouterr().err
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["sandbox", "--port", str(port), "--db", str(tmp_path / "s.db")]) == 1
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "try another --port" in err
