"""Inspection rounds as work (seed 5.1, 5.3-5.5): the monthly round as a recurring deadline,
the severe-weather round a supervisor starts (5.1.3), the overdue notice at the round's due
time, and the officer's record — where consumption over the monthly limits ends a vacancy
(5.2.6) and a problem found is reported (5.1.4, 5.2.9).
"""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import vacancy_inspection as insp
from models import vacancy_meters as meters
from models import vacancy_notices as notices
from models import vacancy_steps as steps
from models.base import N_, DomainError
from models.deadline import Due, at_startup, ensure_pending, on_due, schedule
from models.env import Env
from models.notification import Msg, msg, notify_role
from models.people import Person, Role
from models.property import Unit
from models.ticket import Ticket
from models.vacancy import St, Vacancy, load
from models.vacancy_dates import add_months, close_of, days_in_month, opening_of

MONTHLY = "vacancy.monthly_round"
CATCH_UP = "vacancy.round_catch_up"
SPOT_CHECK = "vacancy.spot_check"
PER_MESSAGE = 20
SPOT_SAMPLE = 5  # inspections offered per building for the monthly spot check (5.5)
_SAMPLER = random.SystemRandom()


def month_close(env: Env, day: date) -> datetime:
    """Close of business on the last business day of `day`'s month ("by month end")."""
    cal = env.calendar
    last = day.replace(day=days_in_month(day.year, day.month))
    for back in range(last.day):
        candidate = last - timedelta(days=back)
        if cal.is_business_day(candidate):
            return close_of(cal, candidate)
    return close_of(cal, last)


def next_round_at(now: datetime, env: Env) -> datetime:
    """When the office opens on the first of the month; this month's if still to come."""
    cal = env.calendar
    first = cal.local_date(now).replace(day=1)
    this_month = opening_of(cal, first)
    return this_month if this_month > now else opening_of(cal, add_months(first, 1))


@at_startup
async def ensure_monthly_round(session: AsyncSession, now: datetime, env: Env) -> None:
    """Make sure the next monthly inspection round is scheduled."""
    await ensure_pending(session, MONTHLY, next_round_at(now, env), now)


def next_opening(now: datetime, env: Env) -> datetime:
    """When the office next opens (today's opening if still to come)."""
    cal = env.calendar
    today = opening_of(cal, cal.local_date(now))
    return today if today > now else opening_of(cal, cal.local_date(now) + timedelta(days=1))


@at_startup
async def ensure_catch_up(session: AsyncSession, now: datetime, env: Env) -> None:
    """Make sure the daily look for units the month's round does not cover yet is scheduled."""
    await ensure_pending(session, CATCH_UP, next_opening(now, env), now)


@on_due(CATCH_UP)
async def _catch_up(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """Every morning: a vacancy that began, or a unit marked unsold or basement, since the
    month's round was handed out joins it, and its officers are told (5.3: 100 % a month)."""
    cal = env.calendar
    schedule(session, CATCH_UP, next_opening(now, env), now)
    label = cal.local_date(now).strftime("%Y-%m")
    rnd = (
        await session.execute(select(insp.Round).where(insp.Round.month == label))
    ).scalar_one_or_none()
    if rnd is None or rnd.due_at <= now:
        return
    tasks = await insp.add_to_round(session, rnd, cal.local_date(now), now)
    await announce(session, rnd, tasks, now)


async def announce(
    session: AsyncSession, rnd: insp.Round, tasks: list[insp.Inspection], now: datetime
) -> None:
    """Each building's service officers get their units, one button per unit."""
    by_building: dict[str, list[insp.Inspection]] = defaultdict(list)
    for task in tasks:
        by_building[task.building].append(task)
    for building, mine in sorted(by_building.items()):
        for i in range(0, len(mine), PER_MESSAGE):
            body = msg(
                N_(
                    "🔎 {round}, building {b}: inspect these units by {due} and record both "
                    "meter readings and the condition (空置房检查记录表)."
                ),
                round=msg(insp.ROUNDS[rnd.kind]),
                b=building,
                due=rnd.due_at,
            )
            if rnd.note:
                body.add(N_("Note: {text}"), text=rnd.note)
            for task in mine[i : i + PER_MESSAGE]:
                body.add(
                    N_("• {unit} ({reason})"),
                    unit=task.unit.code,
                    reason=msg(insp.REASONS[task.reason]),
                )
                body.button_row(
                    (N_("Inspect {unit}"), {"unit": task.unit.code}, f"v:ins:{task.id}")
                )
            if not await notify_role(session, Role.SERVICE, body, now, building=building):
                body.add(N_("(No service officer is registered for building {b}.)"), b=building)
                await notify_role(session, Role.SUPERVISOR, body, now)


@on_due(MONTHLY)
async def _monthly(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """The month's round; a month already over when the sweep gets to it (the bot was down)
    is skipped rather than handed out late, and the chain goes on to the next month."""
    cal = env.calendar
    month = cal.local_date(d.due_at).replace(day=1)
    schedule(session, MONTHLY, opening_of(cal, add_months(month, 1)), now)
    due = month_close(env, month)
    label = month.strftime("%Y-%m")
    if due <= now or await session.scalar(select(insp.Round.id).where(insp.Round.month == label)):
        return
    rnd, tasks = await insp.create_round(
        session, "monthly", due_at=due, today=cal.local_date(now), now=now, month=label
    )
    await announce(session, rnd, tasks, now)
    # (also for a round that starts empty: units may join it during the month)
    schedule(session, SPOT_CHECK, due, now, data={"round": rnd.id})


def spot_lines(body: Msg, task: insp.Inspection) -> None:
    """An officer's recorded inspection, with the supervisor's two spot-check buttons."""
    body.add(
        N_("• {unit}: {values} by {when} — {condition}"),
        unit=task.unit.code,
        values=notices.readings(task.water or Decimal(0), task.electricity or Decimal(0)),
        when=task.done_at,
        condition=task.condition or msg(N_("all in order")),
    )
    body.button_row(
        (N_("{unit}: confirmed"), {"unit": task.unit.code}, f"v:spot:{task.id}:y"),
        (N_("{unit}: problem"), {"unit": task.unit.code}, f"v:spot:{task.id}:n"),
    )


@on_due(SPOT_CHECK)
async def _spot_check_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """5.5: every month the head of the service centre spot-checks the officers' inspections.
    When the month's round is due, each building none of whose inspections has been
    spot-checked yet gets its supervisors a sample to check, picked at random."""
    rnd = await session.get(insp.Round, int(d.data.get("round", 0)))
    if rnd is None:
        return
    waiting: dict[str, list[insp.Inspection]] = defaultdict(list)
    checked: set[str] = set()
    for task in await insp.done_tasks_of_round(session, rnd.id):
        if task.spot_at is not None:
            checked.add(task.building)
        else:
            waiting[task.building].append(task)
    for building, tasks in sorted(waiting.items()):
        if building in checked:
            continue
        sample = _SAMPLER.sample(tasks, min(SPOT_SAMPLE, len(tasks)))
        body = msg(
            N_(
                "🔍 Monthly spot check (5.5), building {b}, round {month}: {count} inspections "
                "are recorded and none has been spot-checked yet. Please check these, picked "
                "at random:"
            ),
            b=building,
            month=rnd.month or "",
            count=len(tasks),
        )
        for task in sorted(sample, key=lambda t: t.unit.code):
            spot_lines(body, task)
        await notify_role(session, Role.SUPERVISOR, body, now, building=building)


async def weather_alert(
    session: AsyncSession, actor: Person, note: str | None, now: datetime, env: Env
) -> tuple[insp.Round, list[insp.Inspection]]:
    """5.1.3: heavy rain or storm: every vacant, unsold and basement unit inspected today."""
    if not actor.has_role(Role.SUPERVISOR):
        raise DomainError("not_allowed")
    cal = env.calendar
    rnd, tasks = await insp.create_round(
        session,
        "weather",
        due_at=cal.end_of_business_day(now),
        today=cal.local_date(now),
        now=now,
        actor=actor,
        note=note,
    )
    await announce(session, rnd, tasks, now)
    return rnd, tasks


@on_due("vacancy.round_due")
async def _round_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    rnd = await session.get(insp.Round, int(d.data.get("round", 0)))
    if rnd is None:
        return
    late = await insp.open_tasks_of_round(session, rnd.id)
    if not late:
        return
    body = msg(
        N_("🚨 Not inspected by {due} ({round}): {count} units"),
        count=len(late),
        round=msg(insp.ROUNDS[rnd.kind]),
        due=rnd.due_at,
    )
    for task in late[:60]:
        body.add(
            N_("• {unit} ({reason}), building {b}"),
            unit=task.unit.code,
            reason=msg(insp.REASONS[task.reason]),
            b=task.building,
        )
    await notify_role(session, Role.SUPERVISOR, body, now)


async def check_reading(
    session: AsyncSession, task_id: int, actor: Person, meter: str, value: Decimal, env: Env
) -> None:
    task = await insp.task(session, task_id)
    insp.check_inspector(task, actor)
    await meters.check_reading(session, task.unit_id, meter, value, env)


METER_NAMES = {"water": N_("water meter"), "electricity": N_("electricity meter")}


def may_replace(actor: Person, building: str) -> bool:
    """Who records a meter replaced: the building's service officer, who reads the meters of
    its vacant units every month and looks after them (seed 3.2, 5.1.2, 5.2.9), or its
    supervisor (3.1)."""
    return actor.has_role(Role.SERVICE, building) or actor.has_role(Role.SUPERVISOR, building)


async def live_applications(session: AsyncSession, unit_id: int) -> list[Ticket]:
    """The unit's approved applications whose water and electricity are (to be) off."""
    rows = await session.execute(
        select(Ticket)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(
            Vacancy.unit_id == unit_id,
            Ticket.state.in_([St.SHUTOFF.value, St.VACANT.value, St.RESTORE.value]),
        )
        .order_by(Ticket.id)
    )
    return list(rows.scalars())


async def replace_meter(
    session: AsyncSession,
    unit_id: int,
    actor: Person,
    meter: str,
    old_final: Decimal,
    new_start: Decimal,
    now: datetime,
    env: Env,
) -> list[Ticket]:
    """A water or electricity meter of a unit was replaced: the old meter's final reading
    and the new one's starting reading are stored (the new baseline), the replacement goes on
    the record of the unit's running applications, and the supervisor (when an officer
    records it) and, when a vacancy's fee rate hangs on the readings (5.2.6), the cashier are
    told. Returns the applications it was recorded on."""
    unit = await session.get(Unit, unit_id)
    if unit is None:
        raise DomainError("stale")
    building = unit.building.code
    if not may_replace(actor, building):
        raise DomainError("not_allowed")
    live = await live_applications(session, unit.id)
    last = await meters.replace(
        session,
        unit_id=unit.id,
        meter=meter,
        old_final=old_final,
        new_start=new_start,
        actor=actor,
        now=now,
        env=env,
        ticket_id=live[0].id if live else None,
    )
    previous: Decimal = getattr(last, meter)
    data = {
        "meter": meter,
        "last": str(previous),
        "old_final": str(old_final),
        "new_start": str(new_start),
    }
    for ticket in live:
        ticket.record("meter_replaced", actor, now, data=data)
    body = msg(
        N_(
            "🔧 {unit}: the {meter} was replaced. Old meter's final reading {old} (last "
            "recorded {last}, on {at}), new meter's starting reading {new}; recorded by {name}. "
            "What the old meter counted since {at} still counts toward the monthly limits "
            "(5.2.6); later readings are compared with the new meter's."
        ),
        unit=unit.code,
        meter=msg(METER_NAMES[meter]),
        old=old_final,
        last=previous,
        at=last.taken_at,
        new=new_start,
        name=actor.name,
    )
    ticket_id = live[0].id if live else None
    if live:
        body.add(N_("Vacancy application: {refs}."), refs=", ".join(t.ref for t in live))
    if not actor.has_role(Role.SUPERVISOR, building):
        await notify_role(
            session, Role.SUPERVISOR, body, now, building=building, ticket_id=ticket_id
        )
    if live:
        await notify_role(session, Role.CASHIER, body, now, building=building, ticket_id=ticket_id)
    return live


def _live(ticket: Ticket, v: Vacancy, now: datetime, env: Env) -> bool:
    """Whether consumption found now ends this vacancy as occupied (5.2.6): from its start
    date, also while its shut-off visit is overdue (fees are at 50 % already)."""
    started = v.start_date <= env.calendar.local_date(now)
    return ticket.state in {St.VACANT, St.SHUTOFF} and started


async def consumption_check(
    session: AsyncSession,
    task_id: int,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    now: datetime,
    env: Env,
) -> tuple[meters.Usage, str | None]:
    """What saving these readings would do, for the officer to confirm first (a one-digit
    typo must not end a vacancy unseen): the consumption since the last reading, and the
    reference of the vacancy it would end as occupied. Changes nothing."""
    task = await insp.task(session, task_id)
    insp.check_inspector(task, actor)
    previous = await meters.baseline(session, task.unit_id)
    used = meters.usage(previous, water, electricity, now, env)
    if not used.occupied or task.vacancy_id is None:
        return used, None
    ticket, v = await load(session, task.vacancy_id)
    return used, ticket.ref if _live(ticket, v, now, env) else None


async def record(
    session: AsyncSession,
    task_id: int,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    condition: str,
    problem: bool,
    now: datetime,
    env: Env,
) -> tuple[insp.Inspection, meters.Usage, str | None]:
    """The officer's inspection; returns it, the consumption found and the reference of a
    vacancy it ended."""
    task = await insp.task(session, task_id)
    insp.check_inspector(task, actor)
    _, previous = await meters.record(
        session,
        unit_id=task.unit_id,
        kind="inspection",
        water=water,
        electricity=electricity,
        actor=actor,
        now=now,
        env=env,
        inspection_id=task.id,
    )
    await insp.complete(session, task, actor, water, electricity, condition, problem, now)
    used = meters.usage(previous, water, electricity, now, env)
    unit = task.unit.code
    ended: str | None = None
    if problem:
        body = msg(
            N_("⚠️ Inspection of {unit} by {name} found a problem: {text}"),
            unit=unit,
            name=actor.name,
            text=condition,
        )
        await notify_role(session, Role.SUPERVISOR, body, now, building=task.building)
    if task.vacancy_id is not None:
        ticket, v = await load(session, task.vacancy_id)
        live = _live(ticket, v, now, env)
        if problem and ticket.state == St.VACANT:
            notices.to_owner(
                session,
                ticket,
                msg(
                    N_(
                        "The monthly inspection of your vacant unit {unit} found a problem: "
                        "{text}. The service officer will contact you."
                    ),
                    unit=unit,
                    text=condition,
                ),
                now,
            )
        if live and used.occupied:
            data = {"water": str(used.water), "electricity": str(used.electricity)}
            following = await steps.end_successor(session, ticket, actor, now)
            dropped = await steps.mark_occupied(
                session, ticket, v, actor, data, now, env, used.since
            )
            await notices.tell_dropped(session, ticket, dropped, now)
            await notices.tell_occupied(
                session, ticket, v, used.water, used.electricity, used.since, now
            )
            if following is not None:
                await notices.tell_successor_ended(session, *following, ticket, now)
            ended = ticket.ref
    elif used.occupied:
        body = msg(
            N_("⚠️ Water or electricity was used in {unit} ({reason}): {values} since {since}."),
            unit=unit,
            reason=msg(insp.REASONS[task.reason]),
            values=notices.readings(used.water, used.electricity),
            since=used.since,
        )
        await notify_role(session, Role.SUPERVISOR, body, now, building=task.building)
    return task, used, ended


async def spot_check(
    session: AsyncSession, task_id: int, actor: Person, ok: bool, note: str, now: datetime
) -> insp.Inspection:
    task = await insp.task(session, task_id)
    insp.spot_check(task, actor, ok, note, now)
    return task


def task_line(task: insp.Inspection) -> Msg:
    return msg(
        N_("• {unit} ({reason}), {round} due {due}"),
        unit=task.unit.code,
        reason=msg(insp.REASONS[task.reason]),
        round=msg(insp.ROUNDS[task.round.kind]),
        due=task.round.due_at,
    )
