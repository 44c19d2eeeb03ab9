"""The Telegram command menu and /help: each person is offered what they may use."""

from tests.flows.harness import Desk

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
