"""The shut-off and restore orders of a vacancy (seed 5.2.4): the receptionist dispatches,
the technician reads both meters and records water and electricity off (or back on). One
function per user action, each in the caller's unit of work.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models import vacancy_meters as meters
from models import vacancy_notices as notices
from models import vacancy_steps as steps
from models.base import N_, DomainError
from models.env import Env
from models.notification import enqueue, msg
from models.people import Person, Role
from models.ticket import Ticket
from models.vacancy import St, load


async def dispatch(
    session: AsyncSession,
    ticket_id: int,
    technician_id: int,
    actor: Person,
    now: datetime,
    *,
    move: bool = False,
    expected_assignee_id: int | None = None,
) -> Ticket:
    """Send the order (from the order message), or `move` it (from the reassign menu made
    while `expected_assignee_id` had it)."""
    ticket, v = await load(session, ticket_id)
    technician = await session.get(Person, technician_id)
    if technician is None:
        raise DomainError("stale")
    previous = await steps.dispatch(
        session,
        ticket,
        v,
        technician,
        actor,
        now,
        move=move,
        expected_assignee_id=expected_assignee_id,
    )
    if previous is not None:
        enqueue(
            session,
            previous,
            msg(
                N_("{ref} has been given to {name}; you no longer need to go."),
                ref=ticket.ref,
                name=technician.name,
            ),
            now,
            ticket_id=ticket.id,
        )
    enqueue(
        session,
        technician,
        notices.work_order(ticket, v, await notices.applicant(session, ticket)),
        now,
        ticket_id=ticket.id,
        fallback_role=Role.TECHNICIAN,
        fallback_building=v.building,
    )
    return ticket


async def check_reading(
    session: AsyncSession, ticket_id: int, actor: Person, meter: str, value: Decimal, env: Env
) -> None:
    """One typed reading of a shut-off or restore visit, checked before the next question."""
    ticket, v = await load(session, ticket_id)
    steps.require_assignee(ticket, actor)
    await meters.check_reading(session, v.unit_id, meter, value, env)


async def record_visit(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    water: Decimal,
    electricity: Decimal,
    now: datetime,
    env: Env,
) -> Ticket:
    """The technician's shut-off or restore visit: both meters read, the state moves on."""
    ticket, v = await load(session, ticket_id)
    steps.require_assignee(ticket, actor)
    shutting = ticket.state == St.SHUTOFF
    if ticket.state not in {St.SHUTOFF, St.RESTORE}:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    if shutting:
        steps.require_started(v, now, env)
    _, previous = await meters.record(
        session,
        unit_id=v.unit_id,
        kind="shutoff" if shutting else "restore",
        water=water,
        electricity=electricity,
        actor=actor,
        now=now,
        env=env,
        ticket_id=ticket.id,
    )
    unit = ticket.unit.code if ticket.unit else "—"
    values = notices.readings(water, electricity)
    if shutting:
        await steps.shut_off(session, ticket, v, actor, water, electricity, now, env)
        text = N_("Water and electricity of {unit} are now off ({ref}). Meter readings: {values}.")
        await notices.to_role(
            session,
            Role.SERVICE,
            ticket,
            v,
            msg(
                N_(
                    "{unit} is vacant from {start} ({ref}); it joins your monthly inspections. "
                    "Meter readings: {values}."
                ),
                unit=unit,
                start=v.start_date,
                ref=ticket.ref,
                values=values,
            ),
            now,
        )
    else:
        await steps.restore(session, ticket, v, actor, water, electricity, now)
        text = N_("Water and electricity of {unit} are back on ({ref}). Meter readings: {values}.")
        used = meters.usage(previous, water, electricity, now, env)
        if used.occupied and steps.used_before_end(ticket, v, actor, used, now, env):
            await notices.tell_occupied(
                session, ticket, v, used.water, used.electricity, used.since, now, at_restore=True
            )
    if shutting or await notices.still_owner(session, ticket, v):
        notices.to_owner(session, ticket, msg(text, unit=unit, ref=ticket.ref, values=values), now)
    return ticket
