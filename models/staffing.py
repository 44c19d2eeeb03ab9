"""When a staff member leaves or changes post: taking roles away (``propdesk staff remove``).

Roles are what every button and command re-checks, and what every dispatch, reminder and
escalation is routed by, so a role taken away stops both at once. Two things a role does not
cover are handled here:

- Work held by name (a repair dispatched to them, a complaint they are responsible for, a
  follow-up delegated to them) would be stranded: reminders would keep going to a person who
  can no longer act. The removal is refused while they hold any, with the references, so the
  office reassigns it in the bot (or lets it finish) first. Nothing is half-changed.
- Messages already queued for them (a dispatch with an owner's phone number, say) must not
  reach someone who has left: when they lose their last role, those not about their own
  requests as an owner are withdrawn, kept in the outbox as failed with the reason. When they
  keep other roles, the messages about a ticket they may no longer open (``may_view``: a
  technician moved to the front desk of another building, say) are withdrawn the same way.
- Someone added without a Telegram id whose hire fell through is found by name while their code
  is unused; the code stops working with the last role, or whoever sent it later would get the
  record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_, DomainError
from models.complaint import Complaint
from models.complaint import St as ComplaintSt
from models.invite import InviteCode
from models.notification import Msg, Notification, Status, enqueue
from models.people import ROLE_NAMES, Person, Role, person_by_telegram, unclaimed_staff
from models.queries import may_view
from models.repair import WORKING
from models.repair import St as RepairSt
from models.ticket import Kind, Ticket

LEFT = "left the staff"
MOVED = "no longer their role"


@dataclass
class Removal:
    person: Person
    removed: list[tuple[str, str | None]]  # (role, building or None for all buildings)
    still_staff: bool
    withdrawn: int
    told: bool
    codes_revoked: int = 0  # unused staff codes that would have given the roles back


# A repair keeps its technician after the work is done (the record of who did it), but from
# then on it waits for the owner and the front desk, not for them; "not fixed" goes back to
# the queue for a new dispatch.
REPAIR_HELD = {s.value for s in (RepairSt.DISPATCHED, RepairSt.ACCEPTED, *WORKING)}


async def work_held(session: AsyncSession, person: Person) -> list[Ticket]:
    """Open tickets that wait for this person by name (not for a role)."""
    assigned = select(Ticket).where(
        Ticket.assignee_id == person.id,
        Ticket.closed_at.is_(None),
        or_(Ticket.kind != Kind.REPAIR.value, Ticket.state.in_(REPAIR_HELD)),
    )
    followups = (
        select(Ticket)
        .join(Complaint, Complaint.ticket_id == Ticket.id)
        .where(
            Ticket.state == ComplaintSt.RESOLVED.value,
            Complaint.followup_holder_id == person.id,
        )
    )
    found = {t.id: t for t in (await session.execute(assigned)).scalars()}
    for ticket in (await session.execute(followups)).scalars():
        found.setdefault(ticket.id, ticket)
    return sorted(found.values(), key=lambda t: t.id)


async def _revoke_codes(session: AsyncSession, person: Person, now: datetime) -> int:
    """Their unused staff codes expire now: redeemed later, one would hand the record (and its
    name) to whoever sent it."""
    result = await session.execute(
        update(InviteCode)
        .where(
            InviteCode.person_id == person.id,
            InviteCode.purpose == "staff",
            InviteCode.used_at.is_(None),
            InviteCode.expires_at > now,
        )
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def _still_for(person: Person, body: dict[str, Any]) -> bool:
    """Whether a message sent to the holders of a role (``notify_role``: a round of empty
    flats to inspect, say) is still for them."""
    role = body.get("for_role")
    return role is None or person.has_role(Role(role), body.get("for_building"))


async def _withdraw(session: AsyncSession, person: Person, still_staff: bool) -> int:
    """Withdraw the queued messages the person should no longer receive; how many."""
    pending = (Notification.person_id == person.id, Notification.status == Status.PENDING)
    if not still_staff:
        own = select(Ticket.id).where(Ticket.owner_id == person.id)
        gone = or_(Notification.ticket_id.is_(None), Notification.ticket_id.not_in(own))
    else:
        rows = list((await session.execute(select(Notification).where(*pending))).scalars())
        about = select(Ticket).where(Ticket.id.in_({r.ticket_id for r in rows if r.ticket_id}))
        hidden = {
            t.id
            for t in (await session.execute(about)).scalars()
            if not await may_view(session, person, t)
        }
        ids = [r.id for r in rows if r.ticket_id in hidden or not _still_for(person, r.body)]
        if not ids:
            return 0
        gone = Notification.id.in_(ids)
    result = await session.execute(
        update(Notification)
        .where(*pending, gone)
        .values(status=Status.FAILED, error=LEFT if not still_staff else MOVED)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def remove_staff(
    session: AsyncSession,
    telegram_id: int | None,
    now: datetime,
    roles: Sequence[str] = (),
    *,
    name: str | None = None,
) -> Removal:
    """Take `roles` (all of them when empty) from the staff member with `telegram_id`, or
    (telegram_id None) from the record added under `name` that nobody has claimed with its
    code yet: the hire fell through. Caller commits.

    Raises DomainError ``not_staff``, ``role_not_held`` (role=…) or ``holds_work`` (tickets=…).
    """
    if telegram_id is not None:
        person = await person_by_telegram(session, telegram_id)
    else:
        person = await unclaimed_staff(session, name or "")
    if person is None or not person.is_staff:
        raise DomainError("not_staff")
    held = {r.role for r in person.roles}
    missing = [r for r in roles if r not in held]
    if missing:
        raise DomainError("role_not_held", role=", ".join(missing))
    tickets = await work_held(session, person)
    if tickets:
        raise DomainError("holds_work", tickets=tickets)
    going = [r for r in person.roles if not roles or r.role in roles]
    removed = [(r.role, r.building) for r in going]
    for role in going:
        person.roles.remove(role)
    await session.flush()
    still_staff = bool(person.roles)
    withdrawn = await _withdraw(session, person, still_staff)
    revoked = 0 if still_staff else await _revoke_codes(session, person, now)
    if still_staff:
        notice = Msg()
        for name in dict.fromkeys(name for name, _ in removed):
            notice.add(
                N_("The property office has taken the role {role} from you."),
                role=Msg().add(ROLE_NAMES[name]),
            )
    else:
        notice = Msg().add(
            N_(
                "Your staff roles at the property office have ended: the staff commands and "
                "buttons no longer work for you."
            )
        )
    told = enqueue(session, person, notice, now) is not None
    return Removal(person, removed, still_staff, withdrawn, told, revoked)
