"""The complaint state machine without Telegram: who may do what, from which state, and what the
deadlines become (SQLite and PostgreSQL)."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models import complaint_followup as followup
from models import complaint_ops as ops
from models.base import DomainError
from models.complaint import Complaint, St
from models.deadline import Deadline
from models.env import Env
from models.people import Person, add_staff, touch_person
from models.property import Building, Unit, bind
from models.ticket import Kind, Ticket

ENV = Env()


async def _office(s: AsyncSession, now: datetime) -> dict[str, object]:
    building = Building(code="1")
    s.add(building)
    await s.flush()
    unit = Unit(code="1-2-301", building_id=building.id, created_at=now, updated_at=now)
    s.add(unit)
    await s.flush()
    await s.refresh(unit, ["building"])
    owner = await touch_person(s, 1001, "Li", "en", now)
    await bind(s, owner, unit, "owner", now)
    people: dict[str, object] = {"unit": unit, "owner": owner}
    for tg, role, building_scope in (
        (2001, "receptionist", []),
        (2002, "receptionist", ["7"]),
        (3501, "service", ["1"]),
        (3301, "supervisor", []),
        (3001, "technician", ["1"]),
    ):
        people[f"{role}{building_scope}"] = await add_staff(
            s, name=role, roles=[role], buildings=building_scope, telegram_id=tg, now=now
        )
    return people


async def _file(
    s: AsyncSession, o: dict[str, object], now: datetime, kind: Kind = Kind.COMPLAINT, **kw: object
) -> tuple[Ticket, Complaint]:
    owner = o["owner"]
    assert isinstance(owner, Person)
    args: dict[str, object] = {
        "kind": kind,
        "owner": owner,
        "unit": o["unit"],
        "filer": owner,
        "channel": "bot",
        "description": "The lift is broken",
        "location": None,
        "photos": [],
        "raised_with": None,
        "now": now,
        "env": ENV,
    }
    args.update(kw)
    return await ops.file_case(s, **args)  # type: ignore[arg-type]


def _p(o: dict[str, object], key: str) -> Person:
    person = o[key]
    assert isinstance(person, Person)
    return person


async def test_who_may_file_and_what_a_filing_may_say(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        o = await _office(s, now)
        with pytest.raises(DomainError, match="not_allowed"):
            await _file(s, o, now, filer=_p(o, "technician['1']"))  # "bot" is the owner's own
        with pytest.raises(DomainError, match="not_allowed"):
            await _file(s, o, now, channel="phone", filer=_p(o, "owner"))  # staff only
        with pytest.raises(DomainError, match="stale"):
            await _file(s, o, now, kind=Kind.SUGGESTION, raised_with="government")
        with pytest.raises(DomainError, match="stale"):
            await _file(s, o, now, channel="pigeon")
        ticket, complaint = await _file(s, o, now, channel="phone", filer=_p(o, "technician['1']"))
        assert ticket.created_by_id == _p(o, "technician['1']").id
        assert ticket.unit_id is None and complaint.unit_id == o["unit"].id  # type: ignore[attr-defined]


async def test_recording_is_for_the_buildings_front_desk_with_a_valid_class(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        o = await _office(s, now)
        ticket, complaint = await _file(s, o, now, raised_with="group")
        handler = _p(o, "service['1']")
        kw = {"major": True, "responsible": handler, "share_unit": False, "now": now, "env": ENV}
        for actor, klass, major, code in (
            (_p(o, "owner"), 1, True, "not_allowed"),
            (_p(o, "receptionist['7']"), 1, True, "not_allowed"),  # another building's desk
            (_p(o, "receptionist[]"), None, True, "stale"),  # a complaint needs a class
            (_p(o, "receptionist[]"), 4, True, "stale"),
            (_p(o, "receptionist[]"), 1, False, "stale"),  # raised with the group: major
        ):
            with pytest.raises(DomainError, match=code):
                await ops.classify(
                    s, ticket, complaint, actor, klass=klass, **{**kw, "major": major}
                )
        with pytest.raises(DomainError, match="complaint_not_responsible"):
            await ops.classify(
                s,
                ticket,
                complaint,
                _p(o, "receptionist[]"),
                klass=1,
                **{**kw, "responsible": _p(o, "owner")},
            )
        assert ticket.state == St.RECORDING
        newly = await ops.classify(s, ticket, complaint, _p(o, "receptionist[]"), klass=1, **kw)
        assert newly is False and ticket.state == St.IN_HAND and ticket.assignee_id == handler.id
        assert complaint.due_at == now + timedelta(hours=4)


async def test_asking_a_superior_after_two_office_hours_is_marked_late(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        o = await _office(s, now)
        ticket, complaint = await _file(s, o, now)
        handler = _p(o, "service['1']")
        await ops.classify(
            s,
            ticket,
            complaint,
            _p(o, "receptionist[]"),
            klass=3,
            major=False,
            responsible=handler,
            share_unit=False,
            now=now,
            env=ENV,
        )
        with pytest.raises(DomainError, match="not_allowed"):
            ops.ask_superior(ticket, complaint, _p(o, "supervisor[]"), "?", now, ENV)
        assert (
            ops.ask_superior(ticket, complaint, handler, "?", now + timedelta(hours=1), ENV)
            is False
        )
        assert (
            ops.ask_superior(ticket, complaint, handler, "?", now + timedelta(hours=3), ENV) is True
        )


async def test_an_unhappy_follow_up_reopens_and_only_a_happy_class_one_is_a_case_study(
    sessions: async_sessionmaker[AsyncSession], clock: ManualClock
) -> None:
    now = clock.now()
    async with sessions() as s, s.begin():
        o = await _office(s, now)
        ticket, complaint = await _file(s, o, now)
        desk, handler, head = (_p(o, k) for k in ("receptionist[]", "service['1']", "supervisor[]"))
        await ops.classify(
            s,
            ticket,
            complaint,
            desk,
            klass=1,
            major=False,
            responsible=handler,
            share_unit=True,
            now=now,
            env=ENV,
        )
        await ops.reply(s, ticket, complaint, handler, "ok", "done", now, ENV)
        await ops.resolve(s, ticket, complaint, desk, "done", now, ENV)
        owner = _p(o, "owner")
        with pytest.raises(DomainError, match="not_allowed"):  # not asked in the bot
            await followup.record_followup(
                s,
                ticket,
                complaint,
                owner,
                satisfied=True,
                opinion="",
                prevention="",
                now=now,
                env=ENV,
            )
        await followup.record_followup(
            s,
            ticket,
            complaint,
            head,
            satisfied=False,
            opinion="still rude",
            prevention="",
            now=now,
            env=ENV,
        )
        assert ticket.state == St.RECORDING and not complaint.case_study
        assert ticket.assignee_id is None
        await s.flush()
        pending = await s.execute(
            select(Deadline.kind, Deadline.level)
            .where(
                Deadline.ticket_id == ticket.id,
                Deadline.done_at.is_(None),
                Deadline.fired_at.is_(None),
            )
            .order_by(Deadline.level)
        )
        assert list(pending.all()) == [("complaint.classify", 1), ("complaint.classify", 2)]
