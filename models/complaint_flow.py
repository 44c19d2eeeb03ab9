"""Filing a complaint or suggestion as handlers call it: the case is created, the front desk
gets it to record, a major case goes to the department head at once (4.2.5), and the owner is
told what is promised. The later steps are in complaint_classify, complaint_handling and
complaint_followup: one function per user action, each in the caller's unit of work, raising
DomainError when the actor, the case's state or the input does not allow it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from models import complaint_notices as notices
from models import complaint_ops as ops
from models.base import N_
from models.complaint import (
    CHANNELS,
    Complaint,
    complainant_of,
    passed_on_late,
)
from models.env import Env
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.property import Unit
from models.ticket import Kind, Ticket


async def file(
    session: AsyncSession,
    filer: Person,
    unit: Unit,
    answers: dict[str, Any],
    now: datetime,
    env: Env,
) -> tuple[Ticket, Complaint]:
    """A case from the owner's form (channel "bot") or logged by staff for a unit."""
    channel = answers.get("channel", "bot")
    owner = (
        filer
        if channel == "bot"
        else await complainant_of(session, unit, answers.get("complainant"))
    )
    ticket, complaint = await ops.file_case(
        session,
        kind=Kind(answers["kind"]),
        owner=owner,
        unit=unit,
        filer=filer,
        channel=channel,
        description=answers["description"],
        location=answers.get("location"),
        photos=list(answers.get("photos", [])),
        raised_with=answers.get("raised_with"),
        now=now,
        env=env,
        received_at=(
            datetime.fromisoformat(answers["received_at"])
            if channel != "bot" and answers.get("received_at")
            else None
        ),
        on_the_spot=answers.get("on_the_spot") if channel == "face" else None,
    )
    body = Msg().add(
        N_("🆕 New suggestion: {ref}")
        if notices.is_suggestion(ticket)
        else N_("🆕 New complaint: {ref}"),
        ref=ticket.ref,
    )
    body.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
    if complaint.received_at is not None and passed_on_late(complaint, now, env):
        body.add(
            N_(
                "⚠️ Recorded {late} after it was received: the same day, says 4.2.2. "
                "Logged by {name}."
            )
            if complaint.channel == "face"
            else N_(
                "⚠️ Passed on {late} after it was received: within one hour, says 4.2.3. "
                "Logged by {name}."
            ),
            late=notices.duration(now - complaint.received_at),
            name=filer.name,
        )
    body.photos = list(complaint.photos)
    notices.classify_buttons(ticket, body)
    await notify_role(
        session, Role.RECEPTIONIST, body, now, building=complaint.building, ticket_id=ticket.id
    )
    if complaint.major:
        await major_report(session, ticket, complaint, unit, now)
    if complaint.on_the_spot:
        report = msg(
            N_("ℹ️ {name} resolved a complaint on the spot (4.2.1): {ref}"),
            name=filer.name,
            ref=ticket.ref,
        )
        report.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
        report.photos = []
        await notify_role(
            session, Role.SUPERVISOR, report, now, building=complaint.building, ticket_id=ticket.id
        )
    if owner is not None and channel != "bot":
        told = msg(
            N_("The front desk has recorded your {what} {ref}, received by {channel}."),
            what=msg(N_("suggestion") if notices.is_suggestion(ticket) else N_("complaint")),
            ref=ticket.ref,
            channel=msg(CHANNELS[channel]),
        )
        if not complaint.on_the_spot:  # (resolved: the front desk tells them the result)
            told.lines += promise(ticket, complaint, now, env).lines
        enqueue(session, owner, told, now, ticket_id=ticket.id)
    return ticket, complaint


def promise(ticket: Ticket, complaint: Complaint, now: datetime, env: Env) -> Msg:
    """What the owner is promised on filing (ch.4 五, 6 §4.2.3)."""
    if notices.is_suggestion(ticket):
        return msg(N_("You will have an answer by {time}."), time=complaint.answer_due_at)
    out = msg(
        N_(
            "The front desk will record it by {time} and tell you by when it will be handled "
            "(class 1: within 4 office hours; class 2: the same day; class 3: within 3 days)."
        ),
        time=env.calendar.add_business_time(now, env.complaint.classify_remind),
    )
    if complaint.major:
        out.add(N_("As it is a major complaint, the department head has been told at once."))
    return out


async def major_report(
    session: AsyncSession, ticket: Ticket, complaint: Complaint, unit: Unit | None, now: datetime
) -> None:
    """4.2.5: a major case goes to the department head at once."""
    body = msg(
        N_(
            "🚨 Major case {ref} ({what}): reported to you at once (4.2.5). Your opinion goes "
            "to the person responsible, the front desk and the executive."
        ),
        ref=ticket.ref,
        what=notices.what(ticket, complaint),
    )
    body.lines += (await notices.entry(session, ticket, complaint, full=True)).lines
    body.photos = []
    body.button_row(
        (N_("Give an opinion"), notices.data("opn", ticket)), notices.open_button(ticket)
    )
    await notify_role(
        session, Role.SUPERVISOR, body, now, building=complaint.building, ticket_id=ticket.id
    )
