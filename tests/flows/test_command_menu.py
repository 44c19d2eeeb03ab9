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
