"""Looking at tickets: /my for owners, /queue and /ticket for staff."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from handlers import labels
from handlers.base import Ctx, desk
from handlers.common import require_owner, require_staff
from models.notification import N_, Listing, Msg
from models.property import units_of
from models.queries import (
    WORK_SOURCES,
    may_view,
    open_work_of,
    tickets_of_owner,
    visible_ticket,
    work_source,
)
from models.ticket import Ticket, TicketEvent, history, parse_reference, ticket_by_id

MAX_EVENTS = 30
# Per kind: the buttons a viewer may press on a ticket card (flows register theirs).
CARD_BUTTONS: dict[str, Callable[[Ctx, int], Awaitable[list[tuple[str, str]]]]] = {}
# Per kind: a flow that renders the whole card itself, for what a viewer may not see.
CARD_RENDERERS: dict[str, Callable[[Ctx, Ticket], Awaitable[Msg]]] = {}
# Per kind: lines a flow adds under a ticket's title on its card and in /my (e.g. dates, rate).

CARD_DETAILS: dict[str, Callable[[Ctx, Ticket], Awaitable[Msg]]] = {}
# Per kind: where the work is, for the /queue lines of tickets not done at their unit (a
# public repair: its place and building, not the flat of whoever reported it).
QUEUE_PLACES: dict[str, Callable[[Ctx, list[Ticket]], Awaitable[dict[int, Msg]]]] = {}


def ticket_card(ticket: Ticket, events: list[TicketEvent]) -> Msg:
    card = Msg().add(
        N_("{kind} {ref} — {state}"),
        kind=labels.kind(ticket.kind),
        ref=ticket.ref,
        state=labels.state(ticket.state, ticket.kind),
    )
    if ticket.unit is not None:
        card.add(N_("Unit: {unit}"), unit=ticket.unit.code)
    if ticket.summary:
        card.add(N_("Details: {text}"), text=ticket.summary[:500])
    card.add(N_("Filed: {time}"), time=ticket.created_at)
    if events:
        card.add(N_("History:"))
        for event in events[-MAX_EVENTS:]:
            card.add(
                N_("{time} · {action} · {who}"),
                time=event.at,
                action=labels.action(event.action, ticket.kind),
                who=event.actor.name if event.actor else Msg().add(N_("system")),
            )
    return card


@desk
async def my(ctx: Ctx) -> None:
    """/my: the owner's units and their latest requests.

    Someone whose link to a unit the office ended (the flat was sold) keeps the requests they
    filed: /my still lists them, so they can follow, confirm and rate them.
    """
    units = await units_of(ctx.session, ctx.person)
    tickets = await tickets_of_owner(ctx.session, ctx.person)
    if not units and not tickets:
        await require_owner(ctx)  # (tells them how to link to a unit)
        return
    if units:
        out = Msg().add(N_("Your units: {units}"), units=Listing(tuple(u.code for u in units)))
    else:
        out = Msg().add(N_("You are not linked to a unit any more."))
    if not tickets:
        out.add(N_("You have no requests yet."))
    for ticket in tickets:
        out.add(
            N_("{ref} · {kind} · {state}"),
            ref=ticket.ref,
            kind=labels.kind(ticket.kind),
            state=labels.state(ticket.state, ticket.kind),
        )
        details = CARD_DETAILS.get(ticket.kind)
        if details is not None:
            out.lines += (await details(ctx, ticket)).lines
    if tickets:
        out.add(N_("Press a reference to see its history and what you can do."))
    for i in range(0, min(len(tickets), 12), 3):
        out.button_row(*[(t.ref, f"t:{t.id}") for t in tickets[i : i + 3]])
    ctx.reply(out)


@desk
async def queue(ctx: Ctx) -> None:
    """/queue: the staff member's open work."""
    if not require_staff(ctx):
        return
    tickets = await open_work_of(ctx.session, ctx.person)
    if not tickets:
        ctx.reply(N_("You have no open work."))
        return
    out = Msg().add(N_("Your open work ({count}):"), count=len(tickets))
    places: dict[int, Msg] = {}
    for kind, where in QUEUE_PLACES.items():
        places.update(await where(ctx, [t for t in tickets if t.kind == kind]))
    for ticket in tickets:
        unit: Msg | str = places.get(ticket.id) or (ticket.unit.code if ticket.unit else "—")
        out.add(
            N_("{ref} · {unit} · {state}"),
            ref=ticket.ref,
            unit=unit,
            state=labels.state(ticket.state, ticket.kind),
        )
    for i in range(0, min(len(tickets), 12), 3):
        out.button_row(*[(t.ref, f"t:{t.id}") for t in tickets[i : i + 3]])
    ctx.reply(out)


@desk
async def ticket(ctx: Ctx) -> None:
    """/ticket REF: one ticket with its history (staff: any; owners: their own)."""
    ref = parse_reference(ctx.args[0]) if ctx.args else None
    if ref is None:
        ctx.reply(N_("Please give a reference, for example: /ticket R-20261127-001"))
        return
    await show_reference(ctx, ref)


async def show_reference(ctx: Ctx, ref: str) -> None:
    """The card of ticket `ref` if this person may see it (/ticket, or a pasted reference)."""
    found = await visible_ticket(ctx.session, ctx.person, ref)
    if found is None:
        # The same answer whether it does not exist or belongs to someone else.
        ctx.reply(N_("No ticket {ref} was found among yours."), ref=ref)
        return
    await _show(ctx, found)


@desk
async def open_card(ctx: Ctx) -> None:
    """A ticket button in /queue or /my: show its card (visibility re-checked)."""
    data = ctx.update.callback_query.data if ctx.update.callback_query else ""
    raw = (data or "").removeprefix("t:")
    found = await ticket_by_id(ctx.session, int(raw)) if raw.isdigit() and len(raw) < 19 else None
    if found is None or not await may_view(ctx.session, ctx.person, found):
        ctx.answer(N_("This button is out of date. Nothing was changed."), alert=True)
        return
    ctx.answer()
    await _show(ctx, found)


async def _show(ctx: Ctx, found: Ticket) -> None:
    renderer = CARD_RENDERERS.get(found.kind)
    if renderer is not None:  # the flow decides what this viewer may see (e.g. anonymity)
        ctx.reply(await renderer(ctx, found))
        return
    card = ticket_card(found, await history(ctx.session, found.id))
    details = CARD_DETAILS.get(found.kind)
    if details is not None:
        card.lines[1:1] = (await details(ctx, found)).lines
    actions = CARD_BUTTONS.get(found.kind)
    buttons = await actions(ctx, found.id) if actions else []
    for i in range(0, len(buttons), 2):
        card.button_row(*buttons[i : i + 2])
    ctx.reply(card)


def register_queue_source(source: Callable[..., Awaitable[list[Ticket]]]) -> None:
    """A flow's 'work waiting for your role' query joins /queue."""
    if source not in WORK_SOURCES:
        work_source(source)
