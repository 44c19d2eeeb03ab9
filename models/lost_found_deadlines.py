"""The lost-and-found calendar (seed ch.6 §4 4.5-4.8), as deadline rows the sweep fires once:

- per item: valuables not claimed by the close of the day the desk received them go to
  administration (4.8, ``lf.valuable``); three months unclaimed (counted from the
  registration), the item is reported to the company for disposal (4.7, ``lf.disposal``);
- recurring: the weekly notice (招领启事, 4.5), valid one week, the previous one edited to say
  it has expired; the month-end handover of what the desk still holds to administration (4.6).
  Each recurring row schedules its successor when it fires (see the daily repair report).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models import lost_found_chase as chase
from models import lost_found_custody as custody
from models.base import N_
from models.deadline import Due, at_startup, ensure_pending, on_due, schedule
from models.env import Env
from models.lost_found import (
    DESK,
    MONTH_END,
    WEEKLY_NOTICE,
    FoundItem,
    FoundNotice,
    ItemSt,
)
from models.lost_found_notices import data, item_details, public_line, to_roles
from models.lost_found_rules import next_month_end, next_notice_at
from models.lost_found_search import awaiting_signature, claimable_items
from models.notification import Msg, Notification, enqueue, enqueue_chat, enqueue_edit
from models.people import Role, staff_with_role
from models.ticket import Ticket

NOTICE_LINES = 30  # one Telegram message; the rest are at the desk


async def _item(session: AsyncSession, d: Due) -> tuple[Ticket, FoundItem] | None:
    if d.ticket_id is None:
        return None
    ticket = await session.get(Ticket, d.ticket_id)
    item = await session.get(FoundItem, d.ticket_id)
    return (ticket, item) if ticket is not None and item is not None else None


@on_due("lf.valuable")
async def _valuable_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _item(session, d)
    if found is None or not custody.to_admin(*found, "valuable", now):
        return
    ticket, item = found
    body = Msg().add(
        N_(
            "💰 Valuable item {ref} was not claimed on the day the front desk received it: it "
            "goes into the safekeeping of administration today (4.8). Front desk, please hand "
            "it over."
        ),
        ref=ticket.ref,
    )
    body.lines += item_details(ticket, item, env).lines
    await to_roles(session, [Role.RECEPTIONIST, Role.ADMIN], body, now, ticket_id=ticket.id)
    await chase.moved_to_admin(session, ticket, item, now)


@on_due("lf.disposal")
async def _disposal_due(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    found = await _item(session, d)
    if found is not None and found[0].state == ItemSt.TO_DESK:
        # Never received at the desk (the supervisors have been told): there is nothing the
        # desk could hand to administration yet. Looked at again at the next close.
        due = env.calendar.end_of_business_day(max(now, d.due_at))
        schedule(session, "lf.disposal", due, now, ticket_id=found[0].id)
        return
    at_desk = found is not None and found[1].custody == DESK
    if found is None or not custody.report_disposal(*found, now):
        return
    ticket, item = found
    claims = await chase.open_claims(session, ticket)
    params = {
        "ref": ticket.ref,
        "months": env.lost_found.disposal_months,
        "date": env.calendar.local_date(ticket.created_at),
    }
    if claims:
        # Claimed but never collected: not "unclaimed" (4.7 未被认领), and the claimants hear
        # it before the item is disposed of.
        body = Msg().add(
            N_(
                "🗑 {ref} has been kept for {months} months (registered {date}) and its claims "
                "were never completed. Please report it to the company for disposal (4.7) and "
                "record the outcome here."
            ),
            **params,
        )
        chase.open_claim_lines(body, claims, env)
        body.add(
            N_(
                "Claimants with an open claim have been told that it is due for disposal; if "
                "one comes to the front desk with their original ID card, hand it over instead."
            )
        )
        chase.due_for_disposal(session, claims, ticket, item, now, env)
    else:
        body = Msg().add(
            N_(
                "🗑 {ref} has not been claimed for {months} months (registered {date}). Please "
                "report it to the company for disposal (4.7) and record the outcome here."
            ),
            **params,
        )
    if at_desk:
        body.add(N_("It is still at the front desk, which has been asked to hand it over."))
    body.lines += item_details(ticket, item, env).lines
    body.button_row((N_("Record disposal outcome"), data("dsp", ticket.id)))
    await to_roles(session, [Role.ADMIN, Role.SUPERVISOR], body, now, ticket_id=ticket.id)
    if at_desk or claims:
        await _tell_desk_of_disposal(session, ticket, item, claims, at_desk, now, env)


async def _tell_desk_of_disposal(
    session: AsyncSession,
    ticket: Ticket,
    item: FoundItem,
    claims: chase.OpenClaims,
    at_desk: bool,
    now: datetime,
    env: Env,
) -> None:
    """The desk hands the item over to administration, and knows of the claims it held."""
    months = env.lost_found.disposal_months
    if claims:
        body = Msg().add(
            N_(
                "🗑 {ref} has been kept for {months} months without being collected: "
                "administration reports it to the company for disposal (4.7)."
            ),
            ref=ticket.ref,
            months=months,
        )
        if at_desk:
            body.add(N_("Front desk, please hand it over."))
        chase.open_claim_lines(body, claims, env)
    else:
        body = Msg().add(
            N_(
                "🗑 {ref} has not been claimed for {months} months: administration reports it "
                "to the company for disposal (4.7). Front desk, please hand it over."
            ),
            ref=ticket.ref,
            months=months,
        )
    body.lines += item_details(ticket, item, env).lines
    await to_roles(session, [Role.RECEPTIONIST], body, now, ticket_id=ticket.id)


# --- the weekly notice (招领启事) -------------------------------------------------------------


def _list(body: Msg, rows: list[tuple[Ticket, FoundItem]], env: Env) -> Msg:
    for ticket, item in rows[:NOTICE_LINES]:
        line, params = public_line(ticket, item, env)
        body.add(line, **params)
    if len(rows) > NOTICE_LINES:
        body.add(N_("… and {count} more: ask at the front desk."), count=len(rows) - NOTICE_LINES)
    return body


async def expire_notices(session: AsyncSession, now: datetime) -> int:
    """Edit every message of the notices still marked valid to say they have expired."""
    notices = (
        (await session.execute(select(FoundNotice).where(FoundNotice.expired_at.is_(None))))
        .scalars()
        .all()
    )
    for notice in notices:
        notice.expired_at = now
        for row_id in notice.notifications:
            original = await session.get(Notification, row_id)
            if original is None:
                continue
            edited = Msg().add(
                N_("⛔ EXPIRED — this notice was valid until {time}."), time=notice.valid_until
            )
            edited.lines += Msg.from_json(original.body).lines
            enqueue_edit(session, original, edited, now)
    return len(notices)


async def post_notice(session: AsyncSession, now: datetime, env: Env) -> FoundNotice | None:
    """Replace last week's notice with this week's (none when nothing is waiting)."""
    await expire_notices(session, now)
    # What the desk keeps (4.3, 4.5): an item still on its way there is in the next notice.
    rows = [(t, i) for t, i in await claimable_items(session) if t.state != ItemSt.TO_DESK]
    # An item whose claimant's ID has been checked has found its owner: not 招领 any more.
    found_owner = await awaiting_signature(session, [t.id for t, _ in rows])
    rows = [(t, i) for t, i in rows if t.id not in found_owner]
    if not rows:
        return None
    valid_until = now + env.lost_found.notice_valid
    body = Msg().add(
        N_("📢 Found items notice (招领启事) of {date}"), date=env.calendar.local_date(now)
    )
    body.add(N_("These items were handed in and are waiting for their owners:"))
    _list(body, rows, env)
    body.add(
        N_(
            "To claim one, send /lost to the property office bot, or come to the front desk "
            "with your original ID card and describe the item. Valid until {date}."
        ),
        date=valid_until,
    )
    sent: list[Notification] = []
    if env.notice_chat is not None:
        sent.append(enqueue_chat(session, env.notice_chat, body, now))
    else:  # no notice chat configured: the receptionists post it on the boards (张贴)
        for person in await staff_with_role(session, Role.RECEPTIONIST):
            row = enqueue(session, person, body, now)
            if row is not None:
                sent.append(row)
    await session.flush()
    notice = FoundNotice(
        posted_at=now,
        valid_until=valid_until,
        items=[t.id for t, _ in rows],
        notifications=[r.id for r in sent],
    )
    session.add(notice)
    await session.flush()
    for ticket, _ in rows:
        ticket.record("lf_noticed", None, now, data={"notice": notice.id})
    return notice


@on_due(WEEKLY_NOTICE)
async def _weekly_notice(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    await post_notice(session, now, env)
    after = max(now, d.due_at) + timedelta(seconds=1)
    schedule(session, WEEKLY_NOTICE, next_notice_at(after, env.lost_found, env.calendar), now)


# --- the month-end handover (月底移交) ----------------------------------------------------------


async def hand_over_month_end(session: AsyncSession, now: datetime, env: Env) -> int:
    """Everything the desk still holds goes to administration; returns how many items."""
    held = [(t, i) for t, i in await claimable_items(session) if i.custody == DESK]
    # An item whose claimant's ID has been checked has found its owner (4.4 核准无误): it only
    # waits for their signature and stays at the desk; 4.6 hands over the unclaimed ones.
    found_owner = await awaiting_signature(session, [t.id for t, _ in held])
    rows = [(t, i) for t, i in held if t.id not in found_owner]
    moved = [(t, i) for t, i in reversed(rows) if custody.to_admin(t, i, "month_end", now)]
    if moved:
        body = Msg().add(
            N_(
                "📦 Month-end handover (4.6): the unclaimed items the front desk holds go into "
                "the safekeeping of administration ({count}):"
            ),
            count=len(moved),
        )
        _list(body, moved, env)
        await to_roles(session, [Role.ADMIN, Role.RECEPTIONIST], body, now)
        for ticket, item in moved:
            await chase.moved_to_admin(session, ticket, item, now)
    return len(moved)


@on_due(MONTH_END)
async def _month_end(session: AsyncSession, d: Due, now: datetime, env: Env) -> None:
    await hand_over_month_end(session, now, env)
    after = max(now, d.due_at) + timedelta(seconds=1)
    schedule(session, MONTH_END, next_month_end(after, env.lost_found, env.calendar), now)


@at_startup
async def ensure_schedules(session: AsyncSession, now: datetime, env: Env) -> None:
    """Make sure the next weekly notice and month-end handover are scheduled."""
    policy, cal = env.lost_found, env.calendar
    await ensure_pending(session, WEEKLY_NOTICE, next_notice_at(now, policy, cal), now)
    await ensure_pending(session, MONTH_END, next_month_end(now, policy, cal), now)
