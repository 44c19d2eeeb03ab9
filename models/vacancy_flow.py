"""Vacancy operations as handlers call them: load, change the application, tell the people
concerned. One function per user action, each in the caller's unit of work; a DomainError
means the actor, the state or the input does not allow it and nothing was changed.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models import vacancy_inspection as insp
from models import vacancy_notices as notices
from models import vacancy_steps as steps
from models.base import N_, DomainError
from models.deadline import Deadline, schedule
from models.env import Env
from models.notification import Msg, msg
from models.people import Person, Role
from models.ticket import Ticket
from models.vacancy import St, Vacancy, file_application, load, owned_unit, vacancy_of
from models.vacancy_dates import id_deadline, opening_of


async def file(
    session: AsyncSession,
    owner: Person,
    unit_id: int,
    start: date,
    end: date,
    reason: str,
    renews: int | None,
    now: datetime,
    env: Env,
) -> Ticket:
    await _may_apply(session, owner, unit_id)
    ticket, v = await file_application(
        session,
        owner=owner,
        unit_id=unit_id,
        start=start,
        end=end,
        reason=reason,
        renews=renews,
        now=now,
        env=env,
    )
    if renews is not None:
        old = await session.get(Ticket, renews)
        if old is not None and old.owner_id == owner.id:
            old.record("renewed", owner, now, data={"ref": ticket.ref})
    # The application lapses if the ID has not been seen by the close of its start date, or
    # if it is still undecided when its end date comes; approved, it ends on that date.
    cal = env.calendar
    schedule(session, "vacancy.lapse", id_deadline(cal, start, now), now, ticket_id=ticket.id)
    schedule(session, "vacancy.end", opening_of(cal, end), now, ticket_id=ticket.id)
    await session.flush()  # before the notices read the new ticket's unit and owner
    await notices.filed(session, ticket, v, now)
    return ticket


async def confirm_id(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    ticket, v = await load(session, ticket_id)
    await steps.confirm_id(session, ticket, v, actor, now, env)
    notices.to_owner(
        session,
        ticket,
        msg(
            N_(
                "Your original ID was checked for {ref}. The application now goes to the "
                "service officer's opinion and the supervisor's approval."
            ),
            ref=ticket.ref,
        ),
        now,
    )
    return ticket


async def sign_opinion(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    ok: bool,
    note: str,
    now: datetime,
    env: Env,
) -> Ticket:
    ticket, v = await load(session, ticket_id)
    await steps.sign_opinion(session, ticket, v, actor, ok, note, now, env)
    await notices.opinion_signed(session, ticket, v, actor, now)
    return ticket


async def step_due(session: AsyncSession, ticket: Ticket, kind: str) -> datetime | None:
    """The escalation time of the ticket's open step deadline (shown in orders)."""
    from sqlalchemy import select

    return await session.scalar(
        select(Deadline.due_at).where(
            Deadline.ticket_id == ticket.id,
            Deadline.kind == kind,
            Deadline.level == 2,
            Deadline.fired_at.is_(None),
            Deadline.done_at.is_(None),
        )
    )


async def approve(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    ticket, v = await load(session, ticket_id)
    continued = await steps.approve(session, ticket, v, actor, now, env)
    if continued is not None:
        text = N_(
            "✅ Your vacancy application {ref} is approved. Property fee and shared utilities "
            "are at 50 % as of {start}; from {end} they are at 100 % again. It follows on from "
            "{previous}: water and electricity stay off."
        )
    else:
        text = N_(
            "✅ Your vacancy application {ref} is approved. Property fee and shared "
            "utilities are at 50 % as of {start}; from {end} they are at 100 % again. A "
            "technician will shut off water and electricity and read the meters."
        )
    extra = {"previous": continued.ref} if continued is not None else {}
    body = msg(text, ref=ticket.ref, start=v.start_date, end=v.end_date, **extra)
    notices.to_owner(session, ticket, body, now)
    await notices.rate_change(session, ticket, v, notices.half_rate(v), now)
    if continued is None:
        due = await step_due(session, ticket, "vacancy.shutoff")
        await notices.order_for_desk(session, ticket, v, due or now, now)
    return ticket


async def reject(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime
) -> Ticket:
    ticket, v = await load(session, ticket_id)
    await steps.reject(session, ticket, v, actor, note, now)
    notices.to_owner(
        session,
        ticket,
        msg(
            N_("Your vacancy application {ref} was not approved: {note}. Fees stay at 100 %."),
            ref=ticket.ref,
            note=note,
        ),
        now,
    )
    await notices.to_role(
        session,
        Role.SERVICE,
        ticket,
        v,
        msg(N_("{ref} was rejected by {name}: {note}"), ref=ticket.ref, name=actor.name, note=note),
        now,
    )
    return ticket


async def cancel(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    """The owner cancels: withdrawn before approval; afterwards 100 % as of today, and a unit
    already shut off gets a restore order."""
    return await _end_early(session, ticket_id, actor, now, env)


async def end_for_unlinked_owner(
    session: AsyncSession, ticket_id: int, now: datetime, env: Env
) -> Ticket:
    """``units unbind``: the owner's vacancy on the unit ends with their link, as if they had
    cancelled it today. The application was theirs (5.2.1: in person, with their ID); a new
    owner applies for themselves, and nothing more about the unit goes to the former one."""
    return await _end_early(session, ticket_id, None, now, env)


async def _end_early(
    session: AsyncSession, ticket_id: int, owner: Person | None, now: datetime, env: Env
) -> Ticket:
    """Ended before its date by the owner, or (None) with the owner's link. Told: a technician
    no longer needed; the officers (not approved yet) or the cashier (the fee rate changes);
    the front desk of a restore order."""
    ticket, v = await load(session, ticket_id)
    approved = v.half_from is not None
    if owner is not None:
        dropped = await steps.cancel(session, ticket, v, owner, now, env)
        withdrawn = N_("{ref} was withdrawn by the owner.")
        early = (
            N_("cancelled by the owner before it began; the fee stays at 100 %.")
            if v.half_until is not None and v.half_until <= v.start_date
            else N_("cancelled early by the owner; 100 % again from {day}.")
        )
    else:
        dropped = await steps.end_early(session, ticket, v, None, now, env)
        withdrawn = N_("{ref} has ended: the office ended the owner's link to the unit.")
        early = N_("the office ended the owner's link to the unit; 100 % again from {day}.")
    await notices.tell_dropped(session, ticket, dropped, now)
    if not approved:
        await notices.to_officers(session, ticket, v, msg(withdrawn, ref=ticket.ref), now)
        return ticket
    await notices.rate_change(session, ticket, v, msg(early, day=v.half_until), now)
    if ticket.state == St.RESTORE:
        due = await step_due(session, ticket, "vacancy.restore")
        await notices.order_for_desk(session, ticket, v, due or now, now)
    return ticket


def check_owner_action(ticket: Ticket, actor: Person) -> None:
    if ticket.owner_id != actor.id:
        raise DomainError("not_allowed")


async def check_cancel(session: AsyncSession, ticket_id: int, actor: Person) -> Ticket:
    """Before asking the owner to confirm a cancellation; changes nothing."""
    ticket, _ = await load(session, ticket_id)
    check_owner_action(ticket, actor)
    if ticket.state not in {
        s.value for s in (St.ID_CHECK, St.OPINION, St.APPROVAL, St.SHUTOFF, St.VACANT)
    }:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    return ticket


async def cancel_terms(
    session: AsyncSession, ticket_id: int, actor: Person, today: date
) -> tuple[Ticket, Msg]:
    """What cancelling will do, for the owner to confirm; changes nothing. A vacancy with an
    approved renewal keeps the unit shut off for it, and a renewal cancelled while the
    vacancy it continues is running leaves that one as it is: no restore order either way."""
    ticket = await check_cancel(session, ticket_id, actor)
    v = await vacancy_of(session, ticket)
    out = msg(N_("Cancel {ref}?"), ref=ticket.ref)
    if ticket.state == St.SHUTOFF and today < v.start_date:
        out.add(
            N_("It has not begun yet ({start}): the fee simply stays at 100 %."), start=v.start_date
        )
    elif ticket.state == St.SHUTOFF:
        out.add(N_("Fees return to 100 % as of today."))
    if ticket.state != St.VACANT:
        return ticket, out
    successor, current = await steps.shut_off_partners(session, ticket, v)
    if successor is not None:
        following = await vacancy_of(session, successor)
        out.add(
            N_(
                "Fees return to 100 % as of today. Water and electricity stay off: your next "
                "application {next} still runs from {start}, at 50 %. To have them turned back "
                "on, cancel {next} as well."
            ),
            next=successor.ref,
            start=following.start_date,
        )
    elif current is not None:
        running = await vacancy_of(session, current)
        out.add(
            N_(
                "{ref} is then dropped: from {start} the fee stays at 100 %, not 50 %. Your "
                "current vacancy {current} goes on as approved until {end}; water and "
                "electricity are turned back on then."
            ),
            ref=ticket.ref,
            start=v.start_date,
            current=current.ref,
            end=running.end_date,
        )
    else:
        out.add(
            N_(
                "Fees return to 100 % as of today, and a technician will turn water and "
                "electricity back on and read the meters."
            )
        )
    return ticket, out


async def let_end(session: AsyncSession, ticket_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, _ = await load(session, ticket_id)
    steps.answer_reminder(ticket, actor, now)
    return ticket


async def renewal(session: AsyncSession, ticket_id: int, actor: Person) -> tuple[Ticket, Vacancy]:
    """What a re-application starts from (5.2.7): the same unit, from the old end date (also
    pressed late, after the old one has ended)."""
    ticket, v = await load(session, ticket_id)
    check_owner_action(ticket, actor)
    if ticket.state not in {St.SHUTOFF, St.VACANT, St.RESTORE, St.ENDED}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    # (refused before the form opens, not at its Submit)
    await _may_apply(session, actor, v.unit_id)
    return ticket, v


async def _may_apply(session: AsyncSession, owner: Person, unit_id: int) -> None:
    """An application is for a unit the person owns (no longer, once the office ended the
    link) that is not recorded as not yet renovated (5.2.1: 未装修的不用申请)."""
    unit = await owned_unit(session, owner, unit_id)
    if await insp.unrenovated(session, [unit_id]):
        raise DomainError("vacancy_unrenovated", unit=unit.code)


# Who may start which multi-step staff action, checked before its form opens.
async def check(
    session: AsyncSession, ticket_id: int, actor: Person, action: str, now: datetime, env: Env
) -> Ticket:
    ticket, v = await load(session, ticket_id)
    if action == "op":
        steps.require(actor, Role.SERVICE, v.building)
        await steps.require_not_own(session, ticket, v, actor)
        states = {St.OPINION}
    elif action == "rj":
        steps.require(actor, Role.SUPERVISOR, v.building)
        await steps.require_not_own(session, ticket, v, actor)
        states = {St.APPROVAL}
    else:
        steps.require_assignee(ticket, actor)
        states = {St.SHUTOFF} if action == "off" else {St.RESTORE}
    if ticket.state not in states:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    if action == "off":
        steps.require_started(v, now, env)
    return ticket
