"""The lost-and-found state machine: who may do what to an item or a claim, and from which
state; several claims, one verified; custody and disposal."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.clock import ManualClock
from models import lost_found_custody as custody
from models import lost_found_flow as flow
from models import lost_found_ops as ops
from models.base import DomainError
from models.deadline import Deadline
from models.env import Env
from models.lost_found import (
    ADMIN,
    BOT,
    CLAIM_REMINDER,
    DESK,
    PAPER,
    ClaimSt,
    FoundItem,
    ItemSt,
    LostClaim,
)
from models.lost_found_rules import ID_CARD, IdDocument, check_document
from models.people import Person, add_staff, touch_person
from models.property import UnitRow, bind, import_units, unit_by_code
from models.ticket import Ticket

ENV = Env()
DOC = IdDocument(ID_CARD, "4101**********1230")


@dataclass
class World:
    s: AsyncSession
    now: datetime
    owner: Person
    owner2: Person
    receptionist: Person
    guard: Person
    admin: Person
    supervisor: Person

    async def register(self, **changes: Any) -> tuple[Ticket, FoundItem]:
        answers = {
            "name": "black wallet",
            "description": "brown leather, three bank cards",
            "category": "wallet",
            "valuable": False,
            "place": "lobby",
            "found_at": self.now.isoformat(),
            "finder_me": True,
            "photos": [],
            **changes.pop("answers", {}),
        }
        actor = changes.pop("actor", self.guard)
        ticket, item = await flow.register(self.s, actor, answers, self.now, ENV)
        if changes.pop("received", True) and ticket.state == ItemSt.TO_DESK:
            await flow.receive(self.s, ticket.id, self.receptionist, self.now, ENV)
        return ticket, item

    async def claim(self, item: Ticket, owner: Person | None = None) -> Ticket:
        claim, _ = await flow.file_claim(
            self.s, owner or self.owner, item.id, "wallet", "brown, cards inside", self.now, ENV
        )
        return claim

    async def refused(self, code: str, op: Any) -> None:
        with pytest.raises(DomainError) as refusal:
            async with self.s.begin_nested():
                await op
        assert refusal.value.code == code


@pytest.fixture
async def w(sessions: async_sessionmaker[AsyncSession], clock: ManualClock) -> Any:
    now = clock.now()
    async with sessions() as s:
        rows = [
            UnitRow(1, "1-2-301", "1", None, "Li", "13800000000"),
            UnitRow(2, "1-2-302", "1", None, "Chen", "13900000000"),
        ]
        await import_units(s, rows, now)
        owners = []
        for tg, code in ((1, "1-2-301"), (2, "1-2-302")):
            person = await touch_person(s, tg, f"Owner{tg}", "en", now)
            unit = await unit_by_code(s, code)
            assert unit is not None
            await bind(s, person, unit, "owner", now)
            owners.append(person)

        async def staff(tg: int, role: str) -> Person:
            return await add_staff(
                s, name=f"{role}{tg}", roles=[role], buildings=[], telegram_id=tg, now=now
            )

        people = [
            await staff(10, "receptionist"),
            await staff(11, "guard"),
            await staff(12, "admin"),
            await staff(13, "supervisor"),
        ]
        yield World(s, now, *owners, *people)
        await s.rollback()


async def test_any_staff_member_registers_and_owners_cannot(w: World) -> None:
    ticket, item = await w.register()
    assert ticket.ref == "F-20261127-001" and ticket.state == ItemSt.HELD
    assert (item.custody, item.finder_name, item.valuable) == (DESK, "guard11", False)
    await w.refused("not_allowed", w.register(actor=w.owner))
    await w.refused("stale", w.register(answers={"category": "spaceship"}))
    future = (w.now + timedelta(hours=1)).isoformat()
    await w.refused("lf_found_future", w.register(answers={"found_at": future}))


async def test_a_valuable_category_marks_the_item_valuable_with_a_same_day_deadline(
    w: World,
) -> None:
    ticket, item = await w.register(answers={"category": "phone", "valuable": False})
    assert item.valuable
    deadlines = {
        d.kind: d.due_at
        for d in (
            await w.s.execute(
                select(Deadline).where(Deadline.ticket_id == ticket.id, Deadline.done_at.is_(None))
            )
        ).scalars()
    }
    assert deadlines == {
        "lf.valuable": ENV.calendar.end_of_business_day(w.now),
        "lf.disposal": w.now.replace(year=2027, month=2),
    }
    _, plain = await w.register()
    assert not plain.valuable


async def test_a_find_handed_in_is_received_by_a_receptionist_once_before_its_id_check(
    w: World,
) -> None:
    item, found = await w.register(received=False, answers={"category": "phone"})
    assert item.state == ItemSt.TO_DESK
    kinds = {d.kind for d in (await w.s.execute(select(Deadline))).scalars()}
    assert kinds == {"lf.disposal", "lf.receipt"}  # 4.8's day starts at the receipt
    claim = await w.claim(item)  # an owner may claim it already
    await w.refused("lf_not_received", flow.check_claim(w.s, claim.id, w.receptionist, "ver"))
    await w.refused("lf_not_received", flow.check_item(w.s, item.id, w.receptionist, "walk"))
    for who in (w.guard, w.supervisor, w.admin, w.owner):
        await w.refused("not_allowed", flow.receive(w.s, item.id, who, w.now, ENV))
    w.now += timedelta(hours=2)
    await flow.receive(w.s, item.id, w.receptionist, w.now, ENV)
    assert item.state == ItemSt.HELD and found.custody_at == w.now
    await w.refused("lf_already_received", flow.receive(w.s, item.id, w.receptionist, w.now, ENV))
    open_kinds = {
        d.kind: d.due_at
        for d in (await w.s.execute(select(Deadline).where(Deadline.done_at.is_(None)))).scalars()
        if d.kind != CLAIM_REMINDER
    }
    assert open_kinds["lf.valuable"] == ENV.calendar.end_of_business_day(w.now)
    assert "lf.receipt" not in open_kinds
    mine, _ = await w.register(actor=w.receptionist, received=False)
    assert mine.state == ItemSt.HELD


async def test_several_claims_but_one_verified_and_one_signature(w: World) -> None:
    item, _ = await w.register()
    first, second = await w.claim(item), await w.claim(item, w.owner2)
    await w.refused("lf_claim_duplicate", w.claim(item))
    await w.refused("not_allowed", flow.check_id(w.s, first.id, w.owner, DOC, w.now, ENV))
    await w.refused("not_allowed", flow.check_id(w.s, first.id, w.guard, DOC, w.now, ENV))
    await flow.check_id(w.s, first.id, w.receptionist, DOC, w.now, ENV)
    await w.refused(
        "lf_other_verified", flow.check_id(w.s, second.id, w.receptionist, DOC, w.now, ENV)
    )
    await w.refused("ticket_state", flow.check_id(w.s, first.id, w.receptionist, DOC, w.now, ENV))
    # Only the claimant signs in the bot; only a receptionist records a paper signature.
    await w.refused("not_allowed", flow.sign(w.s, first.id, w.owner2, BOT, w.now))
    await w.refused("not_allowed", flow.sign(w.s, first.id, w.receptionist, BOT, w.now))
    await w.refused("not_allowed", flow.sign(w.s, first.id, w.owner, PAPER, w.now))
    await w.refused("ticket_state", flow.sign(w.s, second.id, w.owner2, BOT, w.now))
    await flow.sign(w.s, first.id, w.owner, BOT, w.now)
    item_row = await w.s.get(FoundItem, item.id)
    claim_row = await w.s.get(LostClaim, first.id)
    assert item.state == ItemSt.RETURNED and item_row is not None
    assert (item_row.returned_at, item_row.returned_claim_id) == (w.now, first.id)
    assert claim_row is not None and claim_row.id_masked == DOC.masked
    assert (claim_row.verified_by_id, claim_row.receipt) == (w.receptionist.id, BOT)
    assert (first.state, second.state) == (ClaimSt.HANDED_OVER, ClaimSt.LAPSED)
    returned = next(e for e in item.events if e.action == "lf_returned")
    assert returned.actor_id == w.owner.id and returned.data["id"] == DOC.masked
    # A returned item takes no more claims, and its old claims no more actions.
    await w.refused("lf_item_returned", w.claim(item, w.owner2))
    await w.refused("ticket_state", flow.reject(w.s, second.id, w.receptionist, "late", w.now))
    assert await ops.claims_on(w.s, item, {ClaimSt.ID_CHECKED}) == []


async def test_reject_and_withdraw_belong_to_the_desk_and_the_claimant(w: World) -> None:
    item, _ = await w.register()
    first, second = await w.claim(item), await w.claim(item, w.owner2)
    await w.refused("not_allowed", flow.reject(w.s, first.id, w.owner, "no", w.now))
    await flow.reject(w.s, first.id, w.receptionist, "the cards are not in your name", w.now)
    assert first.state == ClaimSt.REJECTED and first.closed_at == w.now
    await w.refused("not_allowed", flow.withdraw(w.s, second.id, w.owner, w.now))
    await flow.withdraw(w.s, second.id, w.owner2, w.now)
    assert second.state == ClaimSt.WITHDRAWN
    third = await w.claim(item)  # a rejected claimant may try again with a better description
    assert third.state == ClaimSt.CLAIMED and item.state == ItemSt.HELD


async def test_a_walk_in_claim_is_checked_signed_on_paper_and_returned_at_once(w: World) -> None:
    item, _ = await w.register()
    other = await w.claim(item, w.owner2)
    await w.refused(
        "not_allowed",
        flow.desk_claim(w.s, item.id, w.guard, "Zhou Min", "black wallet", DOC, w.now, ENV),
    )
    claim, _ = await flow.desk_claim(
        w.s, item.id, w.receptionist, "Zhou Min", "black wallet, cards", DOC, w.now, ENV
    )
    assert claim.owner_id is None and claim.state == ClaimSt.HANDED_OVER
    assert [e.action for e in claim.events] == ["created", "lf_id_checked", "lf_signed_paper"]
    assert item.state == ItemSt.RETURNED and other.state == ClaimSt.LAPSED


async def test_custody_moves_once_and_only_for_items_still_waiting(w: World) -> None:
    item, row = await w.register()
    assert custody.to_admin(item, row, "month_end", w.now)
    assert (row.custody, row.custody_at) == (ADMIN, w.now)
    assert not custody.to_admin(item, row, "month_end", w.now)
    returned, returned_row = await w.register()
    claim = await w.claim(returned)
    await flow.check_id(w.s, claim.id, w.receptionist, DOC, w.now, ENV)
    await flow.sign(w.s, claim.id, w.owner, BOT, w.now)
    assert not custody.to_admin(returned, returned_row, "valuable", w.now)
    assert returned_row.custody == DESK


async def test_disposal_is_reported_then_recorded_by_administration(w: World) -> None:
    item, row = await w.register()
    claim = await w.claim(item)
    await w.refused("ticket_state", flow.dispose(w.s, item.id, w.admin, "donated", w.now))
    assert custody.report_disposal(item, row, w.now)
    assert not custody.report_disposal(item, row, w.now)
    assert item.state == ItemSt.FOR_DISPOSAL and row.custody == ADMIN
    second = await w.claim(item, w.owner2)  # still claimable until the outcome is recorded
    await w.refused("not_allowed", flow.dispose(w.s, item.id, w.receptionist, "x", w.now))
    await w.refused("not_allowed", flow.dispose(w.s, item.id, w.owner, "x", w.now))
    await flow.dispose(w.s, item.id, w.supervisor, "donated to charity", w.now)
    assert item.state == ItemSt.DISPOSED and row.disposal_outcome == "donated to charity"
    assert (claim.state, second.state) == (ClaimSt.LAPSED, ClaimSt.LAPSED)
    await w.refused("lf_item_gone", w.claim(item))


async def test_check_document_feeds_the_desk_only_a_masked_number(w: World) -> None:
    item, _ = await w.register()
    claim = await w.claim(item)
    document = check_document(ID_CARD, "410102199003071230", w.now.date())
    await flow.check_id(w.s, claim.id, w.receptionist, document, w.now, ENV)
    row = await w.s.get(LostClaim, claim.id)
    assert row is not None and row.id_masked == "4101**********1230"
    assert "410102199003071230" not in str([e.data for e in claim.events])
