"""Owner forms: how to leave is said where it helps (the first question, a question asked
again after a bad answer), and any answer can be changed from the summary before Submit."""

from datetime import timedelta
from decimal import Decimal

from sqlalchemy import func, select

from bot.clock import ManualClock
from bot.config import DEFAULT_CATEGORIES, FeeItem, LocalizedText, RepairCategory
from models.complaint import Complaint
from models.draft import Draft
from models.lost_found import FoundItem, LostClaim
from models.repair import Repair
from models.ticket import Ticket
from models.vacancy import Vacancy
from tests.flows import lost_found_steps as lf
from tests.flows.harness import Desk
from tests.flows.repair_steps import OWNER, staffed

HINT = "Send /cancel to stop."
OLD_BUTTON = "This button belongs to an earlier question. Nothing was changed."
LOCK = RepairCategory(
    code="lock",
    name=LocalizedText(zh_CN="门锁", en="Door lock"),
    fees=[FeeItem(item=LocalizedText(zh_CN="更换锁芯", en="New lock cylinder"),
                  amount=Decimal("35.00"))],
)  # fmt: skip


async def _tickets(desk: Desk) -> int:
    async with desk.session() as s:
        return int(await s.scalar(select(func.count()).select_from(Ticket)) or 0)


async def _home_repair_summary(desk: Desk, text: str = "The kitchen tap drips all night") -> str:
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, text)
    await desk.photo(OWNER, b"jpeg-1")
    await desk.press(OWNER, "Done with photos")
    summary = await desk.press(OWNER, "As soon as possible")
    assert summary[0].startswith("Please check your request:"), summary
    return summary[0]


# --- how to leave -------------------------------------------------------------------------------


async def test_the_first_question_and_a_repeated_question_say_how_to_leave_a_repair(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    first = await desk.send(OWNER, "/repair")
    assert first == ["🔧 New repair request. Where is the problem?\n" + HINT]
    second = await desk.press(OWNER, "In my home")
    assert HINT not in second[-1]  # (not on every question: that would be noise)
    await desk.press(OWNER, "Water supply")
    assert await desk.send(OWNER, "x") == [
        "That is too short: please write at least 2 characters.",
        "Please describe the problem: what is broken, where exactly, since when.\n" + HINT,
    ]
    # A reason that already names /cancel is not followed by the same advice again.
    again = await desk.send(OWNER, "/start")
    assert HINT not in "\n".join(again)
    accepted = await desk.send(OWNER, "The kitchen tap drips all night")
    assert HINT not in "\n".join(accepted)


async def test_the_complaint_form_says_how_to_leave_first_and_after_a_bad_answer(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    first = await desk.send(OWNER, "/complain")
    assert first == ["📝 Is it a complaint or a suggestion?\n" + HINT]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Complaint (投诉)",
        "Suggestion (建议)",
    ]
    assert await desk.send(OWNER, "complaint") == [
        "Please choose one of the buttons.",
        "📝 Is it a complaint or a suggestion?\n" + HINT,
    ]
    await desk.press(OWNER, "Complaint")
    assert await desk.send(OWNER, "The lift is broken") == [
        "You can send up to 5 photos (0 so far). Press the button when you are done, or skip."
    ]
    assert await desk.send(OWNER, "not a photo") == [
        "Please send a photo, or press the button to continue.",
        "You can send up to 5 photos (0 so far). Press the button when you are done, or skip.\n"
        + HINT,
    ]


async def test_the_vacancy_form_says_how_to_leave_under_its_first_question(desk: Desk) -> None:
    await desk.owner(OWNER, lang="en")
    replies = await desk.send(OWNER, "/vacancy")
    assert len(replies) == 2 and HINT not in replies[0]  # (not under the introduction)
    assert replies[1].startswith("From which date will the unit be vacant?")
    assert replies[1].endswith("\n" + HINT)


# --- changing an answer ---------------------------------------------------------------------


async def test_a_changed_description_shows_on_the_summary_and_is_what_is_filed(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    summary = await _home_repair_summary(desk)
    assert "Details: The kitchen tap drips all night" in summary
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Submit",
        "Cancel",
        "Change an answer",
    ]

    listed = await desk.press(OWNER, "Change an answer")
    assert listed == ["Which answer would you like to change?"]
    # Only what was asked: one unit, so no unit; an in-home repair, so no building.
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Home or public area",
        "Kind of problem",
        "Description",
        "Photos",
        "Appointment time",
        "Back to the summary",
    ]
    asked = await desk.press(OWNER, "Description")
    assert asked == [
        "Please describe the problem: what is broken, where exactly, since when.\n"
        "Current answer: The kitchen tap drips all night"
    ]
    assert await _tickets(desk) == 0
    again = await desk.send(OWNER, "The bathroom tap drips all night")
    assert len(again) == 1 and again[0].startswith("Please check your request:")
    assert "Details: The bathroom tap drips all night" in again[0]
    assert "Photos: 1" in again[0] and "Appointment: as soon as possible" in again[0]
    assert await _tickets(desk) == 0  # nothing is filed before Submit

    filed = await desk.press(OWNER, "Submit")
    assert filed[0].startswith("✅ Your repair request has been filed. Reference: R-")
    async with desk.session() as s:
        repair = (await s.execute(select(Repair))).scalar_one()
        assert repair.description == "The bathroom tap drips all night"
        assert len(repair.photos) == 1 and repair.appointment_at is None
        assert await s.get(Draft, OWNER) is None


async def test_back_to_the_summary_changes_nothing(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    summary = await _home_repair_summary(desk)
    await desk.press(OWNER, "Change an answer")
    assert await desk.press(OWNER, "Back to the summary") == [summary]
    assert (await desk.press(OWNER, "Submit"))[0].startswith("✅ Your repair request")


async def test_a_charged_category_chosen_on_change_shows_its_fees_before_the_summary(
    database_url: str, clock: ManualClock
) -> None:
    async with Desk(database_url, clock, repair_categories=[*DEFAULT_CATEGORIES, LOCK]) as desk:
        await staffed(desk)
        await desk.owner(OWNER, lang="en")
        await _home_repair_summary(desk, "The front door lock is jammed")
        await desk.press(OWNER, "Change an answer")
        await desk.press(OWNER, "Kind of problem")
        # The new kind of repair is charged: the fees are asked about, the rest is kept.
        shown = await desk.press(OWNER, "Door lock")
        assert shown == [
            "This kind of repair is charged. The fees are:\n"
            "• New lock cylinder: CN¥35.00\n"
            "Materials, if any are needed, are charged at their listed price."
        ]
        summary = await desk.press(OWNER, "I accept the fees")
        assert "Category: Door lock" in summary[0]
        assert "Details: The front door lock is jammed" in summary[0]
        assert "Fee accepted: New lock cylinder CN¥35.00" in summary[0]

        # Back to a free kind: no fees are asked, and none stay on the request.
        await desk.press(OWNER, "Change an answer")
        await desk.press(OWNER, "Kind of problem")
        summary = await desk.press(OWNER, "Other")
        assert "Category: Other" in summary[0] and "Fee accepted" not in summary[0]
        await desk.press(OWNER, "Submit")
        async with desk.session() as s:
            repair = (await s.execute(select(Repair))).scalar_one()
        assert repair.category == "other" and repair.fees_accepted == []


async def test_a_public_area_chosen_on_change_asks_where_and_drops_the_appointment(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await _home_repair_summary(desk, "Stairwell light is out")
    await desk.press(OWNER, "Change an answer")
    await desk.press(OWNER, "Home or public area")
    assert (await desk.press(OWNER, "Public area")) == ["Which building is the problem in?"]
    assert await desk.press(OWNER, "Building 1") == [
        "Where exactly is it? For example: unit 2, 3rd floor stairwell."
    ]
    summary = (await desk.send(OWNER, "Unit 2, 3rd floor"))[0]
    assert "Type: public area repair" in summary and "Location: Unit 2, 3rd floor" in summary
    assert "Appointment" not in summary and "Details: Stairwell light is out" in summary
    # The building and the place can now be changed; the appointment no longer can.
    await desk.press(OWNER, "Change an answer")
    labels = [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))]
    assert "Building" in labels and "Location" in labels and "Appointment time" not in labels
    await desk.press(OWNER, "Back to the summary")
    await desk.press(OWNER, "Submit")
    async with desk.session() as s:
        repair = (await s.execute(select(Repair))).scalar_one()
    assert repair.scope == "public" and repair.location == "Unit 2, 3rd floor"
    assert repair.appointment_at is None and repair.building == "1"


async def test_changed_photos_replace_the_old_ones(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await _home_repair_summary(desk)
    await desk.press(OWNER, "Change an answer")
    assert await desk.press(OWNER, "Photos") == [
        "The photos you send now replace the 1 sent before.",
        "You can send up to 5 photos of the problem (0 so far). Press the button when you are "
        "done, or skip.",
    ]
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Keep the photos sent before (1)"
    ]
    await desk.photo(OWNER, b"jpeg-2")
    await desk.photo(OWNER, b"jpeg-3")
    summary = await desk.press(OWNER, "Done with photos")
    assert "Photos: 2" in summary[0]


async def test_photos_picked_for_a_change_by_mistake_are_kept(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await _home_repair_summary(desk)
    await desk.press(OWNER, "Change an answer")
    await desk.press(OWNER, "Photos")
    summary = await desk.press(OWNER, "Keep the photos sent before (1)")
    assert "Photos: 1" in summary[0]
    assert "Your repair request has been filed" in (await desk.press(OWNER, "Submit"))[0]
    async with desk.session() as s:
        repair = (await s.execute(select(Repair))).scalar_one()
    assert len(repair.photos) == 1


async def test_an_old_change_button_is_refused_and_changes_nothing(desk: Desk) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await _home_repair_summary(desk)
    old_summary = desk.with_button(OWNER, "Change an answer")
    change = dict(desk.emu.buttons(old_summary))["Change an answer"]
    submit = dict(desk.emu.buttons(old_summary))["Submit"]
    await desk.press(OWNER, "Change an answer")
    old_list = desk.emu.last(OWNER)
    pick = dict(desk.emu.buttons(old_list))["Photos"]
    await desk.press(OWNER, "Description")

    # The person has moved on to the description: the old summary's buttons and the old list
    # are refused, and the question they are at still takes their answer.
    for data, message in ((change, old_summary), (submit, old_summary), (pick, old_list)):
        assert await desk.press_data(OWNER, message, data) == []
        assert desk.last_answer() == OLD_BUTTON
    assert await _tickets(desk) == 0
    summary = await desk.send(OWNER, "The bathroom tap drips")
    assert "Details: The bathroom tap drips" in summary[0] and "Photos: 1" in summary[0]


async def test_a_change_goes_on_after_a_restart(database_url: str, clock: ManualClock) -> None:
    async with Desk(database_url, clock) as first:
        await staffed(first)
        await first.owner(OWNER, lang="en")
        await _home_repair_summary(first)
        await first.press(OWNER, "Change an answer")
        await first.press(OWNER, "Description")
    async with Desk(database_url, clock, emu=first.emu) as second:
        summary = await second.send(OWNER, "The bathroom tap drips all night")
        assert "Details: The bathroom tap drips all night" in summary[0]
        assert (await second.press(OWNER, "Submit"))[0].startswith("✅ Your repair request")
        async with second.session() as s:
            repair = (await s.execute(select(Repair))).scalar_one()
        assert repair.description == "The bathroom tap drips all night"


async def test_a_suggestion_changed_to_a_complaint_is_asked_where_else_it_was_raised(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/complain")
    await desk.press(OWNER, "Suggestion")
    await desk.send(OWNER, "Please plant more trees by the north gate")
    await desk.press(OWNER, "Skip photos")
    summary = await desk.press(OWNER, "Skip")
    assert "Type: suggestion" in summary[0]
    await desk.press(OWNER, "Change an answer")
    await desk.press(OWNER, "Complaint or suggestion")
    # A complaint, unlike a suggestion, asks whether it went to the company or government.
    assert await desk.press(OWNER, "Complaint (投诉)") == [
        "Has it already been raised with the company, the group or a government office?"
    ]
    summary = await desk.press(OWNER, "the company")
    assert "Type: complaint" in summary[0]
    assert "Details: Please plant more trees by the north gate" in summary[0]
    assert "Already raised with: the company" in summary[0]

    # Back to a suggestion: that answer is no longer asked, nor kept.
    await desk.press(OWNER, "Change an answer")
    await desk.press(OWNER, "Complaint or suggestion")
    summary = await desk.press(OWNER, "Suggestion (建议)")
    assert "Type: suggestion" in summary[0] and "Already raised" not in summary[0]
    filed = await desk.press(OWNER, "Submit")
    assert filed[0].startswith("✅ Your suggestion has been filed. Reference: S-")
    async with desk.session() as s:
        complaint = (await s.execute(select(Complaint))).scalar_one()
    assert complaint.raised_with is None


async def test_a_logged_complaint_keeps_when_it_was_received_when_the_channel_changes(
    desk: Desk, clock: ManualClock
) -> None:
    await desk.staff(2001, "receptionist", name="Wang Fang", lang="en")
    await desk.owner(OWNER, lang="en")
    received = clock.now()
    await desk.send(2001, "/log")
    await desk.send(2001, "1-2-301")
    await desk.press(2001, "Li (owner)")
    await desk.press(2001, "phone")
    await desk.press(2001, "Just now")
    await desk.press(2001, "Complaint")
    await desk.send(2001, "Noise from the gym after 22:00")
    await desk.press(2001, "Skip photos")
    await desk.press(2001, "Skip")
    await desk.press(2001, "No")
    await desk.tick(timedelta(minutes=20))
    await desk.press(2001, "Change an answer")
    await desk.press(2001, "How it was raised")
    # Face to face: whether it was resolved on the spot is asked (4.2.1); the time it was
    # received is kept, not taken again as "just now".
    assert await desk.press(2001, "face to face") == ["Was it resolved on the spot?"]
    assert (await desk.press(2001, "Yes, resolved on the spot")) == [
        "What was done, and with what result? The front desk tells the owner."
    ]
    summary = await desk.send(2001, "Asked the gym to close at 22:00")
    assert "Resolved on the spot: Asked the gym to close at 22:00" in summary[0]
    # Another answer changed afterwards: what was done on the spot still holds and is kept.
    await desk.press(2001, "Change an answer")
    await desk.press(2001, "Description")
    summary = await desk.send(2001, "Loud music from the gym after 22:00")
    assert summary[0].startswith("Please check before sending:"), summary
    assert "Resolved on the spot: Asked the gym to close at 22:00" in summary[0]
    replies = await desk.press(2001, "Submit")
    assert replies[0].startswith("✅ Recorded C-"), replies
    async with desk.session() as s:
        complaint = (await s.execute(select(Complaint))).scalar_one()
    assert complaint.channel == "face" and complaint.received_at == received
    assert complaint.on_the_spot == "Asked the gym to close at 22:00"


async def test_a_later_start_date_asks_the_end_date_again_with_the_reason(desk: Desk) -> None:
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/vacancy")
    await desk.send(OWNER, "2026-12-01")
    await desk.send(OWNER, "2027-03-02")
    await desk.send(OWNER, "Working in Shenzhen")
    summary = await desk.press(OWNER, "I have read and accept")
    assert "Vacant from" in summary[0]
    await desk.press(OWNER, "Change an answer")
    # One unit: it was never asked, so it is not offered.
    assert [t for t, _ in desk.emu.buttons(desk.emu.last(OWNER))] == [
        "Start date",
        "End date",
        "Reason",
        "Back to the summary",
    ]
    asked = await desk.press(OWNER, "Start date")
    assert asked[0].startswith("From which date will the unit be vacant?")
    again = await desk.send(OWNER, "2027-01-10")
    assert again[0].startswith("A vacancy must last more than 3 months"), again
    assert again[1].startswith("Until which date?")
    assert await _tickets(desk) == 0
    summary = await desk.send(OWNER, "2027-06-01")
    assert summary[0].startswith("Please check your application:"), summary
    assert "Reason: Working in Shenzhen" in summary[0]

    # A new reason alone goes straight back to the summary.
    await desk.press(OWNER, "Change an answer")
    asked = await desk.press(OWNER, "Reason")
    assert asked[0].endswith("Current answer: Working in Shenzhen")
    summary = await desk.send(OWNER, "Working in Beijing")
    assert summary[0].startswith("Please check your application:")
    assert "Reason: Working in Beijing" in summary[0]
    await desk.press(OWNER, "Submit")
    async with desk.session() as s:
        vacancy = (await s.execute(select(Vacancy))).scalar_one()
    assert (str(vacancy.start_date), str(vacancy.end_date)) == ("2027-01-10", "2027-06-01")
    assert vacancy.reason == "Working in Beijing"


async def test_a_claim_description_can_be_changed_before_it_is_submitted(desk: Desk) -> None:
    await lf.staffed(desk)
    ref = await lf.register(desk)
    await desk.owner(lf.OWNER, lang="en")
    await desk.send(lf.OWNER, "/lost")
    await desk.press(lf.OWNER, "Recently found items")
    await desk.press(lf.OWNER, f"Claim {ref}")
    await desk.send(lf.OWNER, "Brown leather wallet")
    await desk.send(lf.OWNER, "Two cards")
    await desk.press(lf.OWNER, "Change an answer")
    await desk.press(lf.OWNER, "Its features")
    summary = await desk.send(lf.OWNER, "Three bank cards and a cat photo")
    assert "Its features: Three bank cards and a cat photo" in summary[0]
    assert "You call it: Brown leather wallet" in summary[0]
    assert (await desk.press(lf.OWNER, "Submit claim"))[0].startswith("✅ Your claim")
    async with desk.session() as s:
        claim = (await s.execute(select(LostClaim))).scalar_one()
    assert claim.features == "Three bank cards and a cat photo"


async def test_a_found_item_moved_to_a_category_that_is_not_always_valuable_is_asked_about(
    desk: Desk, clock: ManualClock
) -> None:
    await lf.staffed(desk)
    found_at = clock.now()
    await desk.send(lf.GUARD, "/found")
    await desk.send(lf.GUARD, "black phone")
    await desk.send(lf.GUARD, lf.DETAILS)
    # A phone is valuable by its category: whether it is valuable is not asked.
    assert await desk.press(lf.GUARD, "Mobile phone") == ["Where was it found?"]
    await desk.send(lf.GUARD, "Lobby of building 1")
    await desk.press(lf.GUARD, "Just now")
    await desk.press(lf.GUARD, "I found it")
    summary = await desk.press(lf.GUARD, "No photo")
    assert "Valuable: yes" in summary[0]
    await desk.tick(timedelta(minutes=30))
    await desk.press(lf.GUARD, "Change an answer")
    await desk.press(lf.GUARD, "Category")
    asked = await desk.press(lf.GUARD, "Electronics")
    assert asked[0].startswith("Is it valuable"), asked
    summary = await desk.press(lf.GUARD, "Not valuable")
    assert "Valuable: no" in summary[0] and "Category: Electronics" in summary[0]
    assert (await desk.press(lf.GUARD, "Register"))[0].startswith("✅ Registered as F-")
    async with desk.session() as s:
        item = (await s.execute(select(FoundItem))).scalar_one()
    assert (item.category, item.valuable, item.found_at) == ("electronics", False, found_at)


async def test_an_update_delivered_again_is_not_taken_twice_but_its_question_is_asked_again(
    desk: Desk,
) -> None:
    # Telegram delivers an update again after a crash, or the bot retries one whose commit
    # went through while the connection was lost: the answer is kept once, and the person,
    # who may never have seen what came after it, gets the question they are at.
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/repair")
    update = desk.emu.press(OWNER, desk.with_button(OWNER, "In my home"), "In my home")
    mark = desk.emu.mark(OWNER)
    await desk.feed(update)
    first = [m.content for m in desk.emu.new_messages(OWNER, mark)]
    assert first[0].startswith("What kind of problem is it?")
    mark = desk.emu.mark(OWNER)
    await desk.feed(update)
    again = [m.content for m in desk.emu.new_messages(OWNER, mark)]
    assert again == first
    assert (await desk.press(OWNER, "Water supply"))[0].startswith("Please describe the problem")
    # An older update than the one last taken is simply ignored.
    mark = desk.emu.mark(OWNER)
    await desk.feed(update)
    assert desk.emu.new_messages(OWNER, mark) == []


async def test_a_redelivered_update_at_the_summary_or_the_change_list_asks_it_in_full(
    desk: Desk,
) -> None:
    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    await _home_repair_summary(desk)

    async def twice(update: dict[str, object]) -> tuple[list[str], list[list[str]]]:
        seen: list[tuple[str, list[str]]] = []
        for _ in range(2):
            mark = desk.emu.mark(OWNER)
            await desk.feed(update)
            new = desk.emu.new_messages(OWNER, mark)
            seen += [(m.content, [t for t, _ in desk.emu.buttons(m)]) for m in new]
        return [c for c, _ in seen], [b for _, b in seen]

    # the summary's Change button, delivered again: the list again, with its buttons
    press = desk.emu.press(OWNER, desk.with_button(OWNER, "Change an answer"), "Change an answer")
    texts, buttons = await twice(press)
    assert texts == ["Which answer would you like to change?"] * 2
    assert buttons[0] == buttons[1] and "Back to the summary" in buttons[1]
    # a question picked from it, delivered again: its current answer shown both times
    pick = desk.emu.press(OWNER, desk.with_button(OWNER, "Description"), "Description")
    texts, _ = await twice(pick)
    assert len(texts) == 2 and texts[0] == texts[1]
    assert "Current answer: The kitchen tap drips all night" in texts[1]
    # the answer that leads back to the summary, delivered again: still changeable
    answer = desk.emu.text_update(OWNER, "The tap under the kitchen sink drips")
    texts, buttons = await twice(answer)
    assert texts[0] == texts[1] and texts[1].startswith("Please check your request:")
    assert buttons[1] == ["Submit", "Cancel", "Change an answer"]
