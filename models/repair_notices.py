"""Who is told what when a repair changes (the notifications of SPEC §2.1).

Every function queues outbox rows in the caller's transaction. Callback data carries only
ids: ``r:<action>:<ticket id>[:<arg>]``; the server re-checks everything on a press.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.env import Env
from models.notification import Localized, Money, Msg, enqueue, msg, notify_role
from models.people import Person, Role, staff_with_role
from models.property import Reporter, reporter_for
from models.repair import STATE_NAMES, Fee, Material, Repair, last_reopening, open_jobs_of
from models.ticket import Ticket, TicketEvent, open_button

SCOPES = {"home": N_("in-home"), "public": N_("public area")}


def data(action: str, ticket: Ticket, arg: int | str | None = None) -> str:
    return f"r:{action}:{ticket.id}" + (f":{arg}" if arg is not None else "")


def describe(
    ticket: Ticket,
    repair: Repair,
    env: Env,
    *,
    contact: bool,
    reporter: Reporter | None = None,
    now: datetime | None = None,
) -> Msg:
    """The 维修单 body. `contact` adds the owner's name and phone (staff whose work needs it),
    and `reporter`, whoever filed it when that is not the registered owner (a tenant, a family
    member), with their own phone: the one at home, who may not be the one on file. Given
    `now`, an appointment already past says so (a visit after "Not fixed", a late dispatch)."""
    cat = env.repair.category(repair.category)
    out = Msg()
    out.add(
        N_("{ref} · {scope} repair · {category}"),
        ref=ticket.ref,
        scope=msg(SCOPES[repair.scope]),
        category=Localized(cat.name()) if cat else repair.category,
    )
    if repair.scope == "home" and ticket.unit is not None:
        out.add(N_("Unit: {unit}"), unit=ticket.unit.code)
    if repair.location:
        out.add(
            N_("Location: {place} (building {building})"),
            place=repair.location,
            building=repair.building,
        )
    if contact and ticket.owner is not None:
        # The register's owner; the one who filed stands in only when they are that owner
        # (a tenant's name or phone must not pass for the landlord's).
        stand_in = ticket.owner if reporter is None else None
        unit = ticket.unit
        name = (unit.owner_name if unit else None) or (stand_in.name if stand_in else None)
        phone = (unit.owner_phone if unit else None) or (stand_in.phone if stand_in else None)
        out.add(N_("Owner: {name}, phone {phone}"), name=name or "—", phone=phone or "—")
        if reporter is not None:
            out.lines += reported_by(reporter).lines
    if repair.scope == "home":
        if repair.appointment_at and now is not None and repair.appointment_at <= now:
            out.add(
                N_("Appointment: {time} (passed: agree a new time with the owner)"),
                time=repair.appointment_at,
            )
        elif repair.appointment_at:
            out.add(N_("Appointment: {time}"), time=repair.appointment_at)
        else:
            out.add(N_("Appointment: as soon as possible"))
    out.add(N_("Details: {text}"), text=repair.description)
    for fee in repair.fees_accepted:
        out.add(
            N_("Fee accepted by the owner: {item} {amount}"),
            item=Localized(fee["item"]),
            amount=Money(fee["amount"]),
        )
    out.photos = list(repair.photos)
    return out


async def dispatch_buttons(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    env: Env,
    message: Msg,
    action: str = "dsp",
) -> Msg:
    """Dispatch buttons, the technicians with the fewest open jobs first."""
    techs = [
        t
        for t in await staff_with_role(session, Role.TECHNICIAN, repair.building)
        if t.id != ticket.assignee_id
    ]
    jobs_of = await open_jobs_of(session, [t.id for t in techs])
    loads = [(jobs_of.get(t.id, 0), t) for t in techs]

    loads.sort(key=lambda pair: (pair[1].unreachable_at is not None, pair[0], pair[1].id))
    # A reassignment carries who has the job now, so that a list a colleague has overtaken
    # is refused rather than silently moving the job again (see `repair.dispatch`).
    since = f":{ticket.assignee_id}" if action == "rsg" else ""
    limit = env.repair.max_open_per_technician
    free = [(jobs, tech) for jobs, tech in loads if jobs < limit]
    for jobs, tech in free[:8]:
        message.button_row(
            (
                N_("Dispatch → {name} ({jobs} open)"),
                {"name": tech.name, "jobs": jobs},
                data(action, ticket, f"{tech.id}{since}"),
            )
        )
    if not loads:
        message.add(
            N_("No technician is registered for building {building}."), building=repair.building
        )
    elif not free:
        # No buttons at all would leave the front desk guessing why.
        message.add(
            N_(
                "⚠️ No technician is free: building {building} has {count} technician(s), all "
                "at the open-job limit ({limit}). Return a job not yet started to the queue "
                "(/ticket REF → Dispatch / reassign), or raise it with the supervisor."
            ),
            count=len(loads),
            building=repair.building,
            limit=limit,
        )
    return message


async def filed(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    now: datetime,
    env: Env,
    *,
    reopened: bool = False,
) -> None:
    head = N_("🔁 Repair reopened: {ref}") if reopened else N_("🆕 New repair: {ref}")
    body = Msg().add(head, ref=ticket.ref)
    who = await reporter(session, ticket)
    body.lines += describe(ticket, repair, env, contact=True, reporter=who).lines
    body.photos = list(repair.photos)
    await dispatch_buttons(session, ticket, repair, env, body)
    await notify_role(
        session, Role.RECEPTIONIST, body, now, building=repair.building, ticket_id=ticket.id
    )


async def reporter(session: AsyncSession, ticket: Ticket) -> Reporter | None:
    """Who filed the repair, when that is not the unit's registered owner (see `describe`)."""
    return await reporter_for(session, ticket.owner, ticket.unit)


def reported_by(who: Reporter) -> Msg:
    """The line naming a reporter who is not the registered owner, with their own phone."""
    return msg(
        N_("Reported by {name}, not the registered owner, phone {phone}"),
        name=who.name,
        phone=who.phone or "—",
    )


def work_order(
    ticket: Ticket,
    repair: Repair,
    env: Env,
    reporter: Reporter | None = None,
    *,
    now: datetime | None = None,
    reopened: TicketEvent | None = None,
) -> Msg:
    """The technician's 维修单 with the actions of the job; a repair sent back for another
    visit says which visit it is and what is still wrong (`reopened`)."""
    body = Msg().add(N_("📋 Work order (维修单) {ref} — assigned to you"), ref=ticket.ref)
    if repair.reopen_count:
        visit = repair.reopen_count + 1
        if reopened is not None and reopened.note:
            body.add(
                N_("🔁 Visit {visit}: reopened after the last visit. Still wrong: {reason}"),
                visit=visit,
                reason=reopened.note,
            )
        else:
            body.add(N_("🔁 Visit {visit}: reopened after the last visit."), visit=visit)
    body.lines += describe(ticket, repair, env, contact=True, reporter=reporter, now=now).lines
    body.photos = list(repair.photos)
    body.button_row((N_("Accept"), data("acc", ticket)), (N_("Arrived"), data("arr", ticket)))
    body.button_row(
        (N_("Technical review"), data("rev", ticket)),
        (N_("Waiting for parts"), data("pau", ticket)),
    )
    body.button_row(
        (N_("Add material"), data("mat", ticket)), (N_("Record fee"), data("fee", ticket))
    )
    body.button_row((N_("Done"), data("done", ticket)))
    return body


# The technician's buttons per state of their job: the /ticket card's and an urging's.
TECHNICIAN_STEPS: dict[str, list[tuple[str, str]]] = {
    "dispatched": [(N_("Accept"), "acc"), (N_("Arrived"), "arr")],
    "accepted": [(N_("Arrived"), "arr"), (N_("Waiting for parts"), "pau")],
    "on_site": [
        (N_("Technical review"), "rev"),
        (N_("Waiting for parts"), "pau"),
        (N_("Add material"), "mat"),
        (N_("Record fee"), "fee"),
        (N_("Done"), "done"),
    ],
    "paused": [(N_("Resume"), "res"), (N_("Add material"), "mat")],
    # (what was forgotten before Done: the signer is asked again with it)
    "done": [(N_("Add material"), "mat"), (N_("Record fee"), "fee")],
}


def technician_buttons(ticket: Ticket, message: Msg) -> Msg:
    """The assigned technician's buttons for the job's current state, two to a row."""
    steps = [
        (label, data(action, ticket)) for label, action in TECHNICIAN_STEPS.get(ticket.state, [])
    ]
    for i in range(0, len(steps), 2):
        message.button_row(*steps[i : i + 2])
    return message


async def dispatched(
    ticket: Ticket,
    repair: Repair,
    technician: Person,
    now: datetime,
    env: Env,
    session: AsyncSession,
) -> None:
    enqueue(
        session,
        technician,
        work_order(
            ticket,
            repair,
            env,
            await reporter(session, ticket),
            now=now,
            reopened=await last_reopening(session, ticket) if repair.reopen_count else None,
        ),
        now,
        ticket_id=ticket.id,
        fallback_role=Role.TECHNICIAN,
        fallback_building=repair.building,
    )
    # The reporter of a public repair was promised the same news as an in-home one.
    if ticket.owner is not None:
        enqueue(
            session,
            ticket.owner,
            msg(
                N_("Your repair {ref} has been dispatched to {name}."),
                ref=ticket.ref,
                name=technician.name,
            ),
            now,
            ticket_id=ticket.id,
        )


def owner_status(session: AsyncSession, ticket: Ticket, text: str, now: datetime) -> None:
    if ticket.owner is not None:
        enqueue(session, ticket.owner, msg(text, ref=ticket.ref), now, ticket_id=ticket.id)


def reporter_status(
    session: AsyncSession, ticket: Ticket, actor: Person, text: str, now: datetime
) -> None:
    """Tell whoever reported the repair, unless they are the one acting (a service officer
    who reported a public repair and signs it off)."""
    if ticket.owner is not None and ticket.owner_id != actor.id:
        owner_status(session, ticket, text, now)


def materials_block(materials: list[Material], fees: list[Fee]) -> Msg:
    out = Msg()
    if materials:
        out.add(N_("Materials used:"))
        total = Decimal(0)
        for m in materials:
            out.add(
                N_("• {name}, {spec}, {model}: {qty} × {price} = {total}"),
                name=m.name,
                spec=m.spec,
                model=m.model,
                qty=m.quantity,
                price=Money(m.unit_price),
                total=Money(m.total),
            )
            total += m.total
        out.add(N_("Materials total: {total}"), total=Money(total))
    else:
        out.add(N_("No materials were used."))
    for fee in fees:
        out.add(N_("Fee charged: {amount} ({note})"), amount=Money(fee.amount), note=fee.note)
    return out


def sheet(
    ticket: Ticket,
    repair: Repair,
    materials: list[Material],
    fees: list[Fee],
    env: Env,
    *,
    contact: bool,
    reporter: Reporter | None = None,
) -> Msg:
    """The 维修单 as a ticket card shows it, under the card's own unit and details lines:
    scope and place, appointment, who works on it, materials and fees, the signature and the
    follow-up call (回访). `contact` (staff only) adds the owner's and reporter's phones."""
    body = describe(ticket, repair, env, contact=contact, reporter=reporter)
    repeated = {"Unit: {unit}", "Details: {text}"}  # (the card has them already)
    out = Msg(lines=[line for line in body.lines if line[0] not in repeated])
    if ticket.assignee is not None:
        out.add(N_("Technician: {name}"), name=ticket.assignee.name)
    if repair.pause_reason:
        out.add(N_("Waiting for parts: {reason}"), reason=repair.pause_reason)
    if materials or fees:
        out.lines += materials_block(materials, fees).lines
    if repair.rating:
        out.add(N_("Rating: {stars} ({rating}/5)"), stars="★" * repair.rating, rating=repair.rating)
    if repair.rating_comment:
        out.add(N_("Comment: {text}"), text=repair.rating_comment)
    if repair.followup_at is not None:
        out.add(
            N_("Follow-up call (回访) {time}: {result}"),
            time=repair.followup_at,
            result=msg(N_("Satisfied") if repair.followup_satisfied else N_("Not satisfied")),
        )
        if repair.followup_note:
            out.add(N_("Follow-up notes: {text}"), text=repair.followup_note)
    return out


def confirm_request(
    ticket: Ticket,
    repair: Repair,
    materials: list[Material],
    fees: list[Fee],
    env: Env,
    *,
    reminder: bool = False,
    fee_added: bool = False,
    material_added: bool = False,
) -> Msg:
    head = (
        N_("⏰ Reminder: please confirm repair {ref}.")
        if reminder
        else N_(
            "💰 A fee was added to repair {ref} after it was marked done. Please check it "
            "below before you confirm."
        )
        if fee_added
        else N_(
            "🧾 A material was added to repair {ref} after it was marked done. Please check "
            "it below before you confirm."
        )
        if material_added
        else N_("✅ Repair {ref} is done. Please check the work and the materials below.")
    )
    out = Msg().add(head, ref=ticket.ref)
    out.lines += describe(ticket, repair, env, contact=False).lines
    out.lines += materials_block(materials, fees).lines
    out.button_row(
        (N_("Confirm and rate"), data("ok", ticket)), (N_("Not fixed"), data("nf", ticket))
    )
    return out


async def completed(
    session: AsyncSession,
    ticket: Ticket,
    repair: Repair,
    materials: list[Material],
    fees: list[Fee],
    now: datetime,
    env: Env,
    *,
    reminder: bool = False,
    fee_added: bool = False,
    material_added: bool = False,
) -> None:
    """Ask the owner (in-home) or the area's service officer (public) to sign."""
    body = confirm_request(
        ticket,
        repair,
        materials,
        fees,
        env,
        reminder=reminder,
        fee_added=fee_added,
        material_added=material_added,
    )
    body.photos = []
    if repair.scope == "public":
        await notify_role(
            session, Role.SERVICE, body, now, building=repair.building, ticket_id=ticket.id
        )
    elif ticket.owner is not None:
        enqueue(session, ticket.owner, body, now, ticket_id=ticket.id)


async def followup_task(
    session: AsyncSession, ticket: Ticket, repair: Repair, now: datetime, env: Env
) -> None:
    body = Msg().add(N_("📞 Follow-up call (回访) for {ref}"), ref=ticket.ref)
    who = await reporter(session, ticket)
    body.lines += describe(ticket, repair, env, contact=True, reporter=who).lines
    body.photos = []
    if repair.rating:
        body.add(
            N_("Rating: {stars} ({rating}/5)"), stars="★" * repair.rating, rating=repair.rating
        )
    else:
        body.add(N_("The owner did not confirm the repair."))
    if repair.rating_comment:
        body.add(N_("Comment: {text}"), text=repair.rating_comment)
    body.button_row(
        (N_("Satisfied"), data("fu", ticket, "y")), (N_("Not satisfied"), data("fu", ticket, "n"))
    )
    await notify_role(
        session, Role.RECEPTIONIST, body, now, building=repair.building, ticket_id=ticket.id
    )


async def to_role(
    session: AsyncSession,
    role: Role,
    ticket: Ticket,
    repair: Repair,
    msgid: str,
    now: datetime,
    /,
    *,
    actor: Person | None = None,
    **params: object,
) -> None:
    """Tell a role about a ticket (escalations, alerts), with a button to open its card: the
    reader's actions on it (dispatch, cancel, conclude a review…) are there. `actor` is not
    told of their own action."""
    body = msg(msgid, ref=ticket.ref, **params).button_row(open_button(ticket))
    await notify_role(
        session, role, body, now, building=repair.building, ticket_id=ticket.id, actor=actor
    )


def state_label(state: str) -> Msg:
    return msg(STATE_NAMES.get(state, state))  # type: ignore[call-overload]
