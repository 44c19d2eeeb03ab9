"""The chain of custody of a found item (seed ch.6 §4 3.1, 3.2, 4.1-4.3): a staff member who
is not a receptionist registers what they found and hands it in (上交) to the front desk; a
receptionist confirms receiving it, and from then the desk keeps it (保管).

Who is told: the desk when an item is on its way (with a Received at the desk button); the
one who registered it, and any claimant waiting, once the desk has it; and if the desk has
not confirmed by the close of that business day (``lf.receipt``), the registrant and the
desk once, then the supervisors at the close of the next business day.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_
from models.deadline import Due, on_due, schedule
from models.env import Env
from models.lost_found import RECEIPT_REMINDER, FoundItem, ItemSt
from models.lost_found_notices import data, item_details
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.ticket import Ticket, open_button

RECEIVE = N_("Received at the desk")


def _with_details(
    body: Msg, ticket: Ticket, item: FoundItem, env: Env, *, photos: bool = False
) -> Msg:
    """The registration under `body`; the photos only in the first notice (reminders refer
    to it, as the claim reminders do)."""
    details = item_details(ticket, item, env)
    body.lines += details.lines
    if photos:
        body.photos = details.photos
    return body


def _desk_buttons(body: Msg, ticket: Ticket) -> Msg:
    return body.button_row((RECEIVE, data("in", ticket.id)), open_button(ticket))


async def registrant(session: AsyncSession, ticket: Ticket) -> Person | None:
    """Who registered the item: the staff member who has it until the desk receives it."""
    return await session.get(Person, ticket.created_by_id) if ticket.created_by_id else None


async def handed_in(
    session: AsyncSession, ticket: Ticket, item: FoundItem, actor: Person, now: datetime, env: Env
) -> None:
    """The desk hears of an item on its way, with everything it needs to recognise it."""
    body = msg(
        N_(
            "🧳 {name} registered a found item and is handing it in to the front desk: {ref}. "
            "When you have it in hand, press Received at the desk: from then it is in the "
            "desk's keeping."
        ),
        name=actor.name,
        ref=ticket.ref,
    )
    body = _desk_buttons(_with_details(body, ticket, item, env, photos=True), ticket)
    await notify_role(session, Role.RECEPTIONIST, body, now, ticket_id=ticket.id, actor=actor)


async def received(
    session: AsyncSession, ticket: Ticket, item: FoundItem, actor: Person, now: datetime
) -> None:
    """The one who handed it in hears that the desk has it (their part is done)."""
    holder = await registrant(session, ticket)
    if holder is None or holder.id == actor.id:
        return
    body = msg(
        N_(
            "✅ {ref} ({name}) was received at the front desk by {receptionist}: it is in the "
            "desk's keeping now. Thank you for handing it in."
        ),
        ref=ticket.ref,
        name=item.name,
        receptionist=actor.name,
    )
    enqueue(session, holder, body, now, ticket_id=ticket.id)


@on_due(RECEIPT_REMINDER)
async def _not_received(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    """Handed in but not received by the close of the day: the registrant and the desk once,
    then the supervisors at the close of the next business day."""
    ticket = await session.get(Ticket, d.ticket_id) if d.ticket_id else None
    item = await session.get(FoundItem, d.ticket_id) if d.ticket_id else None
    if ticket is None or item is None or ticket.state != ItemSt.TO_DESK:
        return
    holder = await registrant(session, ticket)
    params = {
        "ref": ticket.ref,
        "name": item.name,
        "holder": holder.name if holder else "—",
        "date": env.calendar.local_date(ticket.created_at),
    }
    if d.level == 1:
        desk = msg(
            N_(
                "⏰ {ref} ({name}), registered by {holder} on {date}, has not been received at "
                "the front desk yet. If it is at the desk, press Received at the desk; if not, "
                "please ask {holder} to hand it in."
            ),
            **params,
        )
        desk = _desk_buttons(_with_details(desk, ticket, item, env), ticket)
        await notify_role(session, Role.RECEPTIONIST, desk, now, ticket_id=ticket.id, actor=holder)
        if holder is not None:
            own = msg(
                N_(
                    "⏰ The front desk has not confirmed receiving {ref} ({name}), which you "
                    "registered on {date}. Please hand it in to the receptionist (4.1): they "
                    "confirm it in the bot."
                ),
                **params,
            )
            enqueue(session, holder, own.button_row(open_button(ticket)), now, ticket_id=ticket.id)
        due = env.calendar.end_of_business_day(max(now, d.due_at))
        schedule(session, RECEIPT_REMINDER, due, now, ticket_id=ticket.id, level=2)
        return
    boss = msg(
        N_(
            "⚠️ {ref} ({name}), registered by {holder} on {date}, has still not been received "
            "at the front desk, a business day later. Please follow up where the item is "
            "(4.1 上交, 4.3 保管)."
        ),
        **params,
    )
    boss = _with_details(boss, ticket, item, env).button_row(open_button(ticket))
    await notify_role(session, Role.SUPERVISOR, boss, now, ticket_id=ticket.id)
