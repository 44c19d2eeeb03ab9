"""The `propdesk` command line, run in-process against SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.cli import main
from bot.clock import SystemClock
from bot.db import make_engine, make_sessions
from bot.units_csv import CsvError, decode, parse_units_csv, read_rows
from models.base import DomainError
from models.invite import ALPHABET, CODE_LENGTH, InviteCode, redeem
from models.people import Person, StaffRole, touch_person
from models.property import Building, Unit, unit_by_code
from models.system import set_meta

ROOT = Path(__file__).resolve().parents[2]
HEADER = "unit,building,area_m2,owner_name,owner_phone"
T = TypeVar("T")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in list(os.environ):
        if name.startswith("PROPDESK_"):
            monkeypatch.delenv(name)
    yield


@pytest.fixture
def db(database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
    return database_url


def query(url: str, fn: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def go() -> T:
        engine = make_engine(url)
        try:
            async with make_sessions(engine).begin() as session:
                return await fn(session)
        finally:
            await engine.dispose()

    return asyncio.run(go())


def count(url: str, model: type) -> int:
    async def fn(session: AsyncSession) -> int:
        return int((await session.execute(select(func.count()).select_from(model))).scalar_one())

    return query(url, fn)


def get_unit(url: str, code: str) -> Unit | None:
    async def fn(session: AsyncSession) -> Unit | None:
        return await unit_by_code(session, code)

    return query(url, fn)


def write(tmp_path: Path, text: str, encoding: str = "utf-8-sig", name: str = "u.csv") -> str:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return str(path)


def lines(out: str) -> list[str]:
    return [line for line in out.splitlines() if line.strip()]


GOOD = (
    f"{HEADER}\r\n"
    "1-1-101,1,88.50,Zhang San,138 0013 8000\r\n"
    "1-1-102,1,,,\r\n"
    "2-1-201,2,120,Li Si,+86 139-0000-1111\r\n"
)


# --- units import ----------------------------------------------------------------------------


def test_import_utf8_bom(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path, GOOD, "utf-8-sig")
    assert open(path, "rb").read().startswith(b"\xef\xbb\xbf")
    assert main(["units", "import", path]) == 0
    assert lines(capsys.readouterr().out)[-1] == "3 units created, 0 updated"
    unit = get_unit(db, "1-1-101")
    assert unit is not None
    assert str(unit.area_m2) == "88.50"
    assert unit.owner_name == "Zhang San"
    assert unit.owner_phone == "13800138000"
    other = get_unit(db, "2-1-201")
    assert other is not None and other.owner_phone == "13900001111"
    assert count(db, Unit) == 3
    assert count(db, Building) == 2


def test_import_without_bom_and_any_column_order(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = "owner_phone,unit,owner_name,building,area_m2\n13800138000,3-2-301,Wu,3,75\n"
    assert main(["units", "import", write(tmp_path, text, "utf-8")]) == 0
    assert "1 units created, 0 updated" in capsys.readouterr().out
    unit = get_unit(db, "3-2-301")
    assert unit is not None and unit.owner_name == "Wu" and unit.owner_phone == "13800138000"


def test_three_bad_rows_import_nothing(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = (
        f"{HEADER}\n"  # line 1
        "1-1-101,1,88,Zhang San,13800138000\n"  # 2 good
        "1-1-102,1,abc,,\n"  # 3 bad area
        "1-1-103,1,70,,\n"  # 4 good
        "\n"  # 5 blank
        "1-1-104,2,70,,\n"  # 6 wrong building
        "1-1-105,1,70,Wang,12345\n"  # 7 bad phone
    )
    assert main(["units", "import", write(tmp_path, text)]) == 1
    err = capsys.readouterr().err
    reasons = [line for line in err.splitlines() if line.startswith("line ")]
    assert [r.split(":")[0] for r in reasons] == ["line 3", "line 6", "line 7"]
    assert "area_m2" in reasons[0]
    assert "building" in reasons[1]
    assert "owner_phone" in reasons[2]
    assert "nothing imported" in err.splitlines()[-1]
    assert count(db, Unit) == 0
    assert count(db, Building) == 0


def test_gb18030_chinese_names(db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = f"{HEADER}\r\n5-1-101,5,96.3,张三丰,13800138000\r\n5-1-102,5,,欧阳娜娜,\r\n"
    data = text.encode("gb18030")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    path = tmp_path / "gbk.csv"
    path.write_bytes(data)
    assert main(["units", "import", str(path)]) == 0
    assert "2 units created" in capsys.readouterr().out
    first = get_unit(db, "5-1-101")
    second = get_unit(db, "5-1-102")
    assert first is not None and first.owner_name == "张三丰"
    assert second is not None and second.owner_name == "欧阳娜娜"


def test_reimport_updates_not_duplicates(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["units", "import", write(tmp_path, GOOD)]) == 0
    changed = GOOD.replace("138 0013 8000", "13911112222")
    assert main(["units", "import", write(tmp_path, changed, name="again.csv")]) == 0
    out = lines(capsys.readouterr().out)
    assert out[-1] == "0 units created, 3 updated"
    assert count(db, Unit) == 3
    unit = get_unit(db, "1-1-101")
    assert unit is not None and unit.owner_phone == "13911112222"


def test_duplicate_unit_in_file_refused(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = f"{HEADER}\n1-1-101,1,80,,\n1-1-102,1,80,,\n1-1-101,1,81,,\n"
    assert main(["units", "import", write(tmp_path, text)]) == 1
    err = capsys.readouterr().err
    assert "line 4: unit 1-1-101 also on line 2" in err
    assert count(db, Unit) == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        (f"{HEADER}\n", "no unit rows"),
        ("unit,building,area_m2,owner_name\n1-1-101,1,80,x\n", "owner_phone"),
        (f"{HEADER},extra\n1-1-101,1,80,x,,y\n", "'extra'"),
        ("unit;building;area_m2;owner_name;owner_phone\n", "comma"),
    ],
)
def test_file_level_problems(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, expected: str
) -> None:
    assert main(["units", "import", write(tmp_path, text, "utf-8")]) == 1
    err = lines(capsys.readouterr().err)
    assert len(err) == 1
    assert err[0].startswith("propdesk: error: ")
    assert expected in err[0]
    assert count(db, Unit) == 0


def test_undecodable_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "utf16.csv"
    path.write_bytes(GOOD.encode("utf-16"))
    assert main(["units", "import", str(path)]) == 1
    err = lines(capsys.readouterr().err)
    assert len(err) == 1 and "neither UTF-8 nor GB18030" in err[0]


def test_missing_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "import", str(tmp_path / "nope.csv")]) == 1
    assert "cannot read" in capsys.readouterr().err


# --- units_csv pure functions ------------------------------------------------------------------


def test_decode_prefers_utf8_then_gb18030() -> None:
    assert decode("\ufeffunit".encode()) == ("unit", "utf-8-sig")
    assert decode("张三".encode()) == ("张三", "utf-8-sig")
    assert decode("张三".encode("gb18030")) == ("张三", "gb18030")
    with pytest.raises(CsvError):
        decode(b"\xff\xfe\xff")


def test_line_numbers_follow_the_file() -> None:
    text = f'{HEADER}\n\n1-1-101,1,80,"two\nlines",\n1-1-102,1,80,,\n'
    rows, errors = read_rows(text)
    assert errors == []
    assert [r.line for r in rows] == [3, 5]
    assert rows[0].values["owner_name"] == "two\nlines"


def test_wrong_field_count_is_a_row_error() -> None:
    parsed = parse_units_csv(f"{HEADER}\n1-1-101,1,80\n1-1-102,1,80,,,\n".encode())
    assert parsed.errors == [(2, "has 3 fields, the header has 5")]
    assert parsed.rows == []


def test_unit_code_longer_than_column() -> None:
    code = "-".join(["ABCDEFGHIJ"] * 4)
    parsed = parse_units_csv(f"{HEADER}\n{code},ABCDEFGHIJ,,,\n".encode())
    assert parsed.errors and "longer than 40" in parsed.errors[0][1]


# --- invite ------------------------------------------------------------------------------------


def import_good(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["units", "import", write(tmp_path, GOOD, name="seed.csv")]) == 0
    capsys.readouterr()


def test_invite_code_redeems_once(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_good(tmp_path, capsys)
    assert main(["invite", "--unit", "1-1-101"]) == 0
    out = lines(capsys.readouterr().out)
    code = out[-1]
    assert len(code) == CODE_LENGTH == 10
    assert all(ch in ALPHABET for ch in code)
    assert any("1-1-101" in line for line in out[:-1])
    assert any("Asia/Shanghai" in line for line in out[:-1])

    async def first(session: AsyncSession) -> str:
        now = SystemClock().now()
        person = await touch_person(session, 1001, "Owner", "zh-hans", now)
        redeemed = await redeem(session, code, person, now)
        assert redeemed.unit is not None
        return redeemed.unit.code

    assert query(db, first) == "1-1-101"

    async def second(session: AsyncSession) -> str:
        now = SystemClock().now()
        person = await touch_person(session, 1002, "Someone else", None, now)
        with pytest.raises(DomainError) as caught:
            await redeem(session, code, person, now)
        return caught.value.code

    assert query(db, second) == "code_used"


def test_invite_deep_link_and_tenant(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import_good(tmp_path, capsys)
    monkeypatch.setenv("PROPDESK_BOT_USERNAME", "@PropDeskBot")
    assert main(["invite", "--unit", " 1-1-102 ", "--tenant"]) == 0
    out = lines(capsys.readouterr().out)
    code = out[-1]
    assert f"Link: https://t.me/PropDeskBot?start={code}" in out
    assert any("tenant" in line for line in out[:-1])

    async def relation(session: AsyncSession) -> str | None:
        return (await session.execute(select(InviteCode.relation))).scalar_one()

    assert query(db, relation) == "tenant"


def test_invite_username_from_meta(
    db: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import_good(tmp_path, capsys)

    async def remember(session: AsyncSession) -> None:
        await set_meta(session, "bot_username", "office_desk_bot")

    query(db, remember)
    assert main(["invite", "--unit", "2-1-201"]) == 0
    out = lines(capsys.readouterr().out)
    assert f"Link: https://t.me/office_desk_bot?start={out[-1]}" in out


def test_invite_unknown_unit(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["invite", "--unit", "9-9-999"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    err = lines(captured.err)
    assert len(err) == 1 and "unknown unit" in err[0] and "9-9-999" in err[0]
    assert count(db, InviteCode) == 0


# --- staff add ---------------------------------------------------------------------------------


def test_staff_add_without_telegram_id_prints_code(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["staff", "add", "--name", "Chen Gong", "--role", "technician"]) == 0
    out = lines(capsys.readouterr().out)
    code = out[-1]
    assert len(code) == 10 and all(ch in ALPHABET for ch in code)
    assert f"/start {code}" in out[-2]

    async def redeem_it(session: AsyncSession) -> set[str]:
        now = SystemClock().now()
        person = await touch_person(session, 2001, "chen", None, now)
        # A person created by touch_person has no loaded `roles`; redeem reads them.
        await session.refresh(person, ["roles"])
        await redeem(session, code, person, now)
        await session.refresh(person, ["roles"])
        return {r.role for r in person.roles}

    assert query(db, redeem_it) == {"technician"}


def test_staff_add_twice_before_start_keeps_one_record_and_only_the_new_code_works(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["staff", "add", "--name", "Wang Fang", "--role", "receptionist"]) == 0
    first = lines(capsys.readouterr().out)[-1]
    argv = ["staff", "add", "--name", " Wang Fang ", "--role", "cashier"]
    assert main(argv) == 0
    out = lines(capsys.readouterr().out)
    second = out[-1]
    assert first != second
    assert "receptionist" in out[0] and "cashier" in out[0]
    assert "the code issued before no longer works" in out[1]
    assert count(db, Person) == 1

    async def redeem_with(session: AsyncSession, code: str, tg: int) -> set[str]:
        now = SystemClock().now()
        person = await touch_person(session, tg, "wang", None, now)
        await session.refresh(person, ["roles"])
        await redeem(session, code, person, now)
        await session.refresh(person, ["roles"])
        return {r.role for r in person.roles}

    with pytest.raises(DomainError) as refused:
        query(db, lambda s: redeem_with(s, first, 3001))
    assert refused.value.code == "code_expired"
    assert query(db, lambda s: redeem_with(s, second, 3002)) == {"receptionist", "cashier"}
    # Once claimed, the same name added again is somebody new, with a code of their own.
    assert main(["staff", "add", "--name", "Wang Fang", "--role", "guard"]) == 0

    async def people(session: AsyncSession) -> list[tuple[int | None, list[str]]]:
        rows = (await session.scalars(select(Person).order_by(Person.id))).all()
        return [(p.telegram_id, sorted(r.role for r in p.roles)) for p in rows]

    assert query(db, people) == [(3002, ["cashier", "receptionist"]), (None, ["guard"])]


def test_staff_add_with_telegram_id_and_buildings(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["staff", "add", "--telegram-id", "424242", "--name", "Zhou"]
    argv += ["--role", "technician", "--role", "service", "--building", "1", "--building", "b2"]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "/start" in out and "never opened" in out

    async def roles(session: AsyncSession) -> set[tuple[str, str | None]]:
        rows = await session.execute(
            select(StaffRole.role, StaffRole.building)
            .join(Person, Person.id == StaffRole.person_id)
            .where(Person.telegram_id == 424242)
        )
        return {(r, b) for r, b in rows.all()}

    assert query(db, roles) == {
        ("technician", "1"),
        ("technician", "B2"),
        ("service", "1"),
        ("service", "B2"),
    }
    assert count(db, InviteCode) == 0
    # Adding again extends, never duplicates the person.
    assert (
        main(["staff", "add", "--telegram-id", "424242", "--name", "Zhou", "--role", "admin"]) == 0
    )
    assert count(db, Person) == 1
    assert ("admin", None) in query(db, roles)


def test_staff_add_unknown_role(db: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["staff", "add", "--name", "X", "--role", "janitor"]) == 2
    assert "invalid choice" in capsys.readouterr().err
    assert count(db, Person) == 0


# --- run, settings, db -------------------------------------------------------------------------


def test_run_without_token(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    captured = capsys.readouterr()
    err = captured.err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("propdesk: error: PROPDESK_TOKEN is not set")
    assert captured.out == ""


def test_run_webhook_without_token_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run", "--webhook-url", "https://example.org/hook"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1 and "PROPDESK_TOKEN is not set" in err[0]


def test_bad_timezone(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("PROPDESK_TIMEZONE", "Mars/Olympus")
    assert main(["invite", "--unit", "1-1-101"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("propdesk: error: PROPDESK_TIMEZONE")
    assert "Traceback" not in err[0]


def test_db_upgrade_prints_revision(
    empty_database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot.db import head_revision

    monkeypatch.setenv("PROPDESK_DATABASE_URL", empty_database_url)
    assert main(["db", "upgrade"]) == 0
    assert f"revision {head_revision()}" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "already" in capsys.readouterr().out


def test_outdated_schema(
    empty_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """SQLite is upgraded on the spot; PostgreSQL asks for `propdesk db upgrade`."""
    monkeypatch.setenv("PROPDESK_DATABASE_URL", empty_database_url)
    status = main(["invite", "--unit", "1-1-101"])
    err = capsys.readouterr().err
    if empty_database_url.startswith("sqlite"):
        assert status == 1 and "upgraded the SQLite database" in err and "unknown unit" in err
    else:
        assert status == 1 and "propdesk db upgrade" in err


def test_no_command(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert main(["--help"]) == 0
    assert "units" in capsys.readouterr().out


def test_python_m_bot_help() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROPDESK_")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: propdesk")


def test_the_run_log_never_shows_the_bot_token() -> None:
    # python-telegram-bot logs InvalidToken (with the token in its message) before it raises
    import io
    import logging

    from telegram.error import InvalidToken

    from bot.app import Redact

    token = "123456:SECRET-PART"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(Redact(token))
    log = logging.getLogger("test.redact")
    log.addHandler(handler)
    try:
        try:
            raise InvalidToken(f"The token `{token}` was rejected by the server.")
        except InvalidToken:
            log.exception("Network Retry Loop: %s", f"GET /bot{token}/getMe failed")
    finally:
        log.removeHandler(handler)
    out = stream.getvalue()
    assert "SECRET-PART" not in out
    assert "GET /bot<token>/getMe failed" in out and "The token `<token>` was rejected" in out


async def test_a_second_bot_on_the_same_database_refuses_to_start(database_url: str) -> None:
    from bot.db import AlreadyRunning, lock_postgresql, lock_sqlite

    if database_url.startswith("sqlite"):
        first = lock_sqlite(database_url)
        with pytest.raises(AlreadyRunning):
            lock_sqlite(database_url)
        first.close()
        lock_sqlite(database_url).close()
        return
    held = await lock_postgresql(database_url)
    try:
        with pytest.raises(AlreadyRunning):
            await lock_postgresql(database_url)
    finally:
        await held.close()
        await held.engine.dispose()
    again = await lock_postgresql(database_url)  # free once the first has stopped
    await again.close()
    await again.engine.dispose()


async def test_the_postgresql_lock_is_taken_again_when_its_connection_is_lost(
    database_url: str,
) -> None:
    # a PostgreSQL restart ends the lock's session: taken again at once, or, when another
    # PropDesk took it meanwhile, this one stops
    import asyncio

    import asyncpg

    from bot.db import keep_postgresql_lock, lock_postgresql
    from tests.conftest import PG_SERVER

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only: an advisory lock on a server session")
    admin_url = PG_SERVER.replace("postgresql+asyncpg://", "postgresql://") + "/test"
    dbname = database_url.rsplit("/", 1)[1]

    async def kill_sessions() -> None:
        admin = await asyncpg.connect(admin_url)
        try:
            await admin.fetchval(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = $1 AND pid <> pg_backend_pid()",
                dbname,
            )
        finally:
            await admin.close()

    held = [await lock_postgresql(database_url)]
    stopped: list[bool] = []
    watch = asyncio.create_task(
        keep_postgresql_lock(database_url, held, lambda: stopped.append(True), every=0.3)
    )
    first = held[0]
    await kill_sessions()
    for _ in range(100):
        await asyncio.sleep(0.05)
        if held[0] is not first:
            break
    assert held[0] is not first and not stopped  # taken again by this one
    # now another process takes it in the gap
    await kill_sessions()
    other = await lock_postgresql(database_url)
    try:
        await asyncio.wait_for(watch, timeout=5)
        assert stopped == [True]
    finally:
        await other.close()
        await other.engine.dispose()
        for conn in held:
            try:
                await conn.close()
                await conn.engine.dispose()
            except Exception:
                pass


async def test_the_lock_watch_ends_its_own_lingering_session_rather_than_stop_the_bot(
    database_url: str,
) -> None:
    # only the client side of the lock's connection broke (a NAT or firewall drop): the
    # server still holds the lock for this bot's old session. Not "another PropDesk".
    import asyncio

    from bot.db import keep_postgresql_lock, lock_postgresql

    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL-only: an advisory lock on a server session")
    upstream: list[asyncio.StreamWriter] = []
    clients: list[asyncio.StreamWriter] = []
    pipes: list[asyncio.Task[None]] = []

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except Exception:
            pass

    async def relay(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        server_reader, server_writer = await asyncio.open_connection("127.0.0.1", 5432)
        upstream.append(server_writer)
        clients.append(writer)
        pipes.append(asyncio.create_task(pipe(reader, server_writer)))  # (server side stays)
        pipes.append(asyncio.create_task(pipe(server_reader, writer)))

    proxy = await asyncio.start_server(relay, "127.0.0.1", 0)
    port = proxy.sockets[0].getsockname()[1]
    held = [await lock_postgresql(database_url.replace(":5432/", f":{port}/"))]
    first = held[0]
    stopped: list[bool] = []
    watch = asyncio.create_task(
        keep_postgresql_lock(database_url, held, lambda: stopped.append(True), every=0.2)
    )
    await asyncio.sleep(0.3)
    clients[0].transport.abort()  # the client side only
    try:
        for _ in range(50):
            await asyncio.sleep(0.1)
            if held[0] is not first and not held[0].closed:
                break
        assert not stopped and held[0] is not first and not held[0].closed
    finally:
        watch.cancel()
        for writer in upstream:
            writer.transport.abort()
        for task in pipes:
            task.cancel()
        proxy.close()
        try:
            await held[0].close()
            await held[0].engine.dispose()
        except Exception:
            pass
