"""A complaint or suggestion as one staff member may see it, the buttons they may press on it,
and the check made before any multi-step action opens its form."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from models import complaint_notices as notices
from models.base import N_
from models.complaint import (
    OPEN,
    Complaint,
    St,
    asked_on_this_order,
    is_desk,
    is_head,
    load,
    may_follow_up,
    may_see,
    require,
    require_state,
    sees_everything,
)
from models.complaint_handling import linked_ref, opinions
from models.notification import Msg
from models.people import Person, Role
from models.ticket import Ticket

_CHECKS: dict[str, tuple[str, set[St]]] = {
    "rep": ("assignee", {St.IN_HAND}),
    "sup": ("assignee", {St.IN_HAND}),
    "prg": ("assignee", {St.IN_HAND}),
    "rsn": ("desk", {St.IN_HAND, St.ANSWERED}),
    "opn": ("head", OPEN),
    "res": ("desk", {St.ANSWERED}),
    "bak": ("desk", {St.ANSWERED}),
    "fur": ("followup", {St.RESOLVED}),
    "ofu": ("owner", {St.RESOLVED}),
}


async def check(
    session: AsyncSession, ticket_id: int, actor: Person, action: str
) -> tuple[Ticket, Complaint]:
    """Raise DomainError unless `actor` may start `action` now; changes nothing."""
    ticket, complaint = await load(session, ticket_id)
    who, states = _CHECKS[action]
    allowed = {
        "assignee": ticket.assignee_id == actor.id,
        "head": is_head(actor, complaint) or actor.has_role(Role.EXECUTIVE, complaint.building),
        "desk": is_desk(actor, complaint),
        "followup": may_follow_up(actor, complaint),
        "owner": ticket.owner_id == actor.id and complaint.followup_asked_at is not None,
    }[who]
    require(allowed)
    require_state(ticket, states)
    return ticket, complaint


async def card(session: AsyncSession, ticket_id: int, viewer: Person) -> tuple[Ticket, Msg, bool]:
    """The case as this staff member may see it; True when they see everything. The owner who
    filed it sees what they wrote and the office's answer (not the internal handling)."""
    ticket, complaint = await load(session, ticket_id)
    if not may_see(viewer, ticket, complaint) and ticket.owner_id == viewer.id:
        return ticket, _for_the_owner(ticket, complaint), False
    require(may_see(viewer, ticket, complaint))
    full = sees_everything(viewer, complaint)
    out = await notices.entry(session, ticket, complaint, full=full)
    if complaint.due_at is not None and ticket.state == St.IN_HAND:
        holder = ticket.assignee.name if ticket.assignee else "—"
        out.add(N_("With {name}, due by {time}"), name=holder, time=complaint.due_at)
    linked = await linked_ref(session, complaint)
    if linked and (full or complaint.share_unit):  # the repair names the unit and the owner
        out.add(N_("Linked warranty repair: {ref}"), ref=linked)
    if not full:  # (those who see everything read the opinions in the history)
        out.lines += notices.opinion_lines(await opinions(session, ticket)).lines
    out.lines += notices.answer_lines(complaint).lines
    if complaint.explanation:
        out.add(N_("Told the owner: {text}"), text=complaint.explanation)
    return ticket, out, full


def _for_the_owner(ticket: Ticket, complaint: Complaint) -> Msg:
    out = Msg().add(N_("{ref} · {what}"), ref=ticket.ref, what=notices.what(ticket, complaint))
    if complaint.location:
        out.add(N_("Where: {place}"), place=complaint.location)
    out.add(N_("Details: {text}"), text=complaint.description)
    out.photos = list(complaint.photos)
    if complaint.explanation:
        out.add(N_("The office's answer: {text}"), text=complaint.explanation)
    return out


async def actions(session: AsyncSession, ticket_id: int, viewer: Person) -> list[tuple[str, str]]:
    """The buttons this viewer may press on the case now."""
    ticket, complaint = await load(session, ticket_id)
    out: list[tuple[str, str]] = []
    if not may_see(viewer, ticket, complaint):
        return out
    state, d = ticket.state, notices.data
    if is_desk(viewer, complaint) and state == St.RECORDING:
        out += (
            [(label, d("cls", ticket, code)) for label, code in notices.CLASS_BUTTONS]
            if not notices.is_suggestion(ticket)
            else [(N_("Route to a responsible person"), d("cls", ticket, "s"))]
        )
    if is_desk(viewer, complaint) and state == St.ANSWERED:
        out += [
            (N_("Confirm and tell the owner"), d("res", ticket)),
            (N_("Send back"), d("bak", ticket)),
        ]
    if is_desk(viewer, complaint) and state in (St.IN_HAND, St.ANSWERED):
        out.append((N_("Give to someone else"), d("rsn", ticket)))
    if ticket.assignee_id == viewer.id and state == St.IN_HAND:
        out += [
            (N_("Record handling and result"), d("rep", ticket)),
            (N_("Ask my superior"), d("sup", ticket)),
        ]
        if asked_on_this_order(complaint):
            out.append((N_("Report progress"), d("prg", ticket)))
    head = is_head(viewer, complaint) or viewer.has_role(Role.EXECUTIVE, complaint.building)
    if head and state in OPEN:
        out.append((N_("Give an opinion"), d("opn", ticket)))
    if may_follow_up(viewer, complaint) and state == St.RESOLVED:
        out += [
            (N_("Ask the owner in the bot"), d("fua", ticket)),
            (N_("Owner satisfied"), d("fur", ticket, "y")),
            (N_("Owner not satisfied"), d("fur", ticket, "n")),
        ]
        if complaint.klass == 3:
            out.append((notices.EXPLAINED_CLOSE, d("fur", ticket, "x")))
        if is_head(viewer, complaint):
            out.append((N_("Delegate the follow-up"), d("fud", ticket)))
    return out
