"""Who is told what about a complaint or suggestion, and the buttons they get.

Callback data carries only ids: ``c:<action>:<ticket id>[:<arg>]``; everything is re-checked
on a press. The owner's phone is only ever put into messages for the front desk, department
heads, executives and the follow-up delegate; the person responsible sees the unit and the
owner's name only when the front desk shared them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.complaint import CHANNELS, RAISED_WITH, Complaint, St, class_label, unit_of
from models.notification import Msg, msg
from models.people import Person
from models.property import Reporter, Unit, reporter_for
from models.ticket import Kind, Ticket

CLASS_BUTTONS = [
    (N_("1 · our management or service"), "1"),
    (N_("2 · house quality, in the home"), "2h"),
    (N_("2 · house quality, public area"), "2p"),
    (N_("3 · outside the planning red line"), "3"),
]


def data(action: str, ticket: Ticket, arg: int | str | None = None) -> str:
    return f"c:{action}:{ticket.id}" + (f":{arg}" if arg is not None else "")


def what(ticket: Ticket, complaint: Complaint) -> Msg:
    """The case's class as people read it, or "suggestion"."""
    return msg(class_label(complaint, ticket.kind))


def is_suggestion(ticket: Ticket) -> bool:
    return ticket.kind == Kind.SUGGESTION.value


def duration(delta: timedelta) -> Msg:
    """A lateness as people say it: 3 min, 2 h 5 min, 1 d 20 h."""
    minutes = max(int(delta.total_seconds() // 60), 0)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    if days:
        if not hours:
            return msg(N_("{days} d"), days=days)
        return msg(N_("{days} d {hours} h"), days=days, hours=hours)
    if hours and not mins:
        return msg(N_("{hours} h"), hours=hours)
    if hours:
        return msg(N_("{hours} h {minutes} min"), hours=hours, minutes=mins)
    return msg(N_("{minutes} min"), minutes=mins)


def describe(
    ticket: Ticket,
    complaint: Complaint,
    unit: Unit | None,
    *,
    full: bool,
    reporter: Reporter | None,
) -> Msg:
    """The 业主投诉/建议处理记录表 entry. `full` (front desk, heads, executives, follow-up
    delegate) adds the owner's contact; otherwise the unit and name appear only if shared.
    `reporter` (`property.reporter_for`) is who raised it when that is not the registered
    owner: a tenant's case is answered and followed up with the tenant, not the landlord."""
    out = Msg().add(N_("{ref} · {what}"), ref=ticket.ref, what=what(ticket, complaint))
    if complaint.raised_with:
        out.add(
            N_("⚠️ Major: already raised with {where}"),
            where=msg(RAISED_WITH[complaint.raised_with]),
        )
    elif complaint.major:
        out.add(N_("⚠️ Major case"))
    show_unit = full or complaint.share_unit
    if show_unit and unit is not None:
        out.add(N_("Unit: {unit}"), unit=unit.code)
    owner = ticket.owner if reporter is None else None
    name = (unit.owner_name if unit else None) or (owner.name if owner else None)
    if full:
        phone = (unit.owner_phone if unit else None) or (owner.phone if owner else None)
        out.add(N_("Owner: {name}, phone {phone}"), name=name or "—", phone=phone or "—")
        if reporter is not None:
            out.add(
                N_("Raised by {name}, not the registered owner, phone {phone}"),
                name=reporter.name,
                phone=reporter.phone or "—",
            )
    elif show_unit and reporter is not None:
        out.add(N_("Raised by {name}, not the registered owner"), name=reporter.name)
    elif show_unit and name:
        out.add(N_("Owner: {name}"), name=name)
    if complaint.channel != "bot":
        out.add(N_("Received by: {channel}"), channel=msg(CHANNELS[complaint.channel]))
        if complaint.received_at is not None:
            out.add(N_("Received at: {time}"), time=complaint.received_at)
    if complaint.location:
        out.add(N_("Where: {place}"), place=complaint.location)
    out.add(N_("Details: {text}"), text=complaint.description)
    if complaint.on_the_spot:
        out.add(N_("Resolved on the spot: {text}"), text=complaint.on_the_spot)
    out.photos = list(complaint.photos)
    return out


async def entry(session: AsyncSession, ticket: Ticket, complaint: Complaint, *, full: bool) -> Msg:
    """`describe` with the case's unit and reporter looked up."""
    unit = await unit_of(session, complaint)
    reporter = await reporter_for(session, ticket.owner, unit)
    return describe(ticket, complaint, unit, full=full, reporter=reporter)


def answer_lines(complaint: Complaint) -> Msg:
    out = Msg()
    if complaint.opinion:
        out.add(N_("Handling opinion: {text}"), text=complaint.opinion)
    if complaint.result:
        out.add(N_("Result: {text}"), text=complaint.result)
    return out


def classify_buttons(ticket: Ticket, body: Msg) -> Msg:
    """Step one of recording a case: its class (complaints) or routing (suggestions)."""
    if is_suggestion(ticket):
        return body.button_row((N_("Route to a responsible person"), data("cls", ticket, "s")))
    for label, code in CLASS_BUTTONS:
        body.button_row((label, data("cls", ticket, code)))
    return body


def open_button(ticket: Ticket) -> tuple[str, dict[str, object], str]:
    return (N_("Open {ref}"), {"ref": ticket.ref}, data("open", ticket))


def order(
    ticket: Ticket,
    complaint: Complaint,
    unit: Unit | None,
    linked_ref: str | None,
    *,
    reporter: Reporter | None,
    sent_back: str | None = None,
    opinions: Sequence[tuple[str, str]] = (),
) -> Msg:
    """The 工作联系单 for the person responsible, with its deadline and actions, and the
    handling opinions superiors have given so far (4.2.1, 4.2.5: handled on their opinion)."""
    if sent_back is not None:
        body = msg(
            N_("↩️ The front desk sent {ref} back to you: {note}"), ref=ticket.ref, note=sent_back
        )
        body.add(N_("📋 Work-contact order (工作联系单) {ref}"), ref=ticket.ref)
    else:
        body = msg(N_("📋 Work-contact order (工作联系单) {ref}"), ref=ticket.ref)
    body.add(N_("Handle it and reply by {time}."), time=complaint.due_at)
    body.lines += describe(ticket, complaint, unit, full=False, reporter=reporter).lines
    body.photos = list(complaint.photos)
    if linked_ref and complaint.share_unit:  # the repair names the unit and the owner
        body.add(N_("Linked warranty repair: {ref}"), ref=linked_ref)
    body.lines += opinion_lines(opinions).lines
    body.add(
        N_(
            "If you cannot handle it yourself, ask your superior within 2 office hours of "
            "receiving this order."
        )
    )
    body.button_row(
        (N_("Record handling and result"), data("rep", ticket)),
        (N_("Ask my superior"), data("sup", ticket)),
    )
    return body


def opinion_lines(opinions: Sequence[tuple[str, str]]) -> Msg:
    out = Msg()
    for name, note in opinions:
        out.add(N_("📝 Opinion of {name}: {note}"), name=name, note=note)
    return out


def followup_task(
    ticket: Ticket,
    complaint: Complaint,
    unit: Unit | None,
    due: datetime,
    *,
    reporter: Reporter | None,
    head: bool = True,
) -> Msg:
    body = msg(
        N_(
            "📞 Follow-up (回访) of {ref} due by {time}: ask the owner's opinion of the "
            "handling and what would prevent it happening again."
        ),
        ref=ticket.ref,
        time=due,
    )
    body.lines += describe(ticket, complaint, unit, full=True, reporter=reporter).lines
    body.lines += answer_lines(complaint).lines
    if complaint.explanation:
        body.add(N_("Told the owner: {text}"), text=complaint.explanation)
    body.photos = []
    return followup_buttons(ticket, complaint, body, head=head)


EXPLAINED_CLOSE = N_("Not satisfied, explained: close")


def followup_buttons(ticket: Ticket, complaint: Complaint, body: Msg, *, head: bool = True) -> Msg:
    """The follow-up's actions; only the department head may delegate it. A class-3 case
    (outside the planning red line) cannot be solved by the office: when the owner is still
    not satisfied after the explanation (4.2.6 无法解决的投诉应向业主做出有关解释和说明), the
    follow-up may close it rather than send it round again."""
    body.button_row((N_("Ask the owner in the bot"), data("fua", ticket)))
    body.button_row(
        (N_("Owner satisfied"), data("fur", ticket, "y")),
        (N_("Owner not satisfied"), data("fur", ticket, "n")),
    )
    if complaint.klass == 3:
        body.button_row((EXPLAINED_CLOSE, data("fur", ticket, "x")))
    if head:
        body.button_row((N_("Delegate the follow-up"), data("fud", ticket)))
    return body


def holder_name(ticket: Ticket, complaint: Complaint, holder: Person | None) -> Msg | str:
    """Who has the case now, for escalation messages."""
    if ticket.state == St.IN_HAND and ticket.assignee is not None:
        return ticket.assignee.name
    if ticket.state == St.RESOLVED:
        return holder.name if holder is not None else msg(N_("the department head"))
    return msg(N_("the front desk"))
