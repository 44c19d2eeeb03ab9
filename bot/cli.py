"""The `propdesk` command line (also `python -m bot`): run the bot, migrate, import, invite.

Every command reads settings with :func:`bot.config.load_settings`; a bad setting is one line
on stderr and exit status 2. Data problems exit with 1. Each command does its database work in
one coroutine under :func:`asyncio.run` and disposes of its engine at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import sys
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import urlsplit

from alembic.util import CommandError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.clock import SystemClock
from bot.config import ConfigError, Settings, load_settings
from bot.db import (
    current_revision,
    head_revision,
    make_engine,
    make_sessions,
    upgrade_in_thread,
)
from bot.units_csv import CsvError, parse_units_csv
from models.base import DomainError
from models.people import Person, Role

PROG = "propdesk"
BUILDING = re.compile(r"^[0-9A-Z]{1,10}$")


class CliError(Exception):
    """Ends the command: `propdesk: error: <message>` on stderr and exit `status`."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


class _Parser(argparse.ArgumentParser):
    """argparse that ends with an exception instead of sys.exit, so main() returns a code."""

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if message:
            sys.stderr.write(message)
        raise _ParserExit(status)


class _ParserExit(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(status)
        self.status = status


def _building(value: str) -> str:
    code = value.strip().upper()
    if not BUILDING.match(code):
        raise argparse.ArgumentTypeError(f"{value!r} is not a building code such as 1 or A2")
    return code


def _telegram_id(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
    if number <= 0:
        raise argparse.ArgumentTypeError("a Telegram user id is a positive number")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="PropDesk: the property-management customer-service desk on Telegram.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = commands.add_parser("run", help="run the bot (long polling)")
    run.add_argument(
        "--webhook-url",
        help="receive updates by webhook at this https URL (behind a reverse proxy); "
        "default: long polling",
    )
    run.add_argument("--listen", help="address the webhook server binds (default 127.0.0.1)")
    run.add_argument("--port", type=int, help="port the webhook server binds (default 8443)")
    _sandbox_parser(commands)

    db = commands.add_parser("db", help="database schema")
    db_commands = db.add_subparsers(dest="db_command", metavar="ACTION", parser_class=_Parser)
    db_commands.add_parser("upgrade", help="migrate the database to the current schema")

    units = commands.add_parser("units", help="unit directory")
    unit_commands = units.add_subparsers(
        dest="units_command", metavar="ACTION", parser_class=_Parser
    )
    imp = unit_commands.add_parser(
        "import",
        help="create or update units from a CSV file",
        description="Header: unit,building,area_m2,owner_name,owner_phone (any order). "
        "UTF-8 (with or without BOM) or GB18030. All rows are checked first; "
        "if any is wrong nothing is imported.",
    )
    imp.add_argument("file", metavar="FILE.csv", type=Path)
    unbind = unit_commands.add_parser(
        "unbind",
        help="end owners' or tenants' links to a unit (the flat was sold, the tenant left)",
        description="Ends the links of everyone bound to the unit, or only of the person "
        "with --telegram-id. Each is told through the bot; the requests they filed stay "
        "theirs. Issue the new owner's code with `propdesk invite --unit UNIT`.",
    )
    unbind.add_argument("--unit", required=True, metavar="UNIT", help="unit code, e.g. 1-2-301")
    unbind.add_argument(
        "--telegram-id",
        type=_telegram_id,
        metavar="ID",
        help="end only this person's link (default: everyone's)",
    )

    staff = commands.add_parser("staff", help="staff members")
    staff_commands = staff.add_subparsers(
        dest="staff_command", metavar="ACTION", parser_class=_Parser
    )
    add = staff_commands.add_parser(
        "add",
        help="add a staff member or give them more roles",
        description="Without --telegram-id a one-time code is printed (last line); the staff "
        "member sends /start CODE to the bot.",
    )
    add.add_argument(
        "--telegram-id",
        type=_telegram_id,
        metavar="ID",
        help="their numeric Telegram user id; without it a one-time code is issued",
    )
    add.add_argument("--name", required=True, help="full name as colleagues know it")
    add.add_argument(
        "--role",
        required=True,
        action="append",
        choices=[r.value for r in Role],
        metavar="ROLE",
        help="one of: " + ", ".join(r.value for r in Role) + " (repeatable)",
    )
    add.add_argument(
        "--building",
        action="append",
        default=[],
        type=_building,
        metavar="B",
        help="limit the roles to this building (repeatable; none = all buildings)",
    )

    remove = staff_commands.add_parser(
        "remove",
        help="take roles from a staff member (they left, or changed post)",
        description="Without --role every role is taken and they are no longer staff. Refused "
        "while they hold open work by name (a repair dispatched to them, a complaint they are "
        "responsible for): reassign it in the bot or let it finish first.",
    )
    who = remove.add_mutually_exclusive_group(required=True)
    who.add_argument("--telegram-id", type=_telegram_id, metavar="ID")
    who.add_argument(
        "--name",
        help="a staff member added without --telegram-id who has not used their code yet "
        "(the hire fell through); their unused code stops working",
    )
    remove.add_argument(
        "--role",
        action="append",
        default=[],
        choices=[r.value for r in Role],
        metavar="ROLE",
        help="take only this role (repeatable; default: every role)",
    )

    invite = commands.add_parser(
        "invite", help="issue a one-time code binding an owner or tenant to a unit"
    )
    invite.add_argument("--unit", required=True, metavar="UNIT", help="unit code, e.g. 1-2-301")
    who = invite.add_mutually_exclusive_group()
    who.add_argument(
        "--tenant", action="store_true", help="the code binds a tenant instead of the owner"
    )
    who.add_argument(
        "--co-owner",
        action="store_true",
        help="the code binds another owner (same rights; goes by their own name and phone, "
        "not the register's)",
    )
    commands.add_parser(
        "health", help="check the database and the Bot API; exit 1 if either is unreachable"
    )
    export = commands.add_parser("export", help="write tickets and events to CSV files")
    export.add_argument("--out", required=True, type=Path, metavar="DIR")
    export.add_argument(
        "--since",
        type=date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="what happened from that day: tickets filed or changed, and their steps from then",
    )
    return parser


def _port(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a port number") from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError("a port is between 0 and 65535 (0: any free port)")
    return number


def _office_time_arg(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a time like 2026-11-27T10:00") from None


def _sandbox_parser(commands: Any) -> None:
    sandbox = commands.add_parser(
        "sandbox",
        help="try PropDesk without Telegram: every role's chat side by side in a local page",
        description="Runs the real bot against the built-in Bot API emulator with a demo "
        "office (no token, no network) and serves a page with each person's chat.",
    )
    sandbox.add_argument("--port", type=_port, default=8080, help="default 8080; 0: any free port")
    sandbox.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1 only)"
    )
    sandbox.add_argument(
        "--lang",
        choices=["zh_CN", "en"],
        help="language of the page and of the demo people (default: PROPDESK_LOCALE, zh_CN)",
    )
    sandbox.add_argument(
        "--db",
        type=Path,
        metavar="PATH",
        help="SQLite file to use and keep (default: a fresh one in a temporary folder, "
        "removed at exit)",
    )
    sandbox.add_argument(
        "--start",
        type=_office_time_arg,
        metavar="YYYY-MM-DDTHH:MM",
        help="start the clock at this office time instead of now",
    )


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except _ParserExit as exc:
        return exc.status
    handler = _handler(args)
    if handler is None:
        sub = {
            "db": "db upgrade",
            "units": "units import FILE.csv (or units unbind --unit UNIT)",
            "staff": "staff add ... (or staff remove --telegram-id ID)",
        }.get(args.command or "")
        if sub:
            _error(f"missing action; try `{PROG} {sub}` (see `{PROG} {args.command} --help`)")
        else:
            parser.print_help(sys.stderr)
        return 2
    try:
        return handler(args)
    except CliError as exc:
        _error(str(exc))
        return exc.status
    except KeyboardInterrupt:
        return 130


def _error(message: str) -> None:
    print(f"{PROG}: error: {message}", file=sys.stderr)


def _handler(args: argparse.Namespace) -> Callable[[argparse.Namespace], int] | None:
    command = args.command
    if command == "run":
        return cmd_run
    if command == "sandbox":
        return cmd_sandbox
    if command == "health":
        return cmd_health
    if command == "export":
        return cmd_export

    if command == "db" and args.db_command == "upgrade":
        return cmd_db_upgrade
    if command == "units" and args.units_command == "import":
        return cmd_units_import
    if command == "units" and args.units_command == "unbind":
        return cmd_units_unbind
    if command == "staff" and args.staff_command == "add":
        return cmd_staff_add
    if command == "staff" and args.staff_command == "remove":
        return cmd_staff_remove
    if command == "invite":
        return cmd_invite
    return None


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigError as exc:
        raise CliError(str(exc), status=2) from None


# --- database plumbing ---------------------------------------------------------------------


def _safe_url(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:
        return "(the configured database)"


def _reason(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


async def _revision(engine: AsyncEngine, url: str) -> str | None:
    try:
        return await current_revision(engine)
    except (OSError, DBAPIError) as exc:
        raise CliError(f"cannot open the database {_safe_url(url)}: {_reason(exc)}") from None


async def _migrate(engine: AsyncEngine, url: str) -> None:
    await engine.dispose()
    try:
        upgrade_in_thread(url)
    except CommandError as exc:
        raise CliError(f"cannot upgrade the database schema: {exc}") from None
    except (OSError, DBAPIError) as exc:
        raise CliError(f"cannot upgrade the database schema: {_reason(exc)}") from None


async def _ready(engine: AsyncEngine, settings: Settings) -> None:
    """The schema must be current: SQLite is upgraded on the spot, PostgreSQL is refused."""
    url = settings.database_url
    revision = await _revision(engine, url)
    head = head_revision()
    if revision == head:
        return
    if engine.dialect.name == "sqlite":
        await _migrate(engine, url)
        print(f"{PROG}: upgraded the SQLite database schema to revision {head}", file=sys.stderr)
        return
    raise CliError(
        f"the database schema is at revision {revision or '(none)'}, this PropDesk needs "
        f"{head}; run `{PROG} db upgrade` first"
    )


def _with_database(
    settings: Settings,
    work: Callable[[async_sessionmaker[AsyncSession]], Awaitable[int]],
) -> int:
    async def go() -> int:
        engine = make_engine(settings.database_url)
        try:
            await _ready(engine, settings)
            return await work(make_sessions(engine))
        finally:
            await engine.dispose()

    return asyncio.run(go())


def _office_time(settings: Settings, moment: datetime) -> str:
    return f"{moment.astimezone(settings.tz):%Y-%m-%d %H:%M} ({settings.timezone})"


async def _bot_username(settings: Settings, session: AsyncSession) -> str | None:
    from models.system import get_meta

    name = settings.bot_username or await get_meta(session, "bot_username")
    name = (name or "").strip().lstrip("@")
    return name or None


# --- commands --------------------------------------------------------------------------------


def _webhook(args: argparse.Namespace, settings: Settings) -> Any:
    """The webhook options, or None for long polling."""
    if not args.webhook_url:
        if args.listen or args.port is not None:
            raise CliError("--listen and --port need --webhook-url", status=2)
        return None
    from bot.app import Webhook

    url = urlsplit(args.webhook_url)
    if url.scheme != "https" or not url.hostname:
        raise CliError("--webhook-url must be an https:// URL Telegram can reach", status=2)
    port = 8443 if args.port is None else args.port
    if not 1 <= port <= 65535:
        raise CliError("--port must be between 1 and 65535", status=2)
    secret = settings.webhook_secret.get_secret_value() if settings.webhook_secret else None
    options = {"secret": secret} if secret else {}
    return Webhook(args.webhook_url, args.listen or "127.0.0.1", port, **options)


def cmd_run(args: argparse.Namespace) -> int:
    settings = _settings()
    webhook = _webhook(args, settings)

    if settings.token is None or not settings.token.get_secret_value().strip():
        raise CliError(
            "PROPDESK_TOKEN is not set; put the bot token from @BotFather in the environment "
            "or in the PROPDESK_CONFIG file",
            status=2,
        )
    try:
        from bot.app import run_bot
    except ModuleNotFoundError as exc:
        if exc.name != "bot.app":
            raise
        raise CliError("this installation has no bot application (bot.app)") from None
    from telegram.error import InvalidToken, TelegramError

    from bot.db import AlreadyRunning

    try:
        run_bot(settings, webhook)
    except AlreadyRunning:
        raise CliError(
            "another PropDesk is already running on this database; stop it first (two would "
            "send every notification twice)",
            status=1,
        ) from None
    except InvalidToken:  # (its message and traceback carry the token itself)
        raise CliError(
            "the Bot API refused PROPDESK_TOKEN; check the token from @BotFather and "
            "PROPDESK_API_BASE_URL",
            status=1,
        ) from None
    except TelegramError as exc:  # an answer that waiting would not change (e.g. 400)
        from bot.ops import short_reason

        why = short_reason(exc, settings.token.get_secret_value())
        raise CliError(f"the Bot API refused to start the bot: {why}") from None
    return 0


def cmd_sandbox(args: argparse.Namespace) -> int:
    settings = _settings()
    start: datetime | None = args.start
    if start is not None and start.tzinfo is None:
        start = start.replace(tzinfo=settings.tz)
    db: Path | None = args.db.resolve() if args.db else None
    if db is not None and not db.parent.is_dir():
        raise CliError(f"--db: the folder {db.parent} does not exist", status=2)
    from bot.sandbox.runner import ListenError, Options, run

    try:
        run(Options(args.host, args.port, args.lang or settings.locale, db, start))
    except ConfigError as exc:
        raise CliError(str(exc), status=2) from None
    except ListenError as exc:
        raise CliError(f"{exc}; try another --port") from None
    return 0


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    settings = _settings()
    url = settings.database_url

    async def go() -> tuple[str | None, str | None]:
        engine = make_engine(url)
        try:
            before = await _revision(engine, url)
            await _migrate(engine, url)
            return before, await _revision(engine, url)
        finally:
            await engine.dispose()

    before, after = asyncio.run(go())
    if before == after:
        print(f"database already at revision {after} (head)")
    else:
        print(f"database upgraded from {before or '(empty)'} to revision {after} (head)")
    return 0


def cmd_units_import(args: argparse.Namespace) -> int:
    settings = _settings()
    path: Path = args.file
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        parsed = parse_units_csv(data)
    except CsvError as exc:
        raise CliError(f"{path}: {exc}; nothing imported") from None
    if parsed.errors:
        for line, reason in parsed.errors:
            print(f"line {line}: {reason}", file=sys.stderr)
        count = len(parsed.errors)
        raise CliError(f"{path}: {count} bad row{'s' if count != 1 else ''}; nothing imported")

    from models.property import import_units

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        try:
            async with sessions.begin() as session:
                report = await import_units(session, parsed.rows, SystemClock().now())
        except IntegrityError:
            raise CliError(
                "the units changed while importing (another import at the same time?); "
                "nothing imported, run it again"
            ) from None
        except DBAPIError as exc:
            raise CliError(f"the database refused the import: {_reason(exc)}") from None
        print(f"{report.created} units created, {report.updated} updated")
        for code, linked in report.new_owner_still_linked:
            people = f"{linked} person is" if linked == 1 else f"{linked} people are"
            print(
                f"Note: unit {code} has a new owner in the file and {people} still linked "
                f"to it through the bot; if the flat changed hands, run "
                f"`{PROG} units unbind --unit {code}`"
            )
        return 0

    return _with_database(settings, work)


def cmd_units_unbind(args: argparse.Namespace) -> int:
    settings = _settings()

    from models.ownership import unbind_unit
    from models.property import registered_owner_id, unit_by_code

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        now = SystemClock().now()
        async with sessions.begin() as session:
            unit = await unit_by_code(session, args.unit)
            if unit is None:
                raise CliError(f"unknown unit {args.unit.strip()!r}")
            registered_before = await registered_owner_id(session, unit.id)
            try:
                report = await unbind_unit(session, unit, now, settings.env(), args.telegram_id)
            except DomainError:
                who = (
                    f"Telegram id {args.telegram_id} is"
                    if args.telegram_id is not None
                    else "nobody is"
                )
                raise CliError(f"{who} linked to unit {unit.code}; nothing changed") from None
            await session.flush()
            registered_after = await registered_owner_id(session, unit.id)
            new_registered = (
                await session.get(Person, registered_after)
                if registered_after not in (None, registered_before)
                else None
            )
        for gone in report.unlinked:
            person = gone.person
            told = "told through the bot" if gone.told else "not told: never opened the bot"
            print(
                f"Unit {unit.code}: {person.name} ({gone.relation.replace('_', '-')}, Telegram id "
                f"{person.telegram_id}) unlinked; {told}"
            )
            for ticket in gone.vacancies_ended:
                restore = "; a restore order went to the front desk" * (ticket.state == "restore")
                print(
                    f"  vacancy {ticket.ref} ended with the link (now {ticket.state}); the "
                    f"service officers or the cashier are told{restore}"
                )
            for ticket in gone.vacancies_passed:
                heir = gone.successor.name if gone.successor else "—"
                print(
                    f"  vacancy {ticket.ref} ({ticket.state}) goes on under the name of "
                    f"{heir}, who still owns the unit; told through the bot"
                )
            for ticket in gone.open_tickets:
                news = (
                    "the restore visit's readings are not sent to them"
                    if ticket.kind == "V"
                    else "they keep receiving news of it until it is closed"
                )
                print(
                    f"  still open, filed by {person.name} for this unit: {ticket.ref} "
                    f"({ticket.state}); {news}"
                )
        for code in report.codes_still_valid:
            relation = (code.relation or "owner").replace("_", "-")
            print(
                f"Note: an unused {relation} code for {unit.code} is valid until "
                f"{_office_time(settings, code.expires_at)}"
            )
        if new_registered is not None:
            # The register's owner left; another linked as plain "owner" (before co-owner codes
            # existed) is now taken for them, and their reports carry the register's details.
            print(
                f"Note: {new_registered.name} (Telegram id {new_registered.telegram_id}) is now "
                f"taken for the "
                f"registered owner of {unit.code}; the register names {unit.owner_name or '—'}, "
                f"phone {unit.owner_phone or '—'}. If the unit has changed hands, import the new "
                f"owner's details (`{PROG} units import FILE.csv`)."
            )
        count = len(report.unlinked)
        print(f"{count} link{'s' if count != 1 else ''} ended")
        return 0

    return _with_database(settings, work)


def _roles_text(person: Person) -> str:
    by_role: dict[str, list[str | None]] = {}
    for r in sorted(person.roles, key=lambda r: (r.role, r.building or "")):
        by_role.setdefault(r.role, []).append(r.building)
    parts = []
    for role, buildings in by_role.items():
        if None in buildings:
            parts.append(f"{role} (all buildings)")
        else:
            label = "building" if len(buildings) == 1 else "buildings"
            parts.append(f"{role} ({label} {', '.join(b for b in buildings if b)})")
    return "; ".join(parts)


def _domain_message(exc: DomainError) -> str:
    if exc.code == "staff_name_invalid":
        return "--name must be 1 to 100 characters"
    if exc.code == "staff_role_unknown":
        return f"unknown role {exc.params.get('role')}"
    params = ", ".join(f"{k}={v}" for k, v in exc.params.items())
    return f"refused: {exc.code}" + (f" ({params})" if params else "")


def cmd_staff_add(args: argparse.Namespace) -> int:
    settings = _settings()
    roles: list[str] = list(dict.fromkeys(args.role))
    buildings: list[str] = list(dict.fromkeys(args.building))

    from sqlalchemy import select

    from models.invite import issue_staff_code
    from models.people import add_staff, unclaimed_staff
    from models.property import Building

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        now = SystemClock().now()
        async with sessions.begin() as session:
            reused = args.telegram_id is None and await unclaimed_staff(session, args.name)
            try:
                person = await add_staff(
                    session,
                    name=args.name,
                    roles=roles,
                    buildings=buildings,
                    telegram_id=args.telegram_id,
                    now=now,
                )
            except DomainError as exc:
                raise CliError(_domain_message(exc)) from None
            known = set(
                (await session.execute(select(Building.code).where(Building.code.in_(buildings))))
                .scalars()
                .all()
            )
            code = None
            if args.telegram_id is None:
                code = await issue_staff_code(session, person, now, settings.invite_valid_days)
            username = await _bot_username(settings, session)
        for b in buildings:
            if b not in known:
                print(f"{PROG}: warning: building {b} has no units yet", file=sys.stderr)
        who = f"{person.name} (Telegram id {person.telegram_id})" if code is None else person.name
        print(f"Staff member {who}: {_roles_text(person)}")
        if reused:
            print(
                f"{person.name} was already added and has not sent /start yet: same record, "
                "and the code issued before no longer works."
            )
        if code is None:
            if person.last_seen_at is None:
                print(
                    f"Reminder: {person.name} must open the bot and send /start once; Telegram "
                    "does not let a bot message someone who never opened it."
                )
            return 0
        expires = now + timedelta(days=settings.invite_valid_days)
        where = f"@{username}" if username else "the bot"
        link = f" (or opens https://t.me/{username}?start={code})" if username else ""
        print(
            f"One-time staff code, valid until {_office_time(settings, expires)}: "
            f"{person.name} sends /start {code} to {where}{link}."
        )
        print(code)
        return 0

    return _with_database(settings, work)


def cmd_staff_remove(args: argparse.Namespace) -> int:
    settings = _settings()
    roles: list[str] = list(dict.fromkeys(args.role))

    from models.staffing import remove_staff

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        async with sessions.begin() as session:
            try:
                removal = await remove_staff(
                    session, args.telegram_id, SystemClock().now(), roles, name=args.name
                )
            except DomainError as exc:
                raise CliError(_removal_refused(exc, args.telegram_id, args.name)) from None
        person = removal.person
        taken = ", ".join(
            f"{role} ({f'building {building}' if building else 'all buildings'})"
            for role, building in removal.removed
        )
        who = f"Telegram id {person.telegram_id}" if person.telegram_id else "code not used yet"
        print(f"{person.name} ({who}): {taken} taken away")
        if removal.still_staff:
            print(f"Still holds: {_roles_text(person)}")
        else:
            print(f"{person.name} is no longer staff")
        if removal.withdrawn:
            n = removal.withdrawn
            about = (
                ", about tickets their remaining roles may not open" if removal.still_staff else ""
            )
            print(f"{n} undelivered message{'s' if n != 1 else ''} to them withdrawn{about}")
        if removal.codes_revoked:
            n = removal.codes_revoked
            print(f"{n} unused staff code{'s' if n != 1 else ''} for them no longer valid")
        print("Told through the bot" if removal.told else "Not told: never opened the bot")
        return 0

    return _with_database(settings, work)


def _removal_refused(exc: DomainError, telegram_id: int | None, name: str | None) -> str:
    if exc.code == "not_staff" and telegram_id is None:
        return (
            f"nobody named {name!r} was added without a Telegram id and is waiting to use their "
            "code; for someone who has opened the bot, use --telegram-id; nothing changed"
        )
    if exc.code == "not_staff":
        return f"Telegram id {telegram_id} is not a staff member; nothing changed"
    if exc.code == "role_not_held":
        return f"they do not hold the role {exc.params['role']}; nothing changed"
    if exc.code == "holds_work":
        held = ", ".join(f"{t.ref} ({t.state})" for t in exc.params["tickets"])
        return (
            f"they still hold open work by name: {held}; reassign it in the bot or let it "
            "finish, then run this again; nothing changed"
        )
    return _domain_message(exc)


def cmd_invite(args: argparse.Namespace) -> int:
    settings = _settings()
    relation = "tenant" if args.tenant else "co_owner" if args.co_owner else "owner"

    from models.invite import issue_unit_code
    from models.property import unit_by_code

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        now = SystemClock().now()
        async with sessions.begin() as session:
            unit = await unit_by_code(session, args.unit)
            if unit is None:
                raise CliError(
                    f"unknown unit {args.unit.strip()!r}; import it first with "
                    f"`{PROG} units import FILE.csv`"
                )
            code = await issue_unit_code(
                session, unit, now, settings.invite_valid_days, relation=relation
            )
            username = await _bot_username(settings, session)
        expires = now + timedelta(days=settings.invite_valid_days)
        print(f"Unit: {unit.code} ({relation})")
        print(f"Valid until: {_office_time(settings, expires)}, single use")
        if username:
            print(f"Link: https://t.me/{username}?start={code}")
        else:
            print("Bot username not known yet (start the bot once); send /start CODE to the bot")
        print(code)
        return 0

    return _with_database(settings, work)


def cmd_health(args: argparse.Namespace) -> int:
    from bot.ops import health

    ok, lines = asyncio.run(health(_settings()))
    for line in lines:
        print(line)
    return 0 if ok else 1


def cmd_export(args: argparse.Namespace) -> int:
    from bot.ops import EVENT_COLUMNS, TICKET_COLUMNS, export_rows, write_csv

    settings = _settings()
    rows: list[list[list[str]]] = []

    async def work(sessions: async_sessionmaker[AsyncSession]) -> int:
        rows.extend(await export_rows(sessions, settings.tz, args.since))
        return 0

    _with_database(settings, work)
    tickets, events = rows
    try:
        write_csv(args.out / "tickets.csv", TICKET_COLUMNS, tickets)
        write_csv(args.out / "events.csv", EVENT_COLUMNS, events)
    except OSError as exc:
        raise CliError(f"cannot write to {args.out}: {exc.strerror or exc}") from None
    print(f"{len(tickets)} tickets and {len(events)} events written to {args.out}")
    return 0
