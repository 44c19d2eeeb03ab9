"""The vacancy application's state machine (seed 5.2.1-5.2.8).

Each operation checks who acts and from which state, appends a signed event, settles the
deadlines the step met and schedules the next ones, in the caller's transaction. Notices are
the callers' business (models/vacancy_flow.py and models/vacancy_deadlines.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import DomainError
from models.deadline import schedule, settle
from models.env import Env
from models.people import Person, Role
from models.property import own_case
from models.ticket import Ticket
from models.vacancy import ACTIVE, PENDING, UNLINKED, St, Vacancy
from models.vacancy_dates import business_days_after, opening_of, start_of_day
from models.vacancy_inspection import hand_over
from models.vacancy_meters import Usage

STEP_KINDS = {"vacancy.opinion", "vacancy.approval", "vacancy.shutoff", "vacancy.restore"}


def require(person: Person, role: Role, building: str) -> None:
    if not person.has_role(role, building):
        raise DomainError("not_allowed")


async def require_not_own(
    session: AsyncSession, ticket: Ticket, v: Vacancy, person: Person
) -> None:
    """A member of staff who owns the flat (the applicant, or a co-owner) does not sign its
    application (it halves their own fees): a colleague of the building checks the ID,
    signs, decides."""
    if await own_case(session, person, ticket, owners_only=True):
        raise DomainError("vacancy_own_case")


def require_assignee(ticket: Ticket, person: Person) -> None:
    if ticket.assignee_id is None or ticket.assignee_id != person.id:
        raise DomainError("not_allowed")


def require_started(v: Vacancy, now: datetime, env: Env) -> None:
    """5.2.8: water and electricity are off during the vacancy (空置时间内), not while the owner
    still lives there and pays 100 %: no shut-off before the start date."""
    if _today(now, env) < v.start_date:
        raise DomainError("vacancy_not_started", start=v.start_date)


def schedule_step(
    session: AsyncSession,
    ticket: Ticket,
    kind: str,
    start: datetime,
    days: int,
    now: datetime,
    env: Env,
) -> datetime:
    """A step due within `days` business days of `start`: a reminder when the office opens on
    the last day (level 1), the escalation at its close (level 2). Returns the due time."""
    cal = env.calendar
    due = business_days_after(cal, start, days)
    remind = opening_of(cal, cal.local_date(due))
    if now < remind < due:
        schedule(session, kind, remind, now, ticket_id=ticket.id, level=1)
    schedule(session, kind, due, now, ticket_id=ticket.id, level=2)
    return due


def _today(now: datetime, env: Env) -> date:
    return env.calendar.local_date(now)


def _cut_half_rate(vacancy: Vacancy, day: date) -> None:
    """The vacancy ends early on `day`: 100 % from that day (never before the start)."""
    if vacancy.half_from is None or vacancy.half_until is None:
        return
    vacancy.half_until = max(vacancy.half_from, min(vacancy.half_until, day))


async def lapse(session: AsyncSession, ticket: Ticket, now: datetime) -> None:
    """The original ID was not shown by the start date (or nobody decided before the end)."""
    ticket.transition(PENDING, St.LAPSED, "lapsed", None, now)
    ticket.closed_at = now
    await settle(session, now, ticket_id=ticket.id)


async def confirm_id(
    session: AsyncSession, ticket: Ticket, v: Vacancy, actor: Person, now: datetime, env: Env
) -> None:
    """5.2.1: the building's service officer saw the owner's original ID at the office."""
    require(actor, Role.SERVICE, v.building)
    await require_not_own(session, ticket, v, actor)
    ticket.transition({St.ID_CHECK}, St.OPINION, "id_seen", actor, now)
    v.id_seen_at, v.id_seen_by_id = now, actor.id
    await settle(session, now, ticket_id=ticket.id, kinds={"vacancy.lapse"})
    schedule_step(session, ticket, "vacancy.opinion", now, env.vacancy.step_days, now, env)


async def sign_opinion(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    actor: Person,
    ok: bool,
    note: str,
    now: datetime,
    env: Env,
) -> None:
    """5.2.3: the service officer signs the form with an opinion for the supervisor."""
    require(actor, Role.SERVICE, v.building)
    await require_not_own(session, ticket, v, actor)
    ticket.transition(
        {St.OPINION}, St.APPROVAL, "opinion", actor, now, note=note, data={"approve": ok}
    )
    v.opinion_ok, v.opinion_note, v.opinion_by_id, v.opinion_at = ok, note, actor.id, now
    await settle(session, now, ticket_id=ticket.id, kinds={"vacancy.opinion"})
    schedule_step(session, ticket, "vacancy.approval", now, env.vacancy.step_days, now, env)


async def approve(
    session: AsyncSession, ticket: Ticket, v: Vacancy, actor: Person, now: datetime, env: Env
) -> Ticket | None:
    """5.2.3: the supervisor signs; fees are at 50 % for the approved dates (5.2.5). A renewal
    (5.2.7) that takes over from a vacancy whose water and electricity are off keeps them off:
    no shut-off order; returns the application it continues."""
    require(actor, Role.SUPERVISOR, v.building)
    await require_not_own(session, ticket, v, actor)
    if ticket.state == St.APPROVAL and _today(now, env) >= v.end_date:
        raise DomainError("vacancy_period_over", end=v.end_date)
    continued = await _continued(session, v)
    ticket.transition({St.APPROVAL}, St.VACANT if continued else St.SHUTOFF, "approved", actor, now)
    v.decided_at, v.decided_by_id = now, actor.id
    v.half_from, v.half_until = v.start_date, v.end_date
    await settle(session, now, ticket_id=ticket.id, kinds={"vacancy.approval"})
    if continued is not None:
        old = await session.get(Vacancy, continued.id)
        v.shut_off_at = old.shut_off_at if old else now
    else:
        # Water and electricity go off once the vacancy begins, not while the owner still
        # lives there.
        anchor = max(now, start_of_day(env.calendar, v.start_date))
        schedule_step(
            session, ticket, "vacancy.shutoff", anchor, env.vacancy.shutoff_days, now, env
        )
    cal = env.calendar
    remind_day = v.end_date - timedelta(days=env.vacancy.end_reminder_days)
    schedule(
        session,
        "vacancy.end_reminder",
        max(now, opening_of(cal, remind_day)),
        now,
        ticket_id=ticket.id,
    )
    return continued


async def _continued(session: AsyncSession, v: Vacancy) -> Ticket | None:
    """The application this renewal takes over from without a gap, while that one's water
    and electricity are off (VACANT): the unit stays shut off from one to the next."""
    if v.renews_id is None:
        return None
    old = await session.get(Ticket, v.renews_id)
    old_v = await session.get(Vacancy, v.renews_id)
    if old is None or old_v is None or old.state != St.VACANT or old_v.half_until is None:
        return None
    return old if v.start_date <= old_v.half_until else None


async def shut_off_partners(
    session: AsyncSession, ticket: Ticket, v: Vacancy
) -> tuple[Ticket | None, Ticket | None]:
    """The approved renewal that takes this vacant application over, and the running one this
    application continues: the other half of a renewal pair, which keeps the unit shut off
    when this one ends early."""
    if ticket.state != St.VACANT:
        return None, None
    return await continued_by(session, ticket), await _continued(session, v)


async def _keeps_off(session: AsyncSession, ticket: Ticket, v: Vacancy) -> bool:
    """Whether the other application of a renewal pair keeps the unit shut off."""
    return any(await shut_off_partners(session, ticket, v))


async def continued_by(session: AsyncSession, ticket: Ticket) -> Ticket | None:
    """An approved renewal that has taken this application over (see `_continued`)."""
    rows = await session.execute(
        select(Ticket)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(Vacancy.renews_id == ticket.id, Ticket.state == St.VACANT.value)
        .order_by(Ticket.id)
        .limit(1)
    )
    return rows.scalars().first()


async def reject(
    session: AsyncSession, ticket: Ticket, v: Vacancy, actor: Person, note: str, now: datetime
) -> None:
    require(actor, Role.SUPERVISOR, v.building)
    await require_not_own(session, ticket, v, actor)
    ticket.transition({St.APPROVAL}, St.REJECTED, "rejected", actor, now, note=note)
    v.decided_at, v.decided_by_id, v.decision_note = now, actor.id, note
    ticket.closed_at = now
    await settle(session, now, ticket_id=ticket.id)


async def dispatch(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    technician: Person,
    actor: Person,
    now: datetime,
    *,
    move: bool = False,
    expected_assignee_id: int | None = None,
) -> Person | None:
    """5.2.4: the receptionist sends the shut-off (or restore) order to a technician. Once
    sent, only a deliberate `move` (the reassign menu) gives it to someone else: a second
    press on the order message, by a colleague who did not see the first, is refused (SPEC
    §3). A move names who had the order when the menu was made (`expected_assignee_id`,
    None: nobody yet); if a colleague has sent or moved it since, it is refused too. Returns
    the technician who had it before."""
    require(actor, Role.RECEPTIONIST, v.building)
    if ticket.state not in {St.SHUTOFF, St.RESTORE}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    if move and ticket.assignee_id != expected_assignee_id:
        if ticket.assignee is None:
            raise DomainError("stale")
        raise DomainError("vacancy_assignee_changed", ref=ticket.ref, name=ticket.assignee.name)
    if not technician.has_role(Role.TECHNICIAN, v.building):
        raise DomainError("vacancy_not_technician", name=technician.name)
    if technician.id == ticket.assignee_id:
        raise DomainError("vacancy_same_technician", ref=ticket.ref, name=technician.name)
    previous = ticket.assignee
    if previous is not None and not move:
        raise DomainError("vacancy_already_sent", ref=ticket.ref, name=previous.name)
    action = "shutoff_dispatched" if ticket.state == St.SHUTOFF else "restore_dispatched"
    ticket.record(
        action, actor, now, data={"technician_id": technician.id, "technician": technician.name}
    )
    ticket.assignee_id, ticket.assignee = technician.id, technician
    return previous


async def shut_off(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    now: datetime,
    env: Env,
) -> None:
    """The technician has turned water and electricity off and read both meters, on or
    after the start date."""
    require_assignee(ticket, actor)
    if ticket.state == St.SHUTOFF:
        require_started(v, now, env)
    ticket.transition(
        {St.SHUTOFF},
        St.VACANT,
        "shut_off",
        actor,
        now,
        data={"water": str(water), "electricity": str(electricity)},
    )
    v.shut_off_at = now
    ticket.assignee_id, ticket.assignee = None, None  # the order is done: off their queue
    await settle(session, now, ticket_id=ticket.id, kinds={"vacancy.shutoff"})


async def restore(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    now: datetime,
) -> None:
    """Water and electricity are back on and both meters read; the application is over."""
    require_assignee(ticket, actor)
    final = St.CANCELLED if v.end_reason in ("cancelled", UNLINKED) else St.ENDED
    ticket.transition(
        {St.RESTORE},
        final,
        "restored",
        actor,
        now,
        data={"water": str(water), "electricity": str(electricity)},
    )
    v.restored_at = now
    ticket.closed_at = now
    ticket.assignee_id, ticket.assignee = None, None
    await settle(session, now, ticket_id=ticket.id)


async def cancel(
    session: AsyncSession, ticket: Ticket, v: Vacancy, actor: Person, now: datetime, env: Env
) -> Person | None:
    """The owner withdraws or ends the vacancy early; 100 % as of today. A unit whose water and
    electricity are off gets a restore order. Returns a technician who no longer needs to go."""
    if ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    return await end_early(session, ticket, v, actor, now, env)


async def end_early(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    actor: Person | None,
    now: datetime,
    env: Env,
) -> Person | None:
    """`cancel` by the owner, or (actor None) the office ended the owner's link to the unit
    (``units unbind``): the application was theirs, a new owner applies for themselves."""
    if ticket.state not in ACTIVE:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    technician = ticket.assignee
    _cut_half_rate(v, _today(now, env))
    v.end_reason = "cancelled" if actor is not None else UNLINKED
    await settle(session, now, ticket_id=ticket.id)
    pending, early = ("withdrawn", "cancelled_early") if actor else (UNLINKED, UNLINKED)
    if ticket.state in PENDING:
        ticket.transition(PENDING, St.CANCELLED, pending, actor, now)
    elif ticket.state == St.SHUTOFF or await _keeps_off(session, ticket, v):
        # (nothing to turn back on, or a renewal and its predecessor share the shut-off)
        successor = await continued_by(session, ticket) if ticket.state == St.VACANT else None
        if successor is not None:
            await hand_over(session, ticket.id, successor.id)
        ticket.transition({St.SHUTOFF, St.VACANT}, St.CANCELLED, early, actor, now)
    else:
        ticket.transition({St.VACANT}, St.RESTORE, early, actor, now)
        schedule_step(session, ticket, "vacancy.restore", now, env.vacancy.shutoff_days, now, env)
        return None
    ticket.closed_at = now
    ticket.assignee_id, ticket.assignee = None, None
    return technician


async def end_term(
    session: AsyncSession, ticket: Ticket, v: Vacancy, now: datetime, env: Env
) -> Person | None:
    """5.2.6: the end date has come; fees are at 100 % from that date. A shut-off unit gets a
    restore order, unless an approved renewal has taken over (its water and electricity stay
    off); an order never carried out is dropped (returns its technician)."""
    technician = ticket.assignee
    v.end_reason = "term"
    await settle(session, now, ticket_id=ticket.id)
    successor = await continued_by(session, ticket) if ticket.state == St.VACANT else None
    if successor is not None:
        await hand_over(session, ticket.id, successor.id)
        ticket.transition({St.VACANT}, St.ENDED, "term_ended", None, now)
        ticket.closed_at = now
        return None
    if ticket.state == St.VACANT:
        ticket.transition({St.VACANT}, St.RESTORE, "term_ended", None, now)
        schedule_step(session, ticket, "vacancy.restore", now, env.vacancy.shutoff_days, now, env)
        return None
    ticket.transition({St.SHUTOFF}, St.ENDED, "term_ended", None, now)
    ticket.closed_at = now
    ticket.assignee_id, ticket.assignee = None, None
    return technician


async def mark_occupied(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    actor: Person,
    data: dict[str, str],
    now: datetime,
    env: Env,
    since: datetime | None = None,
) -> Person | None:
    """5.2.6: more than 1 t of water or 5 kWh a month was used: the unit counts as occupied
    (视为入住收费) for the time it was used in, from the previous reading `since` (never before
    the 50 % period began), not only from the day the meters were read. Also while the
    shut-off visit is still to be made (the period has begun, fees are at 50 %): that order
    is dropped; returns its technician."""
    technician = ticket.assignee if ticket.state == St.SHUTOFF else None
    ticket.transition({St.VACANT, St.SHUTOFF}, St.OCCUPIED, "occupied", actor, now, data=data)
    _cut_half_rate(v, _today(since or now, env))
    v.end_reason = "occupied"
    ticket.closed_at = now
    ticket.assignee_id, ticket.assignee = None, None
    await settle(session, now, ticket_id=ticket.id)
    return technician


async def end_successor(
    session: AsyncSession, ticket: Ticket, actor: Person, now: datetime
) -> tuple[Ticket, Vacancy] | None:
    """`ticket` was just found occupied (5.2.6): an approved renewal that takes it over
    (5.2.7) would keep the unit at 50 % from its start though the unit is lived in. It ends
    too, before its 50 % begins; returns it (owner and cashier are told)."""
    successor = await continued_by(session, ticket)
    if successor is None:
        return None
    sv = await session.get(Vacancy, successor.id)
    if sv is None:
        return None
    successor.transition(
        {St.VACANT}, St.OCCUPIED, "occupied_before", actor, now, data={"ref": ticket.ref}
    )
    if sv.half_from is not None:
        sv.half_until = sv.half_from  # (never at 50 %)
    sv.end_reason = "occupied"
    successor.closed_at = now
    await settle(session, now, ticket_id=successor.id)
    return successor, sv


def used_before_end(
    ticket: Ticket, v: Vacancy, actor: Person, used: Usage, now: datetime, env: Env
) -> bool:
    """5.2.6 at the restore visit: more than the limits was used since the previous reading
    while the water and electricity were meant to be off, so the unit counts as occupied from
    that reading. True when that shortens the 50 % period (the owner and cashier are told)."""
    if used.since is None or v.half_until is None or v.half_from is None:
        return False
    day = max(v.half_from, _today(used.since, env))
    if day >= v.half_until:
        return False
    _cut_half_rate(v, day)
    ticket.record(
        "used_before_end",
        actor,
        now,
        data={"water": str(used.water), "electricity": str(used.electricity)},
    )
    return True


def answer_reminder(ticket: Ticket, actor: Person, now: datetime) -> None:
    """The owner lets the vacancy end at its date (5.2.7); recorded for the office."""
    if ticket.owner_id != actor.id:
        raise DomainError("not_allowed")
    if ticket.state not in {St.SHUTOFF, St.VACANT}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    ticket.record("will_end", actor, now)
