"""Who may read what: a ticket is shown to its owner, the people it names, staff who acted on
it and the roles that work on its kind in its building; nobody else, by reference or by a
forged button. An anonymous complaint stays anonymous through its linked warranty repair;
whether a flat stands empty is for the staff who bill and look after it."""

from sqlalchemy import select

from models.ticket import Ticket
from tests.flows import complaint_steps as cs
from tests.flows import repair_steps as rs
from tests.flows import vacancy_steps as vs
from tests.flows.harness import Desk

OWNER_NAME = "Zhao Meiling"
TECH_B2, GUARD, CASHIER_B2 = 9002, 9003, 9004
NOT_FOUND = "No ticket {ref} was found among yours."


async def _ticket_id(desk: Desk, ref: str) -> int:
    async with desk.session() as s:
        return int((await s.execute(select(Ticket.id).where(Ticket.ref == ref))).scalar_one())


async def test_a_repair_is_read_by_the_people_who_work_on_it_not_by_any_staff_member(
    desk: Desk,
) -> None:
    await rs.staffed(desk)
    await desk.staff(TECH_B2, "technician", name="Other Tech", buildings=("2",), lang="en")
    await desk.staff(GUARD, "guard", name="Gate Guard", lang="en")
    await desk.owner(rs.OWNER, "1-2-301", name=OWNER_NAME, lang="en")
    await desk.owner(rs.OWNER2, "1-2-302", name="Next Door", lang="en")
    ref = await rs.file_home_repair(desk, text="Bathroom door lock is broken, key at neighbour")
    await desk.press(rs.RECEPTIONIST, "Dispatch → Zhang Wei")

    for outsider in (TECH_B2, GUARD, rs.OWNER2):
        assert await desk.send(outsider, f"/ticket {ref}") == [NOT_FOUND.format(ref=ref)]
        # A forged card button says no more than a stale one.
        forged = desk.emu.last(outsider)
        replies = await desk.press_data(outsider, forged, f"t:{await _ticket_id(desk, ref)}")
        assert replies == [] and "out of date" in desk.last_answer()
    for insider in (rs.OWNER, rs.TECH, rs.TECH2, rs.RECEPTIONIST, rs.SUPERVISOR):
        card = "\n".join(await desk.send(insider, f"/ticket {ref}"))
        assert "key at neighbour" in card, insider


async def test_staff_who_acted_on_a_ticket_still_read_it_after_it_moved_on(desk: Desk) -> None:
    # A building-2 technician sent to help on a building-1 job keeps access to what they did.
    await rs.staffed(desk)
    await desk.staff(TECH_B2, "technician", name="Other Tech", buildings=("2",), lang="en")
    await desk.owner(rs.OWNER, "1-2-301", lang="en")
    ref = await rs.file_home_repair(desk, photos=0)
    assert await desk.send(TECH_B2, f"/ticket {ref}") == [NOT_FOUND.format(ref=ref)]
    ticket = await rs.ticket(desk, ref)
    helper = await desk.person(TECH_B2)
    async with desk.session() as s:
        loaded = await s.get(Ticket, ticket.id)
        assert loaded is not None
        loaded.record("noted", await s.merge(helper), desk.clock.now(), note="Helped with the lock")
        await s.commit()
    card = "\n".join(await desk.send(TECH_B2, f"/ticket {ref}"))
    assert "Details: The kitchen tap drips all night" in card and "· Other Tech" in card


async def test_an_anonymous_case_does_not_name_its_linked_repair_to_the_handler(
    desk: Desk,
) -> None:
    await cs.staffed(desk)
    await desk.owner(cs.OWNER, "1-2-301", name=OWNER_NAME, lang="en")
    ref = await cs.file_case(desk, text="Cracks in the bedroom wall since the rains", place=None)
    await cs.record(desk, ref, "2 · house quality, in the home", share="Keep the owner anonymous")
    order = desk.inbox(cs.HANDLER)[-1]
    assert "Work-contact order" in order
    assert "1-2-301" not in order and OWNER_NAME not in order
    assert "Linked warranty repair" not in order and "R-2026" not in order
    card = "\n".join(await desk.send(cs.HANDLER, f"/ticket {ref}"))
    assert "R-2026" not in card and "1-2-301" not in card
    # The front desk, who sees everything, still has the link.
    desk_card = "\n".join(await desk.send(cs.RECEPTIONIST, f"/ticket {ref}"))
    assert "Linked warranty repair: R-20261127-001" in desk_card


async def test_a_shared_case_names_its_linked_repair(desk: Desk) -> None:
    await cs.staffed(desk)
    await desk.owner(cs.OWNER, "1-2-301", name=OWNER_NAME, lang="en")
    ref = await cs.file_case(desk, text="Cracks in the bedroom wall since the rains", place=None)
    await cs.record(desk, ref, "2 · house quality, in the home", share="Share unit and name")
    assert "Linked warranty repair: R-20261127-001" in desk.inbox(cs.HANDLER)[-1]


async def test_staff_outside_a_case_cannot_open_it(desk: Desk) -> None:
    await cs.staffed(desk)
    await desk.staff(GUARD, "guard", name="Gate Guard", lang="en")
    await desk.owner(cs.OWNER, "1-2-301", lang="en")
    ref = await cs.file_case(desk)
    assert await desk.send(GUARD, f"/ticket {ref}") == [NOT_FOUND.format(ref=ref)]
    assert await desk.send(cs.TECH, f"/ticket {ref}") == [NOT_FOUND.format(ref=ref)]


async def test_whether_a_flat_stands_empty_is_for_the_staff_of_its_building(desk: Desk) -> None:
    await vs.staffed(desk)
    await desk.staff(GUARD, "guard", name="Gate Guard", lang="en")
    await desk.staff(CASHIER_B2, "cashier", name="Other Cash", buildings=("2",), lang="en")
    await desk.owner(vs.OWNER, lang="en")
    ref = await vs.apply(desk)
    await vs.approve(desk, ref)
    refused = ["You are not allowed to do this."]
    for outsider in (GUARD, CASHIER_B2, vs.TECH):
        assert await desk.send(outsider, "/fee_rate 1-2-301 2027-01-15") == refused, outsider
        assert await desk.send(outsider, f"/ticket {ref}") == (
            [NOT_FOUND.format(ref=ref)] if outsider != vs.TECH else await _card(desk, ref)
        )
    for insider in (vs.CASHIER, vs.RECEPTIONIST, vs.SERVICE, vs.SUPERVISOR):
        answer = (await desk.send(insider, "/fee_rate 1-2-301 2027-01-15"))[0]
        assert answer.startswith("Unit 1-2-301 on 15 Jan 2027: property fee"), insider
    assert await desk.send(vs.SERVICE2, "/fee_rate 1-2-301 2027-01-15") == refused


async def _card(desk: Desk, ref: str) -> list[str]:
    """What the receptionist's /ticket shows (a technician of the building reads the same)."""
    return await desk.send(vs.RECEPTIONIST, f"/ticket {ref}")


async def test_every_staff_member_can_log_a_complaint_they_heard(desk: Desk) -> None:
    # Seed 4.2.1 and 4.2.3: whoever hears it passes it on to the front desk.
    await desk.staff(GUARD, "guard", name="Gate Guard", lang="en")
    help_text = (await desk.send(GUARD, "/help"))[0]
    assert "/log — Log a complaint heard in person, by phone, letter or e-mail" in help_text
    assert "/fee_rate" not in help_text and "/weather_alert" not in help_text
