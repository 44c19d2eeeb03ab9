"""The repair state machine: every action is allowed from exactly its states, by its actor."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models import repair as rp
from models.base import DomainError
from models.env import Category, Env, RepairPolicy
from models.people import Person, add_staff, touch_person
from models.property import UnitRow, import_units, unit_by_code
from models.ticket import Ticket, history

S = rp.St
ENV = Env(repair=RepairPolicy(categories=(Category("water", "给水", "Water"),)))


@dataclass
class World:
    session: AsyncSession
    now: datetime
    ticket: Ticket
    repair: rp.Repair
    owner: Person
    receptionist: Person
    tech: Person
    tech2: Person
    lead: Person
    service: Person


@pytest.fixture
async def world(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Any:
    now = clock.now()
    async with sessions() as s:
        await import_units(s, [UnitRow(1, "1-2-301", "1", None, "Li", "13800000000")], now)
        unit = await unit_by_code(s, "1-2-301")
        assert unit is not None
        owner = await touch_person(s, 1, "Owner", "en", now)
        from models.property import bind

        await bind(s, owner, unit, "owner", now)

        async def staff(tg: int, role: str) -> Person:
            return await add_staff(s, name=f"{role}{tg}", roles=[role], buildings=[],
                                   telegram_id=tg, now=now)  # fmt: skip

        people = [await staff(10, "receptionist"), await staff(11, "technician"),
                  await staff(12, "technician"), await staff(13, "team_lead"),
                  await staff(14, "service")]  # fmt: skip
        ticket, repair = await rp.file_repair(
            s, owner=owner, unit=unit, scope="home", category="water",
            description="Tap drips", location=None, photos=[], appointment_at=None,
            fees_accepted=[], now=now, env=ENV,
        )  # fmt: skip
        ticket.assignee_id, ticket.assignee = people[1].id, people[1]
        await s.flush()
        yield World(s, now, ticket, repair, owner, *people)
        await s.rollback()


Op = Callable[[World], Awaitable[Any]]
OPS: dict[str, tuple[Op, set[rp.St]]] = {
    "dispatch": (lambda w: rp.dispatch(w.session, w.ticket, w.repair, w.tech2, w.receptionist,
                                       w.now, ENV), {S.NEW}),
    "reassign": (lambda w: rp.dispatch(w.session, w.ticket, w.repair, w.tech2, w.receptionist,
                                       w.now, ENV, reassign=True,
                                       expected_assignee_id=w.ticket.assignee_id),
                 {S.DISPATCHED, S.ACCEPTED, S.ON_SITE, S.REVIEW, S.PAUSED}),
    "return": (lambda w: rp.return_to_queue(w.session, w.ticket, w.repair, w.receptionist,
                                            w.now, ENV), {S.DISPATCHED, S.ACCEPTED}),
    "accept": (lambda w: _sync(rp.accept(w.ticket, w.tech, w.now)), {S.DISPATCHED}),
    "arrive": (lambda w: rp.arrive(w.session, w.ticket, w.repair, w.tech, w.now),
               {S.DISPATCHED, S.ACCEPTED}),
    "review": (lambda w: rp.request_review(w.session, w.ticket, w.tech, "x", w.now, ENV),
               {S.ON_SITE}),
    "conclude": (lambda w: rp.conclude_review(w.session, w.ticket, w.repair, w.lead, "x", w.now),
                 {S.REVIEW}),
    "pause": (lambda w: rp.pause(w.session, w.ticket, w.repair, w.tech, "x", w.now, ENV),
              {S.ON_SITE, S.ACCEPTED, S.DISPATCHED}),
    "resume": (lambda w: rp.resume(w.session, w.ticket, w.repair, w.tech, w.now, ENV),
               {S.PAUSED}),
    "material": (lambda w: _sync(rp.add_material(w.session, w.ticket, w.tech, {
        "name": "n", "spec": "s", "model": "m", "quantity": "1", "unit_price": "2"}, w.now)),
        {S.ON_SITE, S.REVIEW, S.PAUSED, S.DONE}),
    "fee": (lambda w: _sync(rp.record_fee(w.session, w.ticket, w.tech, Decimal(5), "x", w.now)),
            {S.ON_SITE, S.REVIEW, S.PAUSED, S.DONE}),
    "complete": (lambda w: rp.complete(w.session, w.ticket, w.repair, w.tech, w.now, ENV),
                 {S.ON_SITE}),
    "confirm": (lambda w: rp.confirm(w.session, w.ticket, w.repair, w.owner, 4, w.now, ENV),
                {S.DONE}),
    "not_fixed": (lambda w: rp.not_fixed(w.session, w.ticket, w.repair, w.owner, "x", w.now,
                                         ENV), {S.DONE}),
    "unconfirmed": (lambda w: rp.close_unconfirmed(w.session, w.ticket, w.repair, w.now, ENV),
                    {S.DONE}),

    "follow_up": (lambda w: rp.follow_up(w.session, w.ticket, w.repair, w.receptionist, True,
                                         "", w.now, ENV), {S.CONFIRMED, S.UNCONFIRMED}),
    "urge": (lambda w: _sync(rp.urge(w.ticket, w.repair, w.owner, w.now, ENV)), rp.OPEN),
    # (the world's technician has not arrived: a job paused for parts may still be withdrawn)
    "cancel": (lambda w: rp.cancel(w.session, w.ticket, w.repair, w.owner, w.now),
               {S.NEW, S.DISPATCHED, S.ACCEPTED, S.PAUSED}),
}  # fmt: skip


async def _sync(value: Any) -> Any:
    return value


@pytest.mark.parametrize("name", sorted(OPS))
async def test_action_is_allowed_from_exactly_its_states(world: World, name: str) -> None:
    op, allowed = OPS[name]
    for state in S:
        async with world.session.begin_nested() as savepoint:
            world.ticket.state = state
            world.repair.last_urged_at = None
            await world.session.flush()
            events = len(await history(world.session, world.ticket.id))
            if state in allowed:
                await op(world)
                assert len(await history(world.session, world.ticket.id)) > events, (name, state)
            else:
                with pytest.raises(DomainError) as refused:
                    await op(world)
                assert refused.value.code == "ticket_state", (name, state)
                assert (
                    world.ticket.state == state
                    and len(await history(world.session, world.ticket.id)) == events
                )
            await savepoint.rollback()


async def test_only_the_right_people_may_act(world: World) -> None:
    w = world
    w.ticket.state = S.NEW
    with pytest.raises(DomainError, match="not_allowed"):
        await rp.dispatch(w.session, w.ticket, w.repair, w.tech2, w.owner, w.now, ENV)
    with pytest.raises(DomainError, match="repair_not_technician"):
        await rp.dispatch(w.session, w.ticket, w.repair, w.lead, w.receptionist, w.now, ENV)
    w.ticket.state = S.DISPATCHED
    with pytest.raises(DomainError, match="not_allowed"):
        rp.accept(w.ticket, w.tech2, w.now)
    w.ticket.state = S.REVIEW
    with pytest.raises(DomainError, match="not_allowed"):
        await rp.conclude_review(w.session, w.ticket, w.repair, w.tech, "x", w.now)
    w.ticket.state = S.DONE
    with pytest.raises(DomainError, match="not_allowed"):
        await rp.confirm(w.session, w.ticket, w.repair, w.receptionist, 5, w.now, ENV)
    with pytest.raises(DomainError, match="not_allowed"):
        rp.urge(w.ticket, w.repair, w.receptionist, w.now, ENV)


async def test_technician_with_a_full_queue_cannot_be_dispatched(world: World) -> None:
    w = world
    policy = RepairPolicy(categories=ENV.repair.categories, max_open_per_technician=1)
    env = Env(repair=policy)
    w.ticket.state = S.NEW
    w.ticket.assignee_id, w.ticket.assignee = None, None
    await w.session.flush()
    await rp.dispatch(w.session, w.ticket, w.repair, w.tech2, w.receptionist, w.now, env)
    await w.session.flush()
    assert w.ticket.unit is not None
    second, second_repair = await rp.file_repair(
        w.session, owner=w.owner, unit=w.ticket.unit, scope="home", category="water",
        description="Door lock sticks", location=None, photos=[], appointment_at=None,
        fees_accepted=[], now=w.now, env=env,
    )  # fmt: skip
    with pytest.raises(DomainError, match="repair_technician_full"):
        await rp.dispatch(w.session, second, second_repair, w.tech2, w.receptionist, w.now, env)
    await rp.dispatch(w.session, second, second_repair, w.tech, w.receptionist, w.now, env)
