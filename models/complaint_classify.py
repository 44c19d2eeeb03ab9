"""Recording a complaint or suggestion (业主投诉/建议处理记录表, 4.2.3): three choosing steps for
the front desk (class, major or not, the person responsible, sharing the unit), then one change
that sends the work-contact order (工作联系单); class 2 also files the linked warranty repair
(4.2.6) through the repair flow."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from models import complaint_notices as notices
from models import complaint_ops as ops
from models import repair_flow
from models.base import N_, DomainError
from models.complaint import (
    Complaint,
    St,
    is_desk,
    load,
    require,
    require_state,
    sees_everything,
    unit_of,
)
from models.complaint_flow import major_report
from models.complaint_handling import order_for
from models.env import Env
from models.notification import Msg, enqueue, msg, notify_role
from models.people import ROLE_NAMES, Person, Role, staff_with_role
from models.property import Unit
from models.repair import OPEN as REPAIR_OPEN
from models.repair import Repair, on_repair_ended, similar
from models.repair import St as RepairSt
from models.ticket import Kind, Ticket

# Class button codes: class and, for class 2, where the warranty repair is (4.2.6).
CODES: dict[str, tuple[int | None, str | None]] = {
    "1": (1, None),
    "2h": (2, "home"),
    "2p": (2, "public"),
    "3": (3, None),
    "s": (None, None),
}


async def _recording(
    session: AsyncSession, ticket_id: int, actor: Person
) -> tuple[Ticket, Complaint]:
    ticket, complaint = await load(session, ticket_id)
    require(is_desk(actor, complaint))
    require_state(ticket, {St.RECORDING})
    return ticket, complaint


def parse_code(ticket: Ticket, code: str) -> tuple[int | None, str | None]:
    """(class, repair scope) of a class button; a suggestion's code only fits a suggestion."""
    found = CODES.get(code)
    if found is None or (found[0] is None) != notices.is_suggestion(ticket):
        raise DomainError("stale")
    return found


async def major_menu(session: AsyncSession, ticket_id: int, actor: Person, code: str) -> Msg:
    """Step two: major or not (4.2.5). Changes nothing."""
    ticket, complaint = await _recording(session, ticket_id, actor)
    parse_code(ticket, code)
    out = msg(
        N_(
            "Is {ref} a major case? Major: raised with the company, the group or a government "
            "office, or hard to handle; the department head is told at once."
        ),
        ref=ticket.ref,
    )
    major = (N_("Major"), notices.data("maj", ticket, f"{code}.1"))
    if complaint.major:
        return out.button_row(major)  # what the owner took elsewhere stays major
    return out.button_row((N_("Not major"), notices.data("maj", ticket, f"{code}.0")), major)


MAX_PEOPLE = 20  # buttons in one menu; a chat keyboard taller than this is hard to use


async def candidates(session: AsyncSession, building: str, env: Env) -> list[Person]:
    """Who may be made responsible: reachable first, then by role in the office's order of
    responsibility (the building's service officer before a guard), least loaded first within
    a role. Load alone would let six idle guards push the service officer off the list."""
    people: dict[int, Person] = {}
    rank: dict[int, int] = {}
    for index, role in enumerate(env.complaint.responsible_roles):
        for person in await staff_with_role(session, Role(role), building):
            people.setdefault(person.id, person)
            rank.setdefault(person.id, index)
    rows = await session.execute(
        select(Ticket.assignee_id, func.count())
        .where(
            Ticket.kind.in_([Kind.COMPLAINT.value, Kind.SUGGESTION.value]),
            Ticket.state == St.IN_HAND.value,
            Ticket.assignee_id.in_(list(people)),
        )
        .group_by(Ticket.assignee_id)
    )
    loads = {person_id: int(count) for person_id, count in rows.all()}
    return sorted(
        people.values(),
        key=lambda p: (p.unreachable_at is not None, rank[p.id], loads.get(p.id, 0), p.id),
    )


async def responsible_menu(
    session: AsyncSession, ticket_id: int, actor: Person, arg: str, env: Env
) -> Msg:
    """Step three: who is responsible, with their role. Changes nothing."""
    ticket, complaint = await _recording(session, ticket_id, actor)
    code, major = _code_major(ticket, arg)
    out = msg(N_("Who is responsible for {ref}?"), ref=ticket.ref)
    people = await candidates(session, complaint.building, env)
    if complaint.on_the_spot:
        # 4.2.1: whoever resolved it on the spot answers for it (and for a send-back)
        people = [p for p in people if p.id == ticket.created_by_id] or people
    return _people_buttons(
        out, people, complaint, env, lambda p: notices.data("who", ticket, f"{code}.{major}.{p.id}")
    )


def _people_buttons(
    out: Msg, people: list[Person], complaint: Complaint, env: Env, data: Callable[[Person], str]
) -> Msg:
    """One button per person who may be made responsible (name and role), or why there is none."""
    for person in people[:MAX_PEOPLE]:
        role = _fallback_role(person, complaint, env)
        out.button_row(
            (
                N_("{name} · {role}"),
                {"name": person.name, "role": msg(ROLE_NAMES[role]) if role else "-"},
                data(person),
            )
        )
    if len(people) > MAX_PEOPLE:
        out.add(
            N_(
                "{shown} of {count} shown: the roles closest to the case first, then the "
                "least busy."
            ),
            shown=MAX_PEOPLE,
            count=len(people),
        )
    if not people:
        out.add(
            N_("Nobody can be made responsible for building {building}."),
            building=complaint.building,
        )
    return out


async def reassign_menu(session: AsyncSession, ticket_id: int, actor: Person, env: Env) -> Msg:
    """The front desk chooses who takes the case over. Changes nothing."""
    ticket, complaint = await load(session, ticket_id)
    require(is_desk(actor, complaint))
    require_state(ticket, {St.IN_HAND, St.ANSWERED})
    out = msg(N_("Who should take {ref} over?"), ref=ticket.ref)
    people = [
        p for p in await candidates(session, complaint.building, env) if p.id != ticket.assignee_id
    ]
    return _people_buttons(
        out, people, complaint, env, lambda p: notices.data("rsp", ticket, str(p.id))
    )


async def reassign(
    session: AsyncSession, ticket_id: int, actor: Person, arg: str, now: datetime, env: Env
) -> tuple[Ticket, Complaint, Person]:
    """The case goes to someone else: they get the work-contact order; whoever held it is
    told they no longer need to handle it."""
    ticket, complaint = await load(session, ticket_id)
    responsible = await _person(session, arg)
    previous = await ops.reassign(session, ticket, complaint, actor, responsible, now, env)
    enqueue(
        session,
        responsible,
        await order_for(session, ticket, complaint),
        now,
        ticket_id=ticket.id,
        fallback_role=_fallback_role(responsible, complaint, env),
        fallback_building=complaint.building,
    )
    if previous is not None and previous.id != responsible.id and previous.is_staff:
        enqueue(
            session,
            previous,
            msg(
                N_("{ref} has been given to {name}; you no longer need to handle it."),
                ref=ticket.ref,
                name=responsible.name,
            ),
            now,
            ticket_id=ticket.id,
        )
    return ticket, complaint, responsible


def _code_major(ticket: Ticket, arg: str) -> tuple[str, int]:
    parts = arg.split(".")
    if len(parts) < 2 or parts[1] not in ("0", "1"):
        raise DomainError("stale")
    parse_code(ticket, parts[0])
    return parts[0], int(parts[1])


async def share_menu(session: AsyncSession, ticket_id: int, actor: Person, arg: str) -> Msg:
    """Step four: may the person responsible see the unit and the owner's name? Changes
    nothing; the answer sends the order."""
    ticket, _ = await _recording(session, ticket_id, actor)
    code, major = _code_major(ticket, arg)
    person = await _person(session, arg.split(".")[2] if arg.count(".") == 2 else "")
    out = msg(
        N_(
            "Share the owner's unit and name with {name}? The phone number is never shown "
            "to the person responsible."
        ),
        name=person.name,
    )
    base = f"{code}.{major}.{person.id}"
    return out.button_row(
        (N_("Share unit and name"), notices.data("snd", ticket, f"{base}.1")),
        (N_("Keep the owner anonymous"), notices.data("snd", ticket, f"{base}.0")),
    )


async def _person(session: AsyncSession, raw: str) -> Person:
    person = await session.get(Person, int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if person is None:
        raise DomainError("stale")
    return person


async def classify(
    session: AsyncSession, ticket_id: int, actor: Person, arg: str, now: datetime, env: Env
) -> tuple[Ticket, Complaint, str | None]:
    """The front desk's record (业主投诉/建议处理记录表) is complete: the work-contact order goes
    out. Returns the case and the linked repair's reference (class 2)."""
    ticket, complaint = await load(session, ticket_id)
    parts = arg.split(".")
    if len(parts) != 4 or parts[3] not in ("0", "1"):
        raise DomainError("stale")
    code, major = _code_major(ticket, arg)
    klass, scope = parse_code(ticket, code)
    responsible = await _person(session, parts[2])
    newly_major = await ops.classify(
        session,
        ticket,
        complaint,
        actor,
        klass=klass,
        major=bool(major),
        responsible=responsible,
        share_unit=parts[3] == "1",
        now=now,
        env=env,
    )
    unit = await unit_of(session, complaint)
    if complaint.on_the_spot:
        # 4.2.1: resolved by whoever heard it: no order and no warranty repair go out; the
        # front desk confirms the result (or sends it back, and then it is handled as usual)
        await ops.answered_on_the_spot(session, ticket, complaint, now, env)
        if newly_major:
            await major_report(session, ticket, complaint, unit, now)
        return ticket, complaint, None
    linked = await _link_repair(session, ticket, complaint, unit, scope, actor, now, env)
    enqueue(
        session,
        responsible,
        await order_for(session, ticket, complaint, linked=linked),
        now,
        ticket_id=ticket.id,
        fallback_role=_fallback_role(responsible, complaint, env),
        fallback_building=complaint.building,
    )
    if ticket.owner is not None:
        enqueue(
            session, ticket.owner, _classified(ticket, complaint, linked), now, ticket_id=ticket.id
        )
    if newly_major:
        await major_report(session, ticket, complaint, unit, now)
    return ticket, complaint, linked


def _fallback_role(person: Person, complaint: Complaint, env: Env) -> Role | None:
    """A refused order goes to a reachable colleague of the same role (SPEC §4)."""
    for role in env.complaint.responsible_roles:
        if person.has_role(Role(role), complaint.building):
            return Role(role)
    return None


def _classified(ticket: Ticket, complaint: Complaint, linked: str | None) -> Msg:
    if notices.is_suggestion(ticket):
        return msg(
            N_(
                "Your suggestion {ref} has been passed to the person responsible. You will "
                "have an answer by {time}."
            ),
            ref=ticket.ref,
            time=complaint.answer_due_at,
        )
    out = msg(
        N_(
            "Your complaint {ref} has been recorded as {what}. It will be handled by {time}; "
            "we will tell you the result."
        ),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
        time=complaint.due_at,
    )
    if linked:
        out.add(N_("A warranty repair {ref} has been opened for it."), ref=linked)
    return out


def _warranty_category(env: Env) -> str | None:
    """Warranty repairs are free (质量缺陷责任期): a category without fees, "other" first."""
    free = [c.code for c in env.repair.categories if not c.chargeable]
    return "other" if "other" in free else (free[0] if free else None)


async def _link_repair(
    session: AsyncSession,
    ticket: Ticket,
    complaint: Complaint,
    unit: Unit | None,
    scope: str | None,
    actor: Person,
    now: datetime,
    env: Env,
) -> str | None:
    """Class 2 is handled as a warranty repair (4.2.6) through the repair flow; an open
    repair for the same problem is linked instead of filing it twice."""
    if scope is None:
        return None
    category = _warranty_category(env)
    if ticket.owner is None or unit is None or category is None:
        why = "no_free_category" if category is None else "no_owner_in_bot"
        ticket.record("linked_repair", actor, now, data={"repair": None, "why": why})
        return None
    repair = await _open_repair_like(session, unit, complaint.description)
    if repair is None:
        answers = {
            "scope": scope,
            "category": category,
            "description": f"{ticket.ref}: {complaint.description}",
            "location": complaint.location or (unit.code if scope == "public" else None),
            "photos": list(complaint.photos),
        }
        try:
            # The repair flow files, tells the front desk and schedules as for any repair.
            async with session.begin_nested():
                repair = await repair_flow.file(session, ticket.owner, unit, answers, now, env)
        except DomainError as refused:
            ticket.record("linked_repair", actor, now, data={"repair": None, "why": refused.code})
            return None
    repair.record("linked_complaint", actor, now, data={"complaint": ticket.ref})
    complaint.linked_ticket_id = repair.id
    ticket.record("linked_repair", actor, now, data={"repair": repair.ref, "scope": scope})
    return repair.ref


async def _open_repair_like(session: AsyncSession, unit: Unit, description: str) -> Ticket | None:
    """An open repair of the unit about the same problem: linked rather than filed twice."""
    rows = await session.execute(
        select(Ticket, Repair)
        .join(Repair, Repair.ticket_id == Ticket.id)
        .where(Ticket.unit_id == unit.id, Ticket.state.in_([s.value for s in REPAIR_OPEN]))
        .order_by(Ticket.id)
    )
    for ticket, repair in rows.all():
        if similar(repair.description, description):
            return ticket
    return None


@on_repair_ended
async def _warranty_repair_ended(session: AsyncSession, repair: Ticket, now: datetime) -> None:
    """The warranty repair of a class-2 complaint is closed or cancelled: the person
    responsible, who has not recorded the complaint's result yet, is told so and given the
    button to record it (the complaint itself is closed only through its own handling)."""
    rows = await session.execute(
        select(Ticket, Complaint)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(Complaint.linked_ticket_id == repair.id, Ticket.state == St.IN_HAND)
    )
    for ticket, complaint in rows.all():
        responsible = (
            await session.get(Person, complaint.responsible_id)
            if complaint.responsible_id is not None
            else None
        )
        cancelled = repair.state == RepairSt.CANCELLED
        if (
            responsible is not None
            and not complaint.share_unit
            and not sees_everything(responsible, complaint)
        ):
            # An anonymous case: the repair's reference would lead to the unit and the owner.
            text = (
                N_("🔧 The warranty repair for {ref} was cancelled by the owner.")
                if cancelled
                else N_("🔧 The warranty repair for {ref} is closed.")
            )
            body = msg(text, ref=ticket.ref)
        else:
            text = (
                N_("🔧 {repair}, the warranty repair for {ref}, was cancelled by the owner.")
                if cancelled
                else N_("🔧 {repair}, the warranty repair for {ref}, is closed.")
            )
            body = msg(text, repair=repair.ref, ref=ticket.ref)
        body.add(N_("Please record how {ref} was handled."), ref=ticket.ref)
        body.button_row((N_("Record handling and result"), notices.data("rep", ticket)))
        if responsible is None or enqueue(session, responsible, body, now, ticket_id=ticket.id,
                                          fallback_role=Role.RECEPTIONIST) is None:  # fmt: skip
            await notify_role(
                session, Role.RECEPTIONIST, body, now, building=complaint.building,
                ticket_id=ticket.id,
            )  # fmt: skip
