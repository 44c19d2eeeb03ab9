"""Binding, help, language and the general conversation rules, through the Telegram layer."""

import logging
from datetime import timedelta

import pytest
from sqlalchemy import select

from models.people import person_by_telegram
from models.property import UnitBinding, units_of
from tests.flows.harness import Desk

OWNER, OTHER, RECEPTIONIST = 1001, 1002, 2001


async def test_owner_binds_with_a_code_and_is_greeted_with_the_unit(desk: Desk) -> None:
    desk.emu.add_user(OWNER, "Li", "zh-hans")
    code = await desk.invite("1-2-301")
    replies = await desk.send(OWNER, f"/start {code}")
    assert "李伟，您好！您已成功绑定房屋 1-2-301。" in replies[0]
    assert "/repair — 报修" in replies[1]
    async with desk.session() as s:
        person = await person_by_telegram(s, OWNER)
        assert person is not None
        assert [u.code for u in await units_of(s, person)] == ["1-2-301"]
    # The person's own command menu is published in their language.
    menu = desk.emu.commands({"type": "chat", "chat_id": OWNER})
    assert [c["command"] for c in menu][:2] == ["repair", "complain"]
    assert menu[0]["description"] == "报修"


async def test_deep_link_start_in_english_greets_in_english(desk: Desk) -> None:
    desk.emu.add_user(OWNER, "Tom", "en-GB")
    code = await desk.invite("3-1-101")
    replies = await desk.send(OWNER, f"/start {code}")
    assert replies[0] == "Welcome, 李伟! You are now linked to unit 3-1-101."


async def test_used_expired_and_unknown_codes_are_refused_and_bind_nothing(desk: Desk) -> None:
    code = await desk.invite("1-2-301")
    desk.emu.add_user(OWNER, "Li")
    desk.emu.add_user(OTHER, "Zhao", "en")
    await desk.send(OWNER, f"/start {code}")
    assert await desk.send(OTHER, f"/start {code}") == [
        "This code has already been used. Please ask the property office for a new one."
    ]
    assert await desk.send(OTHER, "/start ABCDEFGHJK") == [
        "This code is not valid. Please check it, or ask the property office for a new one."
    ]
    assert await desk.send(OTHER, "/start not-a-code!") == [
        "This code is not valid. Please check it, or ask the property office for a new one."
    ]
    late = await desk.invite("1-2-302")
    desk.clock.advance(timedelta(days=31))
    assert await desk.send(OTHER, f"/start {late}") == [
        "This code has expired. Please ask the property office for a new one."
    ]
    async with desk.session() as s:
        other = await person_by_telegram(s, OTHER)
        assert other is not None
        assert await units_of(s, other) == []


async def test_repeated_wrong_codes_are_throttled_even_for_a_valid_code(desk: Desk) -> None:
    desk.emu.add_user(OTHER, "Guesser", "en")
    for attempt in range(5):
        await desk.send(OTHER, f"/start ABCDEFGH{attempt}K")
    good = await desk.invite("1-2-301")
    replies = await desk.send(OTHER, f"/start {good}")
    assert replies[0].startswith("Too many wrong codes. Please try again after")
    desk.clock.advance(timedelta(minutes=16))
    replies = await desk.send(OTHER, f"/start {good}")
    assert replies[0].startswith("Welcome")


async def test_start_without_a_code_explains_how_to_get_one(desk: Desk) -> None:
    desk.emu.add_user(OTHER, "New", "zh-hans")
    replies = await desk.send(OTHER, "/start")
    assert "验证码印在入住资料中" in replies[0] and "/start 验证码" in replies[0]


@pytest.mark.parametrize(
    "command", ["/repair", "/complain", "/vacancy", "/lost", "/my", "/phone 13912345678"]
)
async def test_unbound_user_cannot_use_owner_services(desk: Desk, command: str) -> None:
    desk.emu.add_user(OTHER, "New", "en")
    replies = await desk.send(OTHER, command)
    assert replies == [
        "You are not linked to a unit yet. Ask the property office for your one-time code, "
        "then send /start CODE."
    ]


async def test_staff_and_owner_see_different_help_and_owner_cannot_use_staff_commands(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang", lang="en")
    owner_help = (await desk.send(OWNER, "/help"))[0]
    staff_help = (await desk.send(RECEPTIONIST, "/help"))[0]
    assert "/repair" in owner_help and "/queue" not in owner_help
    assert "/queue" in staff_help and "/repair" not in staff_help
    assert await desk.send(OWNER, "/queue") == ["This command is for property staff only."]
    assert await desk.send(RECEPTIONIST, "/queue") == ["You have no open work."]


async def test_language_switch_changes_the_following_replies_and_is_remembered(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="zh-hans")
    assert (await desk.send(OWNER, "/cancel")) == ["当前没有正在填写的内容，无需取消。"]
    await desk.send(OWNER, "/language")
    replies = await desk.press(OWNER, "English")
    assert replies == ["Language: English"]
    assert desk.last_answer() == "Language: English"
    assert (await desk.send(OWNER, "/cancel")) == ["There is nothing to cancel."]
    menu = desk.emu.commands({"type": "chat", "chat_id": OWNER})
    assert menu[0]["description"] == "Report a repair (报修)"
    async with desk.session() as s:
        person = await person_by_telegram(s, OWNER)
        assert person is not None and person.locale == "en"


async def test_unknown_commands_and_stray_messages_get_a_helpful_reply(desk: Desk) -> None:
    await desk.owner(OWNER, lang="en")
    assert await desk.send(OWNER, "/frobnicate now") == [
        "I do not know the command /frobnicate. /help lists what you can do."
    ]
    assert await desk.send(OWNER, "hello?") == [
        "I did not understand that. /help lists what you can do."
    ]
    assert await desk.photo(OWNER) == [
        "Photos are taken as part of a request: start one, for example with /repair or "
        "/complain, and send them when it asks for photos."
    ]


async def test_group_chats_get_a_pointer_to_the_private_chat_and_nothing_else(desk: Desk) -> None:
    await desk.owner(OWNER, lang="en")
    desk.emu.add_group(-100500, "Building 1 owners")
    await desk.feed(desk.emu.text_update(OWNER, "/help", chat_id=-100500))
    await desk.feed(desk.emu.text_update(OWNER, "good morning", chat_id=-100500))
    assert desk.emu.texts(-100500) == ["请私聊本机器人办理。"]


async def test_unexpected_error_is_logged_with_an_id_the_user_is_given(
    desk: Desk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await desk.owner(OWNER, lang="en")

    typed = "ID 110101199003071234"  # as an error quoting its input would carry it

    async def broken(*_: object) -> list[object]:
        raise RuntimeError(typed)

    monkeypatch.setattr("handlers.tickets.tickets_of_owner", broken)
    with caplog.at_level(logging.ERROR):
        replies = await desk.send(OWNER, "/my")
    assert len(replies) == 1 and replies[0].startswith("Sorry, something went wrong")
    error_id = replies[0].split("(error ")[1].split(")")[0]
    logged = [r.getMessage() for r in caplog.records if error_id in r.getMessage()]
    assert len(logged) == 1 and "RuntimeError (message withheld)" in logged[0]
    assert "in broken" in logged[0]  # where it happened
    assert "110101199003071234" not in caplog.text  # what an exception says may be typed


async def test_staff_added_without_telegram_id_binds_with_a_code(desk: Desk) -> None:
    from models.invite import issue_staff_code
    from models.people import add_staff

    async with desk.rt.uow() as s:
        placeholder = await add_staff(
            s,
            name="张师傅",
            roles=["technician"],
            buildings=["1"],
            telegram_id=None,
            now=desk.clock.now(),
        )
        code = await issue_staff_code(s, placeholder, desk.clock.now(), 7)
    desk.emu.add_user(3001, "Zhang", "zh-hans")
    replies = await desk.send(3001, f"/start {code}")
    assert replies[0] == "张师傅，您好！您已登记为物业工作人员。"
    async with desk.session() as s:
        tech = await person_by_telegram(s, 3001)
        assert tech is not None and tech.has_role("technician", "1")  # type: ignore[arg-type]
        assert (await s.execute(select(UnitBinding))).first() is None


async def test_a_form_left_for_a_day_is_discarded_when_the_owner_writes_again(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/repair")
    desk.clock.advance(timedelta(hours=25))
    replies = await desk.send(OWNER, "hello")
    assert replies[0].startswith("Your unfinished repair request from ")
    assert replies[0].endswith(" was discarded.")
    assert replies[1] == "I did not understand that. /help lists what you can do."


async def test_role_specific_commands_appear_only_for_their_roles(desk: Desk) -> None:
    await desk.staff(3301, "supervisor", name="Sun", lang="en")
    await desk.staff(3401, "technician", name="Zhang", lang="en")
    supervisor_help = (await desk.send(3301, "/help"))[0]
    technician_help = (await desk.send(3401, "/help"))[0]
    assert "/weather_alert" in supervisor_help and "/cases" in supervisor_help
    assert "/weather_alert" not in technician_help and "/mark_unit" not in technician_help
    assert "/queue" in technician_help and "/found" in technician_help


async def test_a_tenant_gives_the_office_a_phone_number_and_an_owner_keeps_the_register(
    desk: Desk,
) -> None:
    # A tenant is not in the office's register: without /phone nobody could call them back.
    desk.emu.add_user(OTHER, "Chen Jing", "en")
    replies = await desk.send(OTHER, f"/start {await desk.invite('1-2-301', relation='tenant')}")
    assert replies[0] == "Welcome, Chen Jing! You are now linked to unit 1-2-301."
    assert replies[1] == (
        "The office has no phone number for you. So that the technician and the front desk "
        "can call you back, please send it like this: /phone 13912345678"
    )
    assert await desk.send(OTHER, "/phone call me at home") == [
        "“call me at home” is not a phone number. Please send a mobile number (11 digits) or "
        "a landline with its area code, like this: /phone 13912345678"
    ]
    assert await desk.send(OTHER, "/phone 1391234") == [
        "“1391234” is not a phone number. Please send a mobile number (11 digits) or a "
        "landline with its area code, like this: /phone 13912345678"
    ]
    async with desk.session() as s:
        person = await person_by_telegram(s, OTHER)
        assert person is not None and person.phone is None
    assert await desk.send(OTHER, "/phone +86 139-1234-5678") == [
        "Saved: the office will call you on 13912345678."
    ]
    assert await desk.send(OTHER, "/phone") == [
        "The office calls you on 13912345678.",
        "To change it, send: /phone 13912345678",
    ]
    async with desk.session() as s:
        person = await person_by_telegram(s, OTHER)
        assert person is not None and person.phone == "13912345678"
    # The registered owner is greeted without the request; staff call the register's number.
    desk.emu.add_user(OWNER, "Li", "en")
    greeting = await desk.send(OWNER, f"/start {await desk.invite('1-2-301')}")
    assert "/phone 13912345678" not in greeting[1]
    assert await desk.send(OWNER, "/phone 13700000000") == [
        "Saved: the office will call you on 13700000000.",
        "For unit 1-2-301 the office's register has 13800000000; staff call that number. To "
        "change it there, please tell the front desk.",
    ]


async def test_every_update_gets_one_log_line_and_an_edit_is_answered(
    desk: Desk, caplog: pytest.LogCaptureFixture
) -> None:
    await desk.owner(OWNER, lang="en")
    desk.emu.add_group(-100500, "Building 1 owners")
    await desk.send(OWNER, "/repair")
    desk.emu.add_user(OTHER, "Spammer", "en")
    updates = [
        desk.emu.text_update(OWNER, "The tap drips"),
        desk.emu.text_update(OWNER, "The kitchen tap drips", edited=True),
        desk.emu.text_update(OWNER, "/help", chat_id=-100500),
        desk.emu.text_update(OWNER, "good morning", chat_id=-100500),
    ] + [desk.emu.text_update(OTHER, f"spam {i}") for i in range(30)]
    mark = desk.emu.mark(OWNER)
    with caplog.at_level(logging.INFO, logger="propdesk.updates"):
        for update in updates:
            await desk.feed(update, pace=0)
    lines = [r.getMessage() for r in caplog.records if r.name == "propdesk.updates"]
    ids = [u["update_id"] for u in updates]
    assert sorted(int(line.split()[0].removeprefix("update=")) for line in lines) == ids
    assert any("outcome=flooded" in line for line in lines)
    assert any("handler=group_message outcome=ignored" in line for line in lines)
    # the edit is not taken as an answer to the form, and the owner is told why
    assert [m.content for m in desk.emu.new_messages(OWNER, mark)] == [
        "Please choose one of the buttons.",
        "🔧 New repair request. Where is the problem?\nSend /cancel to stop.",
        "I read new messages only, not edits, so nothing was changed. Please send the "
        "corrected text as a new message.",
    ]
    assert "The kitchen tap drips" not in caplog.text and "spam" not in caplog.text


async def test_an_owner_of_two_units_sees_them_listed_in_their_language(desk: Desk) -> None:
    # A half-width comma has no place in a Chinese sentence: lists follow the reader's language.
    await desk.owner(1001, "1-2-301")
    await desk.send(1001, f"/start {await desk.invite('1-2-302')}")
    assert (await desk.send(1001, "/my"))[0].startswith("您的房屋：1-2-301和1-2-302")
    await desk.send(1001, "/language")
    await desk.press(1001, "English")
    assert (await desk.send(1001, "/my"))[0].startswith("Your units: 1-2-301 and 1-2-302")
