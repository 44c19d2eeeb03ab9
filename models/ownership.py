"""When a flat changes hands: ending the link between a person and a unit.

Binding is by one-time code only (SPEC §1), and a link never ended by itself: a flat sold, or
a tenant moved out, left the former occupant able to file repairs for a home that is no longer
theirs (a technician sent into someone else's flat) and to receive what the office sends about
it. The office ends a link with ``propdesk units unbind``. The person is told through the bot;
the requests they filed stay theirs (they can still follow, confirm and rate them under /my),
and the operator is shown which of them are still open on that unit. An owner's vacancy on the
unit is the exception: the application and its 50 % fee rate were theirs (5.2.1, in person
with their ID), so it ends with the link, as if they had cancelled it that day; a new owner
applies for themselves. When another owner stays linked (co-owners), the flat still stands
empty: the application goes on under that owner's name instead.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_, DomainError
from models.complaint import Complaint
from models.env import Env
from models.invite import InviteCode
from models.notification import enqueue, msg
from models.people import LINKS_CHANGED, Person
from models.property import OWNER_RELATIONS, Unit, UnitBinding
from models.ticket import Ticket
from models.vacancy import ACTIVE as VACANCY_RUNNING
from models.vacancy import PASSED, Vacancy


@dataclass
class Unlinked:
    person: Person
    relation: str
    told: bool  # False when the person has no Telegram chat to tell
    open_tickets: list[Ticket] = field(default_factory=list)
    vacancies_ended: list[Ticket] = field(default_factory=list)
    vacancies_passed: list[Ticket] = field(default_factory=list)  # to `successor`
    successor: Person | None = None


@dataclass
class UnbindReport:
    unit: Unit
    unlinked: list[Unlinked]
    codes_still_valid: list[InviteCode]


async def unbind_unit(
    session: AsyncSession, unit: Unit, now: datetime, env: Env, telegram_id: int | None = None
) -> UnbindReport:
    """End the links to `unit` (everyone's, or only the person with `telegram_id`).

    Raises DomainError ``unit_not_linked`` when there is nothing to end. Caller commits.
    """
    query = select(UnitBinding).where(UnitBinding.unit_id == unit.id).order_by(UnitBinding.id)
    everyone = list((await session.execute(query)).scalars())
    bindings = everyone
    if telegram_id is not None:
        bindings = [b for b in everyone if b.person.telegram_id == telegram_id]
    if not bindings:
        raise DomainError("unit_not_linked", unit=unit.code)
    staying = [b.person for b in everyone if b not in bindings and b.relation in OWNER_RELATIONS]
    successor = staying[0] if staying else None
    report = UnbindReport(unit, [], [])
    complaints = select(Complaint.ticket_id).where(Complaint.unit_id == unit.id)
    for binding in bindings:
        person = binding.person
        passed: list[Ticket] = []
        if successor is not None:
            ended = []
            passed = await _pass_vacancies(session, person, successor, unit, now)
        else:
            ended = await _end_vacancies(session, person, unit, now, env)
        open_tickets = (
            await session.execute(
                select(Ticket)
                .where(
                    Ticket.owner_id == person.id,
                    # (a complaint keeps its unit on the complaint row, not on the ticket)
                    or_(Ticket.unit_id == unit.id, Ticket.id.in_(complaints)),
                    Ticket.closed_at.is_(None),
                    Ticket.id.not_in([t.id for t in ended + passed]),
                )
                .order_by(Ticket.id)
            )
        ).scalars()
        notice = msg(
            N_(
                "The property office has ended your link to unit {unit}. The requests you filed "
                "stay under /my. If you think this is a mistake, please contact the front desk."
            ),
            unit=unit.code,
        )
        for ticket in ended:
            notice.add(
                N_(
                    "Your vacancy {ref} for this unit has ended with it: a new owner applies "
                    "for themselves."
                ),
                ref=ticket.ref,
            )
        for ticket in passed:
            notice.add(
                N_("Your vacancy {ref} for this unit goes on under the name of its other owner."),
                ref=ticket.ref,
            )
        told = enqueue(session, person, notice, now) is not None
        report.unlinked.append(
            Unlinked(person, binding.relation, told, list(open_tickets), ended, passed, successor)
        )
    session.info[LINKS_CHANGED] = True
    await session.execute(
        delete(UnitBinding)
        .where(UnitBinding.id.in_([b.id for b in bindings]))
        .execution_options(synchronize_session=False)
    )
    report.codes_still_valid = list(
        (
            await session.execute(
                select(InviteCode)
                .where(
                    InviteCode.unit_id == unit.id,
                    InviteCode.used_at.is_(None),
                    InviteCode.expires_at > now,
                )
                .order_by(InviteCode.id)
            )
        ).scalars()
    )
    return report


async def _pass_vacancies(
    session: AsyncSession, person: Person, successor: Person, unit: Unit, now: datetime
) -> list[Ticket]:
    """The person's open vacancy applications on the unit go on under the other owner's name:
    from now on the notices, the reminder and the buttons are theirs."""
    rows = await session.execute(
        select(Ticket)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(
            Ticket.owner_id == person.id,
            Vacancy.unit_id == unit.id,
            Ticket.closed_at.is_(None),
        )
        .order_by(Ticket.id)
    )
    passed = list(rows.scalars())
    for ticket in passed:
        ticket.owner_id, ticket.owner = successor.id, successor
        ticket.record(PASSED, None, now, data={"from": person.name, "to": successor.name})
        enqueue(
            session,
            successor,
            msg(
                N_(
                    "The vacancy application {ref} for unit {unit} now goes on under your name: "
                    "the office has ended the link of the owner who filed it."
                ),
                ref=ticket.ref,
                unit=unit.code,
            ),
            now,
            ticket_id=ticket.id,
        )
    return passed


async def _end_vacancies(
    session: AsyncSession, person: Person, unit: Unit, now: datetime, env: Env
) -> list[Ticket]:
    """End the person's vacancy applications on the unit that are still running."""
    from models.vacancy_flow import end_for_unlinked_owner

    running = await session.execute(
        select(Ticket.id)
        .join(Vacancy, Vacancy.ticket_id == Ticket.id)
        .where(
            Ticket.owner_id == person.id,
            Vacancy.unit_id == unit.id,
            Ticket.state.in_([s.value for s in VACANCY_RUNNING]),
        )
        .order_by(Ticket.id)
    )
    return [await end_for_unlinked_owner(session, tid, now, env) for tid in running.scalars()]
