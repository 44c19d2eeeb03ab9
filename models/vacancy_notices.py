"""Who is told what about a vacancy application (SPEC §2.3), and the texts they read.

Every function queues outbox rows in the caller's transaction. Callback data carries only
ids: ``v:<action>:<ticket id>[:<arg>]``; the server re-checks everything on a press.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role, staff_with_role
from models.property import OWNER_RELATIONS, Reporter, relation_to, reporter_for
from models.ticket import Ticket
from models.vacancy import STATE_NAMES, St, Vacancy


def data(action: str, ticket: Ticket, arg: int | str | None = None) -> str:
    return f"v:{action}:{ticket.id}" + (f":{arg}" if arg is not None else "")


async def applicant(session: AsyncSession, ticket: Ticket) -> Reporter | None:
    """Who applied, when that is not the unit's registered owner (a co-owner): the one whose
    original ID the officer checks (5.2.1) and who is called about the application."""
    return await reporter_for(session, ticket.owner, ticket.unit)


def describe(
    ticket: Ticket, v: Vacancy, *, contact: bool, applicant: Reporter | None = None
) -> Msg:
    """The 《空置房申请表》 as staff read it; `contact` adds the owner's name and phone and,
    when someone else applied (`applicant`), theirs."""
    out = Msg().add(
        N_("{ref} · vacancy application · unit {unit}"),
        ref=ticket.ref,
        unit=ticket.unit.code if ticket.unit else "—",
    )
    if contact and ticket.owner is not None:
        unit = ticket.unit
        # The applicant stands in for the register only when they are that owner (a
        # co-owner's name or phone must not pass for the registered owner's).
        stand_in = ticket.owner if applicant is None else None
        name = (unit.owner_name if unit else None) or (stand_in.name if stand_in else None)
        phone = (unit.owner_phone if unit else None) or (stand_in.phone if stand_in else None)
        out.add(N_("Owner: {name}, phone {phone}"), name=name or "—", phone=phone or "—")
        if applicant is not None:
            out.add(
                N_("Applicant: {name}, phone {phone} (not the registered owner)"),
                name=applicant.name,
                phone=applicant.phone or "—",
            )
    out.add(N_("Vacant from {start} until {end}"), start=v.start_date, end=v.end_date)
    out.add(N_("Reason: {text}"), text=v.reason)
    return out


def state_label(state: str) -> Msg:
    return msg(STATE_NAMES.get(state, state))  # type: ignore[call-overload]


def rate_lines(v: Vacancy, rate: int | None) -> Msg:
    """What the owner reads about the fee rate in /my and on the ticket card; the rate in
    force today (the unit's, whoever's application makes it) only with `rate`."""
    out = Msg()
    if rate is not None:
        out.add(N_("Fee rate in force today: {rate} %"), rate=rate)
    if v.half_from is not None and v.half_until is not None and v.half_from < v.half_until:
        out.add(
            N_("50 %: {start} until {end}; 100 % again from {end}"),
            start=v.half_from,
            end=v.half_until,
        )
    else:
        out.add(N_("Requested: {start} until {end}"), start=v.start_date, end=v.end_date)
    return out


async def to_role(
    session: AsyncSession, role: Role, ticket: Ticket, v: Vacancy, body: Msg, now: datetime
) -> list[Person]:
    return await notify_role(session, role, body, now, building=v.building, ticket_id=ticket.id)


async def to_officers(
    session: AsyncSession, ticket: Ticket, v: Vacancy, body: Msg, now: datetime
) -> None:
    """The building's service officers; if the building has none, the supervisors (so the
    work is not silently lost)."""
    if not await to_role(session, Role.SERVICE, ticket, v, body, now):
        body.add(N_("(No service officer is registered for building {b}.)"), b=v.building)
        await to_role(session, Role.SUPERVISOR, ticket, v, body, now)


async def still_owner(session: AsyncSession, ticket: Ticket, v: Vacancy) -> bool:
    """Whether the applicant is still linked to the unit as its owner: once the office has
    ended the link (``units unbind``), what happens in the flat is the new owner's business."""
    if ticket.owner_id is None:
        return False
    return await relation_to(session, ticket.owner_id, v.unit_id) in OWNER_RELATIONS


def to_owner(session: AsyncSession, ticket: Ticket, body: Msg, now: datetime) -> None:
    if ticket.owner is not None:
        enqueue(session, ticket.owner, body, now, ticket_id=ticket.id)


async def filed(session: AsyncSession, ticket: Ticket, v: Vacancy, now: datetime) -> None:
    body = msg(
        N_("🆕 Vacancy application {ref}: the owner will bring the original ID to the office."),
        ref=ticket.ref,
    )
    who = await applicant(session, ticket)
    body.lines += describe(ticket, v, contact=True, applicant=who).lines
    if who is None:
        body.add(N_("Press the button once you have seen the original ID (5.2.1)."))
    else:
        body.add(
            N_(
                "Press the button once you have seen the original ID of the applicant, {name} "
                "(5.2.1)."
            ),
            name=who.name,
        )
    body.button_row((N_("Original ID seen"), data("id", ticket)))
    await to_officers(session, ticket, v, body, now)


def opinion_buttons(ticket: Ticket, body: Msg) -> Msg:
    return body.button_row(
        (N_("Recommend approval"), data("op", ticket, "y")),
        (N_("Recommend rejection"), data("op", ticket, "n")),
    )


def decision_buttons(ticket: Ticket, body: Msg) -> Msg:
    return body.button_row((N_("Approve"), data("ap", ticket)), (N_("Reject"), data("rj", ticket)))


async def opinion_signed(
    session: AsyncSession, ticket: Ticket, v: Vacancy, officer: Person, now: datetime
) -> None:
    body = msg(N_("✍️ Vacancy application {ref} needs your approval."), ref=ticket.ref)
    who = await applicant(session, ticket)
    body.lines += describe(ticket, v, contact=True, applicant=who).lines
    body.add(
        N_("Service officer {name}: {opinion} — {note}"),
        name=officer.name,
        opinion=msg(N_("recommends approval") if v.opinion_ok else N_("recommends rejection")),
        note=v.opinion_note or "",
    )
    decision_buttons(ticket, body)
    await to_role(session, Role.SUPERVISOR, ticket, v, body, now)


async def dispatch_buttons(
    session: AsyncSession, ticket: Ticket, v: Vacancy, body: Msg, *, move: bool = False
) -> Msg:
    """One button per technician: `dsp` on the order message (refused once the order is
    sent), `mv` in the reassign menu (moves it). A move carries who had the order when the
    menu was made (0: nobody), so that a menu a colleague has overtaken is refused rather
    than silently moving the order again (see `vacancy_steps.dispatch`)."""
    technicians = [
        t
        for t in await staff_with_role(session, Role.TECHNICIAN, v.building)
        if t.id != ticket.assignee_id
    ]
    technicians.sort(key=lambda t: (t.unreachable_at is not None, t.id))
    for tech in technicians[:8]:
        body.button_row(
            (
                N_("Dispatch → {name}"),
                {"name": tech.name},
                data("mv", ticket, f"{tech.id}:{ticket.assignee_id or 0}")
                if move
                else data("dsp", ticket, tech.id),
            )
        )
    if not technicians:
        body.add(N_("No technician is registered for building {b}."), b=v.building)
    return body


async def order_for_desk(
    session: AsyncSession, ticket: Ticket, v: Vacancy, due: datetime, now: datetime
) -> None:
    """The shut-off or restore order waiting for a receptionist to dispatch it (5.2.4)."""
    who = await applicant(session, ticket)
    if ticket.state == St.SHUTOFF:
        body = msg(N_("🔌 Shut-off order for {ref}"), ref=ticket.ref)
        body.lines += describe(ticket, v, contact=True, applicant=who).lines
        body.add(
            N_("Water and electricity off and both meters read, from {start}; due by {due}."),
            start=v.start_date,
            due=due,
        )
    else:
        body = msg(N_("🔌 Restore order for {ref}"), ref=ticket.ref)
        body.lines += describe(ticket, v, contact=True, applicant=who).lines
        body.add(N_("Water and electricity back on and both meters read; due by {due}."), due=due)
    await dispatch_buttons(session, ticket, v, body)
    await to_role(session, Role.RECEPTIONIST, ticket, v, body, now)


def work_order(ticket: Ticket, v: Vacancy, applicant: Reporter | None = None) -> Msg:
    """The technician's order, with the one button that records the visit."""
    if ticket.state == St.SHUTOFF:
        body = msg(N_("📋 Shut-off order {ref} — assigned to you"), ref=ticket.ref)
        body.lines += describe(ticket, v, contact=True, applicant=applicant).lines
        body.add(
            N_("Turn off water and electricity and read both meters, from {start}."),
            start=v.start_date,
        )
        return body.button_row((N_("Record shut-off"), data("off", ticket)))
    body = msg(N_("📋 Restore order {ref} — assigned to you"), ref=ticket.ref)
    body.lines += describe(ticket, v, contact=True, applicant=applicant).lines
    body.add(N_("Turn water and electricity back on and read both meters."))
    return body.button_row((N_("Record restore"), data("on", ticket)))


def readings(water: Decimal, electricity: Decimal) -> Msg:
    return msg(
        N_("water {water} t, electricity {electricity} kWh"), water=water, electricity=electricity
    )


async def rate_change(
    session: AsyncSession, ticket: Ticket, v: Vacancy, what: Msg, now: datetime
) -> None:
    """5.2.3/5.2.5/5.2.6: the cashier is told every change of the unit's fee rate."""
    body = msg(
        N_("💰 Fee rate change, unit {unit} ({ref}): {what}"),
        unit=ticket.unit.code if ticket.unit else "—",
        ref=ticket.ref,
        what=what,
    )
    await to_role(session, Role.CASHIER, ticket, v, body, now)


async def tell_occupied(
    session: AsyncSession,
    ticket: Ticket,
    v: Vacancy,
    water: Decimal,
    electricity: Decimal,
    since: datetime | None,
    now: datetime,
    *,
    at_restore: bool = False,
) -> None:
    """5.2.6: owner and cashier are told, with the numbers, that the fee is back to 100 %
    (视为入住收费), found at a monthly inspection or, `at_restore`, at the restore visit that
    ends the vacancy (the owner only while the unit is still theirs)."""
    unit = ticket.unit.code if ticket.unit else "—"
    numbers = msg(
        N_(
            "water {water} t and electricity {electricity} kWh used since {since} "
            "(the limits are 1 t and 5 kWh a month)"
        ),
        water=water,
        electricity=electricity,
        since=since,
    )
    if not at_restore:
        told = N_(
            "The meter readings of {unit} show {numbers}. Under the vacancy rules the unit "
            "counts as occupied: {ref} has ended and property fee and shared utilities are at "
            "100 % as of {day}."
        )
    else:
        told = N_(
            "The meter readings taken when the water and electricity of {unit} were turned "
            "back on show {numbers}. Under the vacancy rules the unit counts as occupied for "
            "that time: property fee and shared utilities of {ref} are at 100 % as of {day}."
        )
    if not at_restore or await still_owner(session, ticket, v):
        to_owner(
            session,
            ticket,
            msg(told, unit=unit, numbers=numbers, ref=ticket.ref, day=v.half_until),
            now,
        )
    await rate_change(
        session,
        ticket,
        v,
        msg(
            N_("the unit is in use ({numbers}); 100 % again from {day}."),
            numbers=numbers,
            day=v.half_until,
        ),
        now,
    )


async def tell_successor_ended(
    session: AsyncSession, ticket: Ticket, v: Vacancy, previous: Ticket, now: datetime
) -> None:
    """The approved renewal `ticket` ended with `previous`, found occupied (5.2.6): its
    50 % never applies; owner and cashier are told."""
    to_owner(
        session,
        ticket,
        msg(
            N_(
                "As the unit was found in use during {previous}, your following vacancy {ref} "
                "(from {start}) has ended too: property fee and shared utilities stay at "
                "100 %. If the unit stands empty again, you can apply anew with /vacancy."
            ),
            previous=previous.ref,
            ref=ticket.ref,
            start=v.start_date,
        ),
        now,
    )
    await rate_change(
        session,
        ticket,
        v,
        msg(
            N_(
                "ended with {previous} (the unit is in use): from {start} the fee stays at "
                "100 %, not 50 %."
            ),
            previous=previous.ref,
            start=v.start_date,
        ),
        now,
    )


def half_rate(v: Vacancy) -> Msg:
    return msg(
        N_("property fee and shared utilities at 50 % as of {start}; 100 % again from {end}."),
        start=v.half_from,
        end=v.half_until,
    )


def full_rate_from(day: date | None, why: str) -> Msg:
    return msg(why, day=day)


async def tell_dropped(
    session: AsyncSession, ticket: Ticket, technician: Person | None, now: datetime
) -> None:
    if technician is not None:
        enqueue(
            session,
            technician,
            msg(
                N_("The order for {ref} is no longer needed; you do not need to go."),
                ref=ticket.ref,
            ),
            now,
            ticket_id=ticket.id,
        )
