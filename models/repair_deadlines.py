"""What happens when a repair deadline passes (SPEC §2.1, seed ch.3 and ch.4), and the
daily report (客服中心日报表) as a deadline that schedules its successor."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import repair as rp
from models import repair_notices as notices
from models.base import N_
from models.deadline import Deadline, Due, at_startup, ensure_pending, on_due, schedule
from models.env import Env
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Role, staff_with_role
from models.ticket import Ticket, TicketEvent

REPORT = "repair.daily_report"


async def _ticket(session: AsyncSession, deadline: Due) -> tuple[Ticket, rp.Repair] | None:
    if deadline.ticket_id is None:
        return None
    ticket = await session.get(Ticket, deadline.ticket_id)
    if ticket is None:
        return None
    return ticket, await rp.repair_of(session, ticket)


@on_due("repair.dispatch")
async def _dispatch_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state != rp.St.NEW:
        return
    ticket, repair = found
    if d.level == 1:
        body = msg(
            N_("⏰ {ref} has been waiting for dispatch for {minutes} minutes."),
            ref=ticket.ref,
            minutes=int(env.repair.dispatch_remind.total_seconds() // 60),
        )
        await notices.dispatch_buttons(session, ticket, repair, env, body)
        await notify_role(
            session, Role.RECEPTIONIST, body, now, building=repair.building, ticket_id=ticket.id
        )
    else:
        await notices.to_role(
            session,
            Role.SUPERVISOR,
            ticket,
            repair,
            N_("🚨 {ref} has still not been dispatched ({hours} office hours after filing)."),
            now,
            hours=round(env.repair.dispatch_escalate.total_seconds() / 3600, 1),
        )


@on_due("repair.arrival")
async def _arrival_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state not in {rp.St.DISPATCHED, rp.St.ACCEPTED}:
        return
    ticket, repair = found
    name = ticket.assignee.name if ticket.assignee else "—"
    if d.level == 1:
        # The 15 minutes count from the appointment only while it was still to come; an "as
        # soon as possible" job (or one dispatched after its time, or resumed) has none.
        start = d.due_at - env.repair.arrival_grace
        booked = repair.appointment_at is not None and abs(repair.appointment_at - start) < (
            timedelta(minutes=1)
        )
        if booked:
            to_tech = N_(
                "⏰ You should be at {ref} by now (15 minutes after the appointment). "
                "Press Arrived when you are there."
            )
            to_lead = N_("⏰ {name} has not arrived at {ref} within 15 minutes of the appointment.")
        else:
            to_tech = N_(
                "⏰ You should be at {ref} by now (15 minutes after the job was dispatched or "
                "resumed). Press Arrived when you are there."
            )
            to_lead = N_(
                "⏰ {name} has not arrived at {ref} within 15 minutes of the job being dispatched "
                "or resumed."
            )
        if ticket.assignee is not None:
            # The work order's own Arrived button: pressing it here records the arrival
            # exactly as pressing it on the work order does.
            reminder = msg(to_tech, ref=ticket.ref)
            reminder.button_row((N_("Arrived"), notices.data("arr", ticket)))
            enqueue(session, ticket.assignee, reminder, now, ticket_id=ticket.id)
        await notices.to_role(session, Role.TEAM_LEAD, ticket, repair, to_lead, now, name=name)
    else:
        await notices.to_role(
            session,
            Role.SUPERVISOR,
            ticket,
            repair,
            N_("🚨 {name} has still not arrived at {ref}, an hour after the deadline."),
            now,
            name=name,
        )


@on_due("repair.review")
async def _review_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state != rp.St.REVIEW:
        return
    ticket, repair = found
    if d.level == 1:
        body = msg(
            N_(
                "⏰ The technical review of {ref} has taken more than 30 minutes; the "
                "technician must be back on site."
            ),
            ref=ticket.ref,
        )
        body.button_row((N_("Review concluded"), notices.data("rvd", ticket)))
        await notify_role(
            session, Role.TEAM_LEAD, body, now, building=repair.building, ticket_id=ticket.id
        )
    else:
        await notices.to_role(
            session,
            Role.SUPERVISOR,
            ticket,
            repair,
            N_("🚨 The technical review of {ref} is still open, an hour after the deadline."),
            now,
        )


@on_due("repair.reply")
async def _reply_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state not in rp.OPEN - {rp.St.PAUSED}:
        return
    ticket, repair = found
    booked = (
        repair.appointment_at is not None
        and repair.dispatched_at is not None
        and repair.appointment_at > repair.dispatched_at
    )
    text = (
        N_("🚨 {ref}: no result reported within 24 hours of the booked visit (now: {state}).")
        if booked
        else N_("🚨 {ref}: no result reported within 24 hours of dispatch (now: {state}).")
    )
    state = notices.state_label(ticket.state)
    await notices.to_role(session, Role.RECEPTIONIST, ticket, repair, text, now, state=state)
    await notices.to_role(session, Role.SUPERVISOR, ticket, repair, text, now, state=state)
    if ticket.owner is not None:  # (who reported it, in-home or public)
        enqueue(
            session,
            ticket.owner,
            msg(
                N_(
                    "We are sorry: your repair {ref} is taking longer than it should "
                    "(now: {state}). The office has been told and is following it up."
                ),
                ref=ticket.ref,
                state=state,
            ),
            now,
            ticket_id=ticket.id,
        )


@on_due("repair.confirm")
async def _confirm_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state != rp.St.DONE:
        return
    ticket, repair = found
    if d.level == 1:
        await notices.completed(
            session,
            ticket,
            repair,
            await rp.materials_of(session, ticket),
            await rp.fees_of(session, ticket),
            now,
            env,
            reminder=True,
        )
        return
    await rp.close_unconfirmed(session, ticket, repair, now, env)
    if repair.scope == "public":
        text = N_(
            "🚨 Public repair {ref} was not confirmed by the area's service officer within "
            "48 hours; it has been closed as unconfirmed."
        )
        # The front desk, which recorded it, learns how it ended too (seed ch.4 四.1).
        for role in (Role.SUPERVISOR, Role.RECEPTIONIST):
            await notices.to_role(session, role, ticket, repair, text, now)
    else:
        await notices.followup_task(session, ticket, repair, now, env)


@on_due("repair.followup")
async def _followup_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _ticket(session, d)
    if found is None or found[0].state not in {rp.St.CONFIRMED, rp.St.UNCONFIRMED}:
        return
    ticket, repair = found
    await notices.to_role(
        session,
        Role.SUPERVISOR,
        ticket,
        repair,
        N_("🚨 The follow-up call (回访) for {ref} is overdue."),
        now,
    )


# --- daily report ---------------------------------------------------------------------------


@dataclass
class Counts:
    filed: int = 0
    dispatched: int = 0
    done: int = 0
    overdue: int = 0
    ratings: list[int] = field(default_factory=list)

    @property
    def average(self) -> str:
        return f"{sum(self.ratings) / len(self.ratings):.1f}" if self.ratings else "—"


def report_period(end: datetime, env: Env) -> tuple[datetime, datetime]:
    """What a report made at `end` covers: since the last report time (17:30) before it. Each
    report starts where the one before ended, so what happens in the evening is in the next
    day's report rather than in none."""
    tz = env.calendar.tz
    local_end = end.astimezone(tz)
    start = datetime.combine(local_end.date(), env.repair.report_time, tz)
    if start >= local_end:
        start = datetime.combine(local_end.date() - timedelta(days=1), env.repair.report_time, tz)
    return start, end


async def daily_counts(
    session: AsyncSession, start: datetime, end: datetime, env: Env
) -> dict[str, Counts]:
    """The repair figures of a report period (after `start`, up to and including `end`: what
    happens at the very moment of a report is in that report), in-home and public apart
    (seed ch.3 step 7)."""
    out = {"home": Counts(), "public": Counts()}
    filed = await session.execute(
        select(rp.Repair.scope, func.count())
        .join(Ticket, Ticket.id == rp.Repair.ticket_id)
        .where(Ticket.created_at > start, Ticket.created_at <= end)
        .group_by(rp.Repair.scope)
    )
    for scope, n in filed.all():
        out[scope].filed = n
    events = await session.execute(
        select(rp.Repair.scope, TicketEvent.action, func.count())
        .join(rp.Repair, rp.Repair.ticket_id == TicketEvent.ticket_id)
        .where(
            TicketEvent.at > start,
            TicketEvent.at <= end,
            TicketEvent.action.in_(["dispatched", "done"]),
        )
        .group_by(rp.Repair.scope, TicketEvent.action)
    )
    for scope, action, n in events.all():
        if action == "dispatched":
            out[scope].dispatched = n
        else:
            out[scope].done = n
    overdue = await session.execute(
        select(rp.Repair.scope, func.count(func.distinct(Deadline.ticket_id)))
        .join(rp.Repair, rp.Repair.ticket_id == Deadline.ticket_id)
        .where(
            Deadline.fired_at > start,
            Deadline.fired_at <= end,
            Deadline.kind.in_(
                [
                    "repair.dispatch",
                    "repair.arrival",
                    "repair.review",
                    "repair.reply",
                    "repair.followup",
                ]
            ),
        )
        .group_by(rp.Repair.scope)
    )
    for scope, n in overdue.all():
        out[scope].overdue = n
    ratings = await session.execute(
        select(rp.Repair.scope, rp.Repair.rating).where(
            rp.Repair.confirmed_at > start,
            rp.Repair.confirmed_at <= end,
            rp.Repair.rating.is_not(None),
        )
    )
    for scope, rating in ratings.all():
        if rating is not None:
            out[scope].ratings.append(int(rating))
    return out


def report_message(start: datetime, end: datetime, counts: dict[str, Counts]) -> Msg:
    body = Msg().add(N_("📊 Daily report (客服中心日报表), {start} – {end}"), start=start, end=end)
    for scope, title in (("home", N_("In-home repairs")), ("public", N_("Public repairs"))):
        c = counts[scope]
        body.add(
            N_(
                "{title}: filed {filed}, dispatched {dispatched}, done {done}, overdue "
                "{overdue}, average rating {rating}"
            ),
            title=msg(title),
            filed=c.filed,
            dispatched=c.dispatched,
            done=c.done,
            overdue=c.overdue,
            rating=c.average,
        )
    return body


def next_report_at(now: datetime, env: Env) -> datetime:
    local = now.astimezone(env.calendar.tz)
    at = datetime.combine(local.date(), env.repair.report_time, env.calendar.tz)
    if at <= local:
        at += timedelta(days=1)
    return at


@at_startup
async def ensure_daily_report(session: AsyncSession, now: datetime, env: Env) -> None:
    """Make sure the next daily report is scheduled."""
    await ensure_pending(session, REPORT, next_report_at(now, env), now)


@on_due(REPORT)
async def _daily_report(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    start, end = report_period(d.due_at, env)
    counts = await daily_counts(session, start, end, env)
    report = report_message(start, end, counts)
    told = {p.id for p in await notify_role(session, Role.SUPERVISOR, report, now)}
    # Seed ch.3 step 7 note 1: the service officers (客户服务员) compile the 客服中心日报表,
    # in-home and public apart. Each gets it once (not again as a supervisor), and nobody
    # holding the role sends no "nobody holds that role" copy to the supervisors.
    for officer in await staff_with_role(session, Role.SERVICE):
        if officer.id not in told:
            enqueue(session, officer, report, now, for_role=Role.SERVICE)
    schedule(session, REPORT, next_report_at(max(now, d.due_at) + timedelta(seconds=1), env), now)
