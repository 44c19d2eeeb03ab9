"""The Telegram command menu and /help: each person is offered what they may use."""

from bot.clock import ManualClock
from tests.conftest import sql_log
from tests.flows.harness import Desk, run_cli
from tests.flows.repair_steps import file_home_repair

OWNER, NEWCOMER, RECEPTIONIST = 1001, 1002, 2001


def names(menu: list[dict[str, str]]) -> list[str]:
    return [c["command"] for c in menu]


async def test_the_default_menu_is_a_newcomers_and_lists_each_command_once(desk: Desk) -> None:
    for language_code, link in (("", "绑定"), ("zh", "绑定"), ("en", "Link your unit")):
        menu = desk.emu.commands({"type": "default"}, language_code)
        assert names(menu) == ["start", "language", "help"], language_code
        assert link in menu[0]["description"]
    # Someone who linked a unit still gets the owners' menu, in their chat.
    await desk.owner(OWNER, lang="en")
    own = names(desk.emu.commands({"type": "chat", "chat_id": OWNER}))
    assert own[:2] == ["repair", "complain"] and len(own) == len(set(own))
    assert "start" not in own


async def test_the_daily_report_is_offered_only_to_the_roles_that_may_ask_for_it(
    desk: Desk,
) -> None:
    for tg_id, role in ((3001, "technician"), (3002, "cashier"), (3003, "team_lead")):
        await desk.staff(tg_id, role, name=role, lang="en")
        assert "/report" not in (await desk.send(tg_id, "/help"))[0], role
        assert await desk.send(tg_id, "/report") == ["You are not allowed to do this."]
    for tg_id, role in ((3101, "receptionist"), (3102, "service"), (3103, "supervisor")):
        await desk.staff(tg_id, role, name=role, lang="en")
        assert "/report — Daily report" in (await desk.send(tg_id, "/help"))[0], role
        assert (await desk.send(tg_id, "/report"))[0].startswith("📊 Daily report")


async def test_owners_are_offered_ticket_for_their_own_requests_and_staff_owners_once(
    desk: Desk,
) -> None:
    await desk.owner(OWNER, lang="en")
    help_text = (await desk.send(OWNER, "/help"))[0]
    assert "/ticket — One of your requests, by its number: /ticket R-20261127-001" in help_text
    menu = desk.emu.commands({"type": "chat", "chat_id": OWNER})
    assert "ticket" in names(menu)
    assert await desk.send(OWNER, "/ticket R-20261127-001") == [
        "No ticket R-20261127-001 was found among yours."
    ]
    # A receptionist who also owns a flat: /ticket once, as staff use it.
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang", lang="en")
    await desk.send(RECEPTIONIST, f"/start {await desk.invite('1-2-302')}")
    help_text = (await desk.send(RECEPTIONIST, "/help"))[0]
    assert help_text.count("/ticket —") == 1
    assert "/ticket — Show a ticket: /ticket R-20261127-001" in help_text
    assert "/repair —" in help_text and "/queue —" in help_text
    menu = desk.emu.commands({"type": "chat", "chat_id": RECEPTIONIST})
    assert names(menu).count("ticket") == 1 and len(names(menu)) == len(set(names(menu)))


async def test_a_pasted_reference_shows_the_ticket_as_ticket_does_to_whoever_may_see_it(
    desk: Desk,
) -> None:
    from tests.flows.repair_steps import OWNER2, staffed
    from tests.flows.repair_steps import RECEPTIONIST as DESK_CLERK

    await staffed(desk)
    await desk.owner(OWNER, lang="en")
    ref = await file_home_repair(desk, photos=0)
    pasted = await desk.send(OWNER, f"  {ref.lower()} ")
    assert pasted == await desk.send(OWNER, f"/ticket {ref}")
    assert pasted[0].startswith(f"Repair {ref} — ")
    assert (await desk.send(DESK_CLERK, ref)) == await desk.send(DESK_CLERK, f"/ticket {ref}")
    # Another owner learns nothing of it: the same answer as for a ticket that does not exist.
    await desk.owner(OWNER2, "1-2-302", lang="en")
    assert await desk.send(OWNER2, ref) == [f"No ticket {ref} was found among yours."]
    assert await desk.send(OWNER2, "R-20261127-999") == [
        "No ticket R-20261127-999 was found among yours."
    ]


async def test_a_stray_photo_or_sticker_is_answered_with_what_works(desk: Desk) -> None:
    await desk.owner(OWNER, lang="en")
    assert await desk.photo(OWNER) == [
        "Photos are taken as part of a request: start one, for example with /repair or "
        "/complain, and send them when it asks for photos."
    ]
    sticker = desk.emu.text_update(OWNER, "-")
    del sticker["message"]["text"]
    sticker["message"]["sticker"] = {
        "file_id": "sticker-1", "file_unique_id": "s1", "width": 512, "height": 512,
        "is_animated": False, "is_video": False, "type": "regular",
    }  # fmt: skip
    voice = desk.emu.text_update(OWNER, "-")
    del voice["message"]["text"]
    voice["message"]["voice"] = {"file_id": "voice-1", "file_unique_id": "v1", "duration": 3}
    for update in (sticker, voice):
        mark = desk.emu.mark(OWNER)
        await desk.feed(update)
        assert [m.content for m in desk.emu.new_messages(OWNER, mark)] == [
            "I can read only text messages and button presses. /help lists what you can do."
        ]
    # Inside a request, a photo is still its answer.
    await desk.send(OWNER, "/repair")
    await desk.press(OWNER, "In my home")
    await desk.press(OWNER, "Water supply")
    await desk.send(OWNER, "The kitchen tap drips")
    assert (await desk.photo(OWNER))[0].startswith("You can send up to 5 photos")


async def test_a_staff_members_menu_follows_the_roles_the_office_gives_and_takes(
    database_url: str, clock: ManualClock, office: None
) -> None:
    # Added while the bot is down: the menu comes with their first message.
    add = ("staff", "add", "--telegram-id", "3001", "--name", "Zhang Wei")
    assert await run_cli(*add, "--role", "technician") == 0
    async with Desk(database_url, clock) as desk:
        desk.emu.add_user(3001, "Zhang", "en")
        assert (await desk.send(3001, "/start"))[0] == "Welcome back, Zhang Wei."
        menu = names(desk.emu.commands({"type": "chat", "chat_id": 3001}))
        assert "queue" in menu and "report" not in menu and "start" not in menu

        assert await run_cli(*add, "--role", "supervisor") == 0
        await desk.send(3001, "/queue")
        menu = names(desk.emu.commands({"type": "chat", "chat_id": 3001}))
        assert "report" in menu and "weather_alert" in menu

        assert await run_cli("staff", "remove", "--telegram-id", "3001") == 0
        await desk.deliver()
        await desk.send(3001, "hello")
        assert names(desk.emu.commands({"type": "chat", "chat_id": 3001})) == [
            "start", "language", "help",
        ]  # fmt: skip


async def test_an_owner_whose_link_the_office_ends_gets_a_newcomers_menu(
    database_url: str, clock: ManualClock, office: None
) -> None:
    async with Desk(database_url, clock) as desk:
        await desk.owner(OWNER, lang="en")
        assert "repair" in names(desk.emu.commands({"type": "chat", "chat_id": OWNER}))
        assert await run_cli("units", "unbind", "--unit", "1-2-301") == 0
        await desk.deliver()
        await desk.send(OWNER, "/help")
        assert names(desk.emu.commands({"type": "chat", "chat_id": OWNER})) == [
            "start", "language", "help",
        ]  # fmt: skip


async def test_a_menu_telegram_refused_is_published_at_the_next_message(desk: Desk) -> None:
    await desk.staff(RECEPTIONIST, "receptionist", name="Wang", lang="en")
    desk.emu.fail("setMyCommands", status=500)
    assert await desk.send(RECEPTIONIST, "/help")  # answered all the same
    assert desk.emu.commands({"type": "chat", "chat_id": RECEPTIONIST}) == []
    await desk.send(RECEPTIONIST, "/queue")
    assert "queue" in names(desk.emu.commands({"type": "chat", "chat_id": RECEPTIONIST}))
    # Published once it is taken: not again while nothing changes.
    published = len(desk.emu.calls("setMyCommands"))
    assert published > 0
    await desk.send(RECEPTIONIST, "/queue")
    assert len(desk.emu.calls("setMyCommands")) == published


async def test_checking_the_menu_costs_no_statement_of_its_own(desk: Desk) -> None:
    # Whether the person is linked to a unit comes with the person's own row; the update's
    # statements are what the handler needs and nothing for the menu.
    await desk.owner(OWNER, lang="en")
    await desk.send(OWNER, "/help")  # (the menu published after linking is recorded)
    statements = sql_log(desk.rt.sessions)
    assert "What you can do:" in (await desk.send(OWNER, "/help"))[0]
    alone = [
        q for q in statements if q.lstrip().startswith("SELECT EXISTS") and "FROM person" not in q
    ]
    assert not alone, alone
    assert sum("FROM person" in q for q in statements) == 1, statements
    assert "repair" in names(desk.emu.commands({"type": "chat", "chat_id": OWNER}))


async def test_linking_a_unit_gives_the_owners_menu_with_the_reply_to_the_code(desk: Desk) -> None:
    desk.emu.add_user(NEWCOMER, "Zhao", "en")
    await desk.send(NEWCOMER, "/help")
    assert names(desk.emu.commands({"type": "chat", "chat_id": NEWCOMER})) == [
        "start", "language", "help",
    ]  # fmt: skip
    code = await desk.invite("1-2-302")
    assert "1-2-302" in (await desk.send(NEWCOMER, f"/start {code}"))[0]
    own = names(desk.emu.commands({"type": "chat", "chat_id": NEWCOMER}))
    assert own[:2] == ["repair", "complain"] and "start" not in own


async def test_recording_a_replaced_meter_is_offered_to_service_officers_and_supervisors(
    desk: Desk,
) -> None:
    for tg_id, role, offered in (
        (3201, "service", True), (3202, "supervisor", True), (3203, "technician", False),
    ):  # fmt: skip
        await desk.staff(tg_id, role, name=role, lang="en")
        help_text = (await desk.send(tg_id, "/help"))[0]
        assert ("/meter_replaced — Record a replaced" in help_text) is offered, role
        menu = names(desk.emu.commands({"type": "chat", "chat_id": tg_id}))
        assert ("meter_replaced" in menu) is offered, role
