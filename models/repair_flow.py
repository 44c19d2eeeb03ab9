"""Repair operations as handlers call them: load, change the 维修单, tell the people concerned.

One function per user action; each runs in the caller's unit of work and raises DomainError
when the actor, the ticket's state or the input does not allow the action.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import repair as rp
from models import repair_notices as notices
from models.base import N_, DomainError
from models.env import Env
from models.notification import Money, Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.property import Unit
from models.repair_deadlines import daily_counts, report_message, report_period
from models.ticket import Kind, Ticket, open_button

# Who may ask for the daily report (客服中心日报表) on demand: the supervisors, the
# receptionists, and the service officers who compile it (seed ch.3 step 7 note 1).
REPORT_ROLES = frozenset({Role.SUPERVISOR, Role.RECEPTIONIST, Role.SERVICE})


async def load(session: AsyncSession, ticket_id: int) -> tuple[Ticket, rp.Repair]:
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.kind != Kind.REPAIR.value:
        raise DomainError("stale")
    return ticket, await rp.repair_of(session, ticket)


async def file(
    session: AsyncSession,
    owner: Person,
    unit: Unit,
    answers: dict[str, Any],
    now: datetime,
    env: Env,
) -> Ticket:
    appointment = answers.get("appointment")
    ticket, repair = await rp.file_repair(
        session,
        owner=owner,
        unit=unit,
        scope=answers["scope"],
        category=answers["category"],
        description=answers["description"],
        location=answers.get("location"),
        building=answers.get("building"),
        photos=list(answers.get("photos", [])),
        appointment_at=datetime.fromisoformat(appointment) if appointment else None,
        fees_accepted=list(answers.get("fees", [])),
        now=now,
        env=env,
    )
    await notices.filed(session, ticket, repair, now, env)
    return ticket


async def dispatch(
    session: AsyncSession,
    ticket_id: int,
    technician_id: int,
    actor: Person,
    now: datetime,
    env: Env,
    *,
    reassign: bool = False,
    expected_assignee_id: int | None = None,
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    technician = await session.get(Person, technician_id)
    if technician is None:
        raise DomainError("stale")
    previous = ticket.assignee
    action = await rp.dispatch(
        session,
        ticket,
        repair,
        technician,
        actor,
        now,
        env,
        reassign=reassign,
        expected_assignee_id=expected_assignee_id,
    )
    if action == "reassigned" and previous is not None:
        enqueue(
            session,
            previous,
            msg(
                N_("{ref} has been reassigned to {name}; you no longer need to attend."),
                ref=ticket.ref,
                name=technician.name,
            ),
            now,
            ticket_id=ticket.id,
        )
    await notices.dispatched(ticket, repair, technician, now, env, session)
    return ticket


async def reassign_menu(session: AsyncSession, ticket_id: int, actor: Person, env: Env) -> Msg:
    """A fresh list of technicians for a dispatched ticket (receptionists only)."""
    ticket, repair = await load(session, ticket_id)
    rp.require(actor, Role.RECEPTIONIST, repair.building)
    if ticket.state not in {rp.St.NEW} | rp.REASSIGNABLE:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    body = Msg().add(N_("Choose a technician for {ref}:"), ref=ticket.ref)
    action = "dsp" if ticket.state == rp.St.NEW else "rsg"
    await notices.dispatch_buttons(session, ticket, repair, env, body, action=action)
    if ticket.state in {rp.St.DISPATCHED, rp.St.ACCEPTED}:
        body.button_row((N_("Return to the queue"), notices.data("ret", ticket)))
    return body


async def return_to_queue(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    previous = await rp.return_to_queue(session, ticket, repair, actor, now, env)
    if previous is not None:
        enqueue(
            session,
            previous,
            msg(
                N_("{ref} was taken back by the front desk; you no longer need to attend."),
                ref=ticket.ref,
            ),
            now,
        )
    # The owner was told who was coming: that no longer holds.
    notices.reporter_status(
        session,
        ticket,
        actor,
        N_(
            "Your repair {ref} has been taken back by the front desk and will be dispatched "
            "again; you will get a message when it is."
        ),
        now,
    )
    await notices.filed(session, ticket, repair, now, env, reopened=True)
    return ticket


async def accept(session: AsyncSession, ticket_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, _ = await load(session, ticket_id)
    rp.accept(ticket, actor, now)
    return ticket


async def arrive(session: AsyncSession, ticket_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.arrive(session, ticket, repair, actor, now)
    notices.owner_status(session, ticket, N_("The technician has arrived for {ref}."), now)
    return ticket


async def request_review(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.request_review(session, ticket, actor, note, now, env)
    body = Msg().add(
        N_("🔍 Technical review requested by {name} for {ref}: {note}"),
        name=actor.name,
        ref=ticket.ref,
        note=note,
    )
    body.lines += notices.describe(ticket, repair, env, contact=False).lines
    body.add(N_("Conclude within 30 minutes so the technician is back on site."))
    body.button_row((N_("Review concluded"), notices.data("rvd", ticket)))
    await notify_role(
        session, Role.TEAM_LEAD, body, now, building=repair.building, ticket_id=ticket.id
    )
    return ticket


async def conclude_review(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.conclude_review(session, ticket, repair, actor, note, now)
    if ticket.assignee is not None:
        enqueue(
            session,
            ticket.assignee,
            msg(
                N_("Technical review of {ref} concluded by {name}: {note}"),
                ref=ticket.ref,
                name=actor.name,
                note=note,
            ),
            now,
            ticket_id=ticket.id,
        )
    return ticket


async def pause(
    session: AsyncSession, ticket_id: int, actor: Person, reason: str, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.pause(session, ticket, repair, actor, reason, now, env)
    if ticket.owner is not None:
        enqueue(
            session,
            ticket.owner,
            msg(
                N_(
                    "Your repair {ref} is waiting for parts: {reason}. We will continue as soon as "
                    "they arrive."
                ),
                ref=ticket.ref,
                reason=reason,
            ),
            now,
            ticket_id=ticket.id,
        )
    await notices.to_role(
        session,
        Role.RECEPTIONIST,
        ticket,
        repair,
        N_("{ref} is paused, waiting for parts: {reason}"),
        now,
        reason=reason,
    )
    return ticket


async def resume(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> tuple[Ticket, datetime | None]:
    """The ticket, and by when the technician must be on site if they had not arrived yet.
    The owner, told the job was waiting for parts, is told it goes on."""
    ticket, repair = await load(session, ticket_id)
    arrive_by = await rp.resume(session, ticket, repair, actor, now, env)
    if ticket.owner is not None:
        enqueue(
            session,
            ticket.owner,
            msg(N_("The parts for your repair {ref} are here: the work goes on."), ref=ticket.ref),
            now,
            ticket_id=ticket.id,
        )
    return ticket, arrive_by


async def add_material(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    values: dict[str, Any],
    now: datetime,
    env: Env,
) -> Ticket:
    """A material on the 维修单. Recorded after Done, whoever signs gets the request again
    with it (seed ch.3 step 3: 请业主当面验证), as for a fee."""
    ticket, repair = await load(session, ticket_id)
    rp.add_material(session, ticket, actor, values, now)
    if ticket.state == rp.St.DONE:
        await session.flush()
        materials = await rp.materials_of(session, ticket)
        fees = await rp.fees_of(session, ticket)
        await notices.completed(
            session, ticket, repair, materials, fees, now, env, material_added=True
        )
    return ticket


async def record_fee(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    amount: Decimal,
    note: str,
    now: datetime,
    env: Env,
) -> Ticket:
    """A fee on the 维修单. Recorded after Done, the owner (or the service officer) has
    already been asked to sign without it: they get the request again, with the fee (seed
    ch.3 steps 1, 5-6: the owner is told the amount and signs for it)."""
    ticket, repair = await load(session, ticket_id)
    fee = rp.record_fee(session, ticket, actor, amount, note, now)
    await session.flush()  # the fee's id goes on the cashier's button
    body = msg(
        N_(
            "💰 Fee recorded on {ref} by {name}: {amount} ({note}). Invoice to "
            "be delivered to the owner."
        ),
        ref=ticket.ref,
        name=actor.name,
        amount=Money(amount),
        note=note,
    ).button_row((N_("Invoice delivered"), f"r:inv:{ticket.id}:{fee.id}"))
    await notify_role(
        session, Role.CASHIER, body, now, building=repair.building, ticket_id=ticket.id
    )
    if ticket.state == rp.St.DONE:
        materials = await rp.materials_of(session, ticket)
        fees = await rp.fees_of(session, ticket)
        await notices.completed(session, ticket, repair, materials, fees, now, env, fee_added=True)
    return ticket


async def invoice_delivered(
    session: AsyncSession, ticket_id: int, fee_id: int, actor: Person, now: datetime
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.invoice_delivered(session, ticket, repair, fee_id, actor, now)
    return ticket


async def complete(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.complete(session, ticket, repair, actor, now, env)
    materials = await rp.materials_of(session, ticket)
    fees = await rp.fees_of(session, ticket)
    await notices.completed(session, ticket, repair, materials, fees, now, env)
    if repair.scope == "public":  # the service officer signs; the reporter hears it is done
        notices.reporter_status(
            session,
            ticket,
            actor,
            N_(
                "The work on your repair {ref} is done. The area's service officer will check "
                "it and sign it off."
            ),
            now,
        )
    return ticket


async def may_sign(session: AsyncSession, ticket_id: int, actor: Person) -> Ticket:
    """Check before offering the rating buttons; changes nothing."""
    ticket, repair = await load(session, ticket_id)
    if not rp.may_confirm(ticket, repair, actor):
        raise DomainError("not_allowed")
    if ticket.state != rp.St.DONE:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    return ticket


async def confirm(
    session: AsyncSession, ticket_id: int, actor: Person, rating: int, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    await rp.confirm(session, ticket, repair, actor, rating, now, env)
    if await rp.materials_of(session, ticket):
        ticket.record("material_verified", actor, now)
    if ticket.assignee is not None:
        enqueue(
            session,
            ticket.assignee,
            msg(
                N_("{ref} was confirmed with a rating of {rating}/5."),
                ref=ticket.ref,
                rating=rating,
            ),
            now,
            ticket_id=ticket.id,
        )
    if repair.scope == "home":
        await notices.followup_task(session, ticket, repair, now, env)
    else:
        # Seed ch.4 四.1: the result goes back to the front desk, which recorded the request.
        await notices.to_role(
            session,
            Role.RECEPTIONIST,
            ticket,
            repair,
            N_(
                "✅ Public repair {ref} was checked and signed off by the service officer "
                "{name} (rating {rating}/5); it is closed."
            ),
            now,
            name=actor.name,
            rating=rating,
        )
        notices.reporter_status(
            session,
            ticket,
            actor,
            N_(
                "Your repair {ref} has been checked by the area's service officer and is "
                "closed. Thank you for reporting it."
            ),
            now,
        )
    return ticket


async def comment(
    session: AsyncSession, ticket_id: int, actor: Person, text: str, now: datetime
) -> Ticket:
    """The signer's optional comment after rating (the owner's; on a public repair the service
    officer's); the follow-up caller should see it, and who said it."""
    ticket, repair = await load(session, ticket_id)
    rp.comment(ticket, repair, actor, text, now)
    if repair.scope == "home":
        said = N_("💬 Comment on {ref} from the owner: {text}")
    else:
        said = N_("💬 Comment on {ref} from the service officer {name}: {text}")
    await notices.to_role(
        session, Role.RECEPTIONIST, ticket, repair, said, now, text=text, name=actor.name
    )
    return ticket


async def not_fixed(
    session: AsyncSession, ticket_id: int, actor: Person, note: str, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    technician = ticket.assignee
    await rp.not_fixed(session, ticket, repair, actor, note, now, env)
    ticket.assignee_id = None
    ticket.assignee = None
    await notices.filed(session, ticket, repair, now, env, reopened=True)
    await notices.to_role(
        session,
        Role.RECEPTIONIST,
        ticket,
        repair,
        N_("⚠️ {ref} was reported NOT fixed: {note}"),
        now,
        note=note,
    )
    if technician is not None:
        enqueue(
            session,
            technician,
            msg(N_("⚠️ {ref} was reported not fixed: {note}"), ref=ticket.ref, note=note),
            now,
        )
    if repair.scope == "public":
        notices.reporter_status(
            session,
            ticket,
            actor,
            N_(
                "The area's service officer found that your repair {ref} is not fixed yet; "
                "it has gone back to the maintenance team."
            ),
            now,
        )
    return ticket


async def follow_up(
    session: AsyncSession,
    ticket_id: int,
    actor: Person,
    satisfied: bool,
    note: str,
    now: datetime,
    env: Env,
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    technician = ticket.assignee
    await rp.follow_up(session, ticket, repair, actor, satisfied, note, now, env)
    if not satisfied:
        ticket.assignee_id = None
        ticket.assignee = None
        await notices.filed(session, ticket, repair, now, env, reopened=True)
        await notices.to_role(
            session,
            Role.TEAM_LEAD,
            ticket,
            repair,
            N_(
                "⚠️ Follow-up of {ref}: the owner is not satisfied ({note}). "
                "The repair has been reopened."
            ),
            now,
            note=note,
        )
        if technician is not None:
            enqueue(
                session,
                technician,
                msg(
                    N_("⚠️ Follow-up of {ref}: the owner is not satisfied ({note})."),
                    ref=ticket.ref,
                    note=note,
                ),
                now,
            )
    return ticket


async def urge(
    session: AsyncSession, ticket_id: int, actor: Person, now: datetime, env: Env
) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    rp.urge(ticket, repair, actor, now, env)
    body = msg(
        N_("⏰ The owner is urging {ref} (currently: {state})."),
        ref=ticket.ref,
        state=notices.state_label(ticket.state),
    )
    if ticket.assignee is not None:
        # With the buttons of their work order for where the job is now.
        enqueue(
            session,
            ticket.assignee,
            notices.technician_buttons(ticket, body),
            now,
            ticket_id=ticket.id,
            fallback_role=Role.TECHNICIAN,
            fallback_building=repair.building,
        )
    else:
        # Nobody has it: the front desk can dispatch it from here, or open its card.
        await notices.dispatch_buttons(session, ticket, repair, env, body)
        body.button_row(open_button(ticket))
        await notify_role(
            session, Role.RECEPTIONIST, body, now, building=repair.building, ticket_id=ticket.id
        )
    return ticket


async def cancel(session: AsyncSession, ticket_id: int, actor: Person, now: datetime) -> Ticket:
    ticket, repair = await load(session, ticket_id)
    technician = await rp.cancel(session, ticket, repair, actor, now)
    text = N_("{ref} was cancelled by the owner.")
    if technician is not None:
        enqueue(session, technician, msg(text, ref=ticket.ref), now, ticket_id=ticket.id)
    await notices.to_role(session, Role.RECEPTIONIST, ticket, repair, text, now, actor=actor)
    return ticket


async def cancel_by_office(
    session: AsyncSession, ticket_id: int, actor: Person, reason: str, now: datetime
) -> Ticket:
    """The front desk (or a supervisor) cancels a request no one has started work on; the
    owner hears why, and the technician who had it that they need not come."""
    ticket, repair = await load(session, ticket_id)
    technician = await rp.cancel_by_office(session, ticket, repair, actor, reason, now)
    if ticket.owner is not None and ticket.owner_id != actor.id:
        enqueue(
            session,
            ticket.owner,
            msg(
                N_(
                    "Your repair {ref} has been cancelled by the property office: {reason}. "
                    "If this is not what you expected, please call the front desk."
                ),
                ref=ticket.ref,
                reason=reason,
            ),
            now,
            ticket_id=ticket.id,
        )
    if technician is not None:
        enqueue(
            session,
            technician,
            msg(
                N_("{ref} was cancelled by the office ({reason}); you no longer need to attend."),
                ref=ticket.ref,
                reason=reason,
            ),
            now,
            ticket_id=ticket.id,
        )
    return ticket


async def public_places(session: AsyncSession, ticket_ids: list[int]) -> dict[int, Msg]:
    """Where each public repair among `ticket_ids` is (its place and building), for a list
    such as /queue: the reporter's own unit would read as if the job were in their home."""
    if not ticket_ids:
        return {}
    rows = await session.execute(
        select(rp.Repair.ticket_id, rp.Repair.location, rp.Repair.building).where(
            rp.Repair.ticket_id.in_(ticket_ids), rp.Repair.scope == "public"
        )
    )
    return {
        tid: msg(
            N_("public area: {place} (building {building})"),
            place=_cut(place or "—", 60),
            building=building,
        )
        for tid, place, building in rows.all()
    }


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


async def card_sheet(session: AsyncSession, ticket: Ticket, viewer: Person, env: Env) -> Msg:
    """The 维修单 lines of a repair's ticket card. Only staff see phone numbers; an owner sees
    their own ticket (who may open a card is checked before, by models.queries.may_view)."""
    repair = await rp.repair_of(session, ticket)
    staff = viewer.is_staff
    out = notices.sheet(
        ticket,
        repair,
        await rp.materials_of(session, ticket),
        await rp.fees_of(session, ticket),
        env,
        contact=staff,
        reporter=await notices.reporter(session, ticket) if staff else None,
    )
    if ticket.state == rp.St.CANCELLED:
        reason = await rp.office_cancel_reason(session, ticket)
        if reason:
            out.add(N_("Cancelled by the office: {reason}"), reason=reason)
    return out


# Who may start which multi-step action, checked before the form opens (and again at the end).
_CHECKS: dict[str, tuple[str, set[rp.St]]] = {
    "rev": ("assignee", {rp.St.ON_SITE}),
    "pau": ("assignee", {rp.St.ON_SITE, rp.St.ACCEPTED, rp.St.DISPATCHED}),
    "mat": ("assignee", rp.WORKING | {rp.St.DONE}),
    "fee": ("assignee", rp.WORKING | {rp.St.DONE}),
    "rvd": ("team_lead", {rp.St.REVIEW}),
    "nf": ("signer", {rp.St.DONE}),
    "ok": ("signer", {rp.St.DONE}),
    "fu": ("receptionist", {rp.St.CONFIRMED, rp.St.UNCONFIRMED}),
    "ocx": ("office", set()),  # (the states: rp.cancellable_states, which depend on the job)
}


async def check(session: AsyncSession, ticket_id: int, actor: Person, action: str) -> Ticket:
    """Raise DomainError unless `actor` may start `action` on the ticket now; changes nothing."""
    ticket, repair = await load(session, ticket_id)
    who, states = _CHECKS[action]
    if who == "assignee":
        rp.require_assignee(ticket, actor)
    elif who == "team_lead":
        rp.require(actor, Role.TEAM_LEAD, repair.building)
    elif who == "receptionist":
        rp.require(actor, Role.RECEPTIONIST, repair.building)
        if action == "fu":
            await rp.require_not_own_home(session, ticket, actor)
    elif who == "office":
        if not rp.may_cancel_for_owner(actor, repair):
            raise DomainError("not_allowed")
        if ticket.state not in rp.cancellable_states(repair) or ticket.closed_at is not None:
            raise DomainError("repair_cancel_started", ref=ticket.ref, state=ticket.state)
        return ticket
    elif not rp.may_confirm(ticket, repair, actor):
        raise DomainError("not_allowed")
    if ticket.state not in states or ticket.closed_at is not None:
        raise DomainError("ticket_state", ref=ticket.ref, state=ticket.state)
    return ticket


async def report(session: AsyncSession, actor: Person, now: datetime, env: Env) -> Msg:
    """Today's 客服中心日报表 on demand (supervisors, receptionists, and the service officers
    who compile it: seed ch.3 step 7 note 1)."""
    if not any(actor.has_role(r) for r in REPORT_ROLES):
        raise DomainError("not_allowed")
    start, end = report_period(now, env)
    return report_message(start, end, await daily_counts(session, start, end, env))
