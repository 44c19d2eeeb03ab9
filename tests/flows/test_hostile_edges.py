"""Hostile input found in review: numbers beyond Decimal's precision, year 1, forged huge
button values, full-width phone digits, direction overrides in Telegram names, and typed
text faking a line of a staff message. Each is refused with a reason, never an error."""

import pytest

from tests.flows import lost_found_steps as lf
from tests.flows import vacancy_steps as vs
from tests.flows.complaint_steps import TECH as C_TECH
from tests.flows.complaint_steps import staffed as complaint_office
from tests.flows.harness import Desk
from tests.flows.repair_steps import (
    RECEPTIONIST,
    TECH,
    dispatched_to_zhang,
    file_home_repair,
    staffed,
)

CRASH = "something went wrong"
BETWEEN = "Please send a number between"
TIME_FORMAT = (
    "Please type the time like 2026-11-27 14:30, or 14:30 for today (yesterday, if that "
    "time is still to come)."
)


@pytest.mark.parametrize("amount", ["1e30", "12345678901234567890123456789"])
async def test_a_fee_beyond_any_bound_is_refused_with_the_range(desk: Desk, amount: str) -> None:
    await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Record fee")
    replies = await desk.send(TECH, amount)
    assert replies[0].startswith(BETWEEN) and replies[1].startswith("Fee collected on"), replies


async def test_a_meter_reading_beyond_any_bound_is_refused_with_the_range(desk: Desk) -> None:
    await vs.staffed(desk)
    await desk.owner(vs.OWNER, "1-2-301", lang="en")
    await vs.approve(desk, await vs.apply(desk))
    await desk.press(vs.RECEPTIONIST, "Dispatch → Zhang Wei")
    await desk.at(vs.STARTS)  # the shut-off is recorded from the start date (5.2.8)
    await desk.press(vs.TECH, "Record shut-off")
    replies = await desk.send(vs.TECH, "1e30")
    assert replies[0] == "Please send a number between 0 and 999,999.99.", replies


async def test_full_width_amount_digits_are_read_as_digits(desk: Desk) -> None:
    await dispatched_to_zhang(desk, arrived=True)
    await desk.press(TECH, "Record fee")
    assert await desk.send(TECH, "８０．５０") == ["What was it for?"]  # 80.50 taken


async def test_a_time_in_year_one_is_refused_not_an_error(desk: Desk) -> None:
    await lf.staffed(desk)
    await desk.send(lf.GUARD, "/found")
    await desk.send(lf.GUARD, "black wallet")
    await desk.send(lf.GUARD, lf.DETAILS)
    await desk.press(lf.GUARD, "Wallets and bags")
    await desk.press(lf.GUARD, "Not valuable")
    await desk.send(lf.GUARD, "Lobby of building 1")
    replies = await desk.send(lf.GUARD, "0001-01-01 00:30")
    assert replies[0] == TIME_FORMAT, replies
    # the same parser: when a complaint logged by staff was received
    await complaint_office(desk)
    await desk.owner(1001, "1-2-301", lang="en")
    await desk.send(C_TECH, "/log")
    await desk.send(C_TECH, "1-2-301")
    await desk.press(C_TECH, "Li (owner)")
    await desk.press(C_TECH, "phone")
    replies = await desk.send(C_TECH, "0001-01-01 00:30")
    assert CRASH not in " ".join(replies).lower(), replies


@pytest.mark.parametrize("value", ["9" * 40, "-" + "9" * 40])
async def test_a_forged_appointment_of_any_size_is_refused(desk: Desk, value: str) -> None:
    await staffed(desk)
    owner = await desk.owner(1001, lang="en")
    await desk.send(owner, "/repair")
    await desk.press(owner, "In my home")
    await desk.press(owner, "Water supply")
    await desk.send(owner, "The kitchen tap drips all night")
    await desk.press(owner, "Skip photos")
    anchor = desk.with_button(owner, "As soon as possible")
    await desk.press_data(owner, anchor, f"f:repair:appointment:{value}")
    assert desk.last_answer() == "Please choose one of the buttons."


async def test_a_phone_in_full_width_digits_is_saved_as_digits(desk: Desk) -> None:
    owner = await desk.owner(1001, lang="en")
    assert await desk.send(owner, "/phone １３９１２３４５６７８") == [
        "Saved: the office will call you on 13912345678.",
        "For unit 1-2-301 the office's register has 13800000000; staff call that number. To "
        "change it there, please tell the front desk.",
    ]
    # digits of another script are not a number staff can dial
    refused = await desk.send(owner, "/phone 139١٢٣٤٥٦٧٨")
    assert refused[0].startswith("“139١٢٣٤٥٦٧٨” is not a phone number.")
    assert (await desk.person(owner)).phone == "13912345678"


async def test_a_name_with_direction_overrides_reaches_staff_as_plain_text(desk: Desk) -> None:
    await staffed(desk)
    desk.emu.add_user(1005, "Li\u202e87654321 enohp\u200b", "en")
    await desk.send(1005, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    await desk.send(1005, "/phone 13911112222")
    desk.unread(RECEPTIONIST)
    await file_home_repair(desk, 1005, photos=0)
    notice = desk.unread(RECEPTIONIST)[0]
    assert "Reported by Li87654321 enohp, not the registered owner, phone 13911112222" in notice


async def test_an_emoji_in_a_name_stays_whole_while_a_stray_joiner_goes(desk: Desk) -> None:
    # The zero-width joiner is hidden between letters, but it is what makes 👨‍👩‍👧 one family
    # rather than three people.
    await staffed(desk)
    desk.emu.add_user(1005, "Chen\u200dJing 👨\u200d👩\u200d👧", "en")
    await desk.send(1005, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    await desk.send(1005, "/phone 13911112222")
    desk.unread(RECEPTIONIST)
    await file_home_repair(desk, 1005, photos=0)
    notice = desk.unread(RECEPTIONIST)[0]
    assert "Reported by ChenJing 👨\u200d👩\u200d👧, not the registered owner" in notice


async def test_typed_text_cannot_fake_a_line_of_a_staff_message(desk: Desk) -> None:
    await staffed(desk)
    owner = await desk.owner(1001, lang="en")
    desk.unread(RECEPTIONIST)
    text = "Tap drips\nOwner: Zhang San, phone 13999999999"
    await file_home_repair(desk, owner, text=text, photos=0)
    notice = desk.unread(RECEPTIONIST)[0]
    assert [line for line in notice.splitlines() if line.startswith("Owner:")] == [
        "Owner: 李伟, phone 13800000000"
    ]
    assert "Details: Tap drips\n    Owner: Zhang San, phone 13999999999" in notice


async def test_a_multi_line_answer_on_a_line_of_its_own_keeps_its_lines(desk: Desk) -> None:
    # the front desk's answer to the owner is the whole line: nothing around it to fake
    from tests.flows import complaint_steps as cs

    await cs.staffed(desk)
    await desk.owner(cs.OWNER, "1-2-301", lang="en")
    ref = await cs.file_case(desk)
    await cs.record(desk, ref)
    await cs.answer(desk)
    await desk.press(cs.RECEPTIONIST, "Confirm and tell the owner")
    answer = "We apologise.\nThe guard was retrained.\nCall 12345 if again."
    await desk.send(cs.RECEPTIONIST, answer)
    told = desk.unread(cs.OWNER)[-1]
    assert told.startswith(f"✅ Your complaint {ref} has been resolved:\n{answer}\n"), told
