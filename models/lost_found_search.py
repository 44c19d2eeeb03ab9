"""Finding found items: the owners' list and search, and owners' reports of lost things that
are matched against every newly registered item (same category and a shared word).

Matching and search look at the public face of an item only — its general name and where it
was found — so neither can be used to probe the distinguishing details a claimant must give.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from models.base import N_, DomainError
from models.env import Env
from models.lost_found import CLAIMABLE, ClaimSt, FoundItem, LostClaim, LostReport
from models.lost_found_notices import category_name, data
from models.lost_found_rules import shared_words, words
from models.notification import Msg, enqueue, msg, notify_role
from models.people import Person, Role
from models.property import contact_for, units_of
from models.ticket import Ticket

SCAN_LIMIT = 500  # an office holds dozens of items; searching the newest 500 is plenty


async def claimable_items(
    session: AsyncSession, category: str | None = None, limit: int = SCAN_LIMIT
) -> list[tuple[Ticket, FoundItem]]:
    """Items waiting for their owners, newest first."""
    query = (
        select(Ticket, FoundItem)
        .join(FoundItem, FoundItem.ticket_id == Ticket.id)
        .where(Ticket.state.in_([s.value for s in CLAIMABLE]))
        .order_by(Ticket.created_at.desc(), Ticket.id.desc())
        .limit(limit)
    )
    if category:
        query = query.where(FoundItem.category == category)
    return [(t, i) for t, i in (await session.execute(query)).all()]


async def awaiting_signature(session: AsyncSession, item_ids: list[int]) -> set[int]:
    """Those of `item_ids` whose claimant has shown their ID at the desk (4.4 核准无误): the
    owner is found, the item only waits for their signature."""
    if not item_ids:
        return set()
    rows = await session.scalars(
        select(LostClaim.item_id)
        .join(Ticket, Ticket.id == LostClaim.ticket_id)
        .where(LostClaim.item_id.in_(item_ids), Ticket.state == ClaimSt.ID_CHECKED.value)
    )
    return set(rows.all())


def public_text(item: FoundItem) -> str:
    return f"{item.name} {item.place}"


async def search(
    session: AsyncSession, category: str | None, text: str
) -> list[tuple[Ticket, FoundItem]]:
    """Items of `category` (any when None) sharing a word with `text` (all when empty), the
    best matches first."""
    wanted = words(text)
    found = await claimable_items(session, category)
    if not wanted:
        return found
    scored = [(len(wanted & words(public_text(i))), t, i) for t, i in found]
    scored = [s for s in scored if s[0] > 0]
    scored.sort(key=lambda s: (-s[0], -s[1].created_at.timestamp(), -s[1].id))
    return [(t, i) for _, t, i in scored]


async def report_lost(
    session: AsyncSession, owner: Person, category: str, text: str, now: datetime, env: Env
) -> LostReport:
    """An owner reports something lost; the desk is told, matches are pointed out later."""
    if env.lost_found.category(category) is None:
        raise DomainError("stale")
    report = LostReport(
        owner_id=owner.id,
        category=category,
        text=text,
        created_at=now,
        expires_at=now + env.lost_found.report_valid,
        notified=[],
    )
    session.add(report)
    await session.flush()
    units = await units_of(session, owner)
    unit = units[0] if units else None
    name, _ = await contact_for(session, owner, unit)
    await notify_role(
        session,
        Role.RECEPTIONIST,
        msg(
            N_("📝 {name} ({unit}) reported losing something ({category}): {text}"),
            name=name,
            unit=unit.code if unit else "—",
            category=category_name(env, category),
            text=text,
        ),
        now,
    )
    return report


async def open_reports(session: AsyncSession, owner: Person, now: datetime) -> list[LostReport]:
    """The owner's lost reports still being matched against what is handed in, newest first."""
    rows = await session.scalars(
        select(LostReport)
        .where(LostReport.owner_id == owner.id, LostReport.expires_at > now)
        .order_by(LostReport.id.desc())
    )
    return list(rows.all())


async def withdraw_report(
    session: AsyncSession, report_id: int, owner: Person, now: datetime
) -> LostReport:
    """The owner found it, or no longer looks for it: no more matches are pointed out.

    Only the owner who filed the report may withdraw it; a report that has already ended
    (withdrawn or expired) is refused as an out-of-date button."""
    report = await session.get(LostReport, report_id)
    if report is None or report.owner_id != owner.id:
        raise DomainError("not_allowed")
    if report.expires_at <= now:
        raise DomainError("stale")
    report.expires_at = now
    await session.flush()
    return report


async def point_out_matches(
    session: AsyncSession, ticket: Ticket, item: FoundItem, now: datetime, env: Env
) -> int:
    """Tell the owners whose open lost reports match a newly registered item to look at
    /lost; returns how many were told."""
    rows = await session.execute(
        select(LostReport, Person)
        .join(Person, Person.id == LostReport.owner_id)
        .where(LostReport.category == item.category, LostReport.expires_at > now)
        .order_by(LostReport.id)
    )
    told: set[int] = set()
    for report, owner in rows.all():
        if owner.id in told or not shared_words(report.text, public_text(item)):
            continue
        told.add(owner.id)
        report.notified = [*report.notified, ticket.id]
        body = msg(
            N_(
                "🔔 Something that may be what you lost was handed in: {ref} · {category} · "
                "{name}. Send /lost to look at the found items, and claim it if it is yours."
            ),
            ref=ticket.ref,
            category=category_name(env, item.category),
            name=item.name,
        )
        body.button_row((N_("Recently found items"), data("rec", 0)))
        enqueue(session, owner, body, now)
    return len(told)


def listing(
    rows: list[tuple[Ticket, FoundItem]], env: Env, head: Msg, *, more_from: int | None = None
) -> Msg:
    """Items as owners may see them, with a claim button each."""
    from models.lost_found_notices import public_line

    out = head
    for ticket, item in rows:
        line, params = public_line(ticket, item, env)
        out.add(line, **params)
    for ticket, _ in rows:
        out.button_row(
            (N_("Claim {ref}"), {"ref": ticket.ref}, data("cl", ticket.id)),
        )
    if more_from is not None:
        out.button_row((N_("More"), data("rec", more_from)))
    return out
