"""The sandbox page in Chinese, its command menus per chat and language, and escaped text."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.i18n import load_catalogs
from tests.browser.sandbox_process import SandboxProcess, sandbox_process
from tests.browser.test_sandbox_repair import bot_said, chat, press, type_and_send

pytestmark = pytest.mark.slow
ZH = load_catalogs()["zh_CN"]


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process(lang="zh_CN") as running:
        yield running


def test_the_page_and_the_bot_speak_chinese_and_menus_follow_each_persons_language(
    page: Any, sandbox: SandboxProcess, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox.url)  # no ?lang: the sandbox's --lang
    owner, desk = chat(page, "owner"), chat(page, "receptionist")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(page.locator("h1")).to_have_text("PropDesk 体验沙盒")
    expect(page.locator(".jump[data-minutes='1440']")).to_have_text("+1 天")
    expect(owner.locator(".persona-role")).to_have_text("业主 · 房号 1-2-301")
    expect(desk.locator(".persona-role")).to_have_text(ZH.gettext("receptionist") + " · 全部楼栋")
    expect(owner.locator("input.text")).to_have_attribute("placeholder", "输入消息")

    # Typing "/" offers this chat's commands, filtered as one types, in its language.
    box = owner.locator("input.text")
    box.fill("/")
    expect(owner.locator(".menu-item[data-command=repair] .menu-desc")).to_have_text(
        ZH.gettext("Report a repair (报修)")
    )
    box.fill("/rep")
    expect(owner.locator(".menu-item")).to_have_count(1)
    desk.locator(".menu-button").click()  # a receptionist's menu holds staff commands
    expect(desk.locator(".menu-item[data-command=queue]")).to_be_visible()
    expect(desk.locator(".menu-item[data-command=repair]")).to_have_count(0)
    page.screenshot(path=artifacts / "06-chinese-page-with-command-menus.png")
    desk.locator(".menu-button").click()
    box.press("Enter")  # sends "/rep": an unknown command, answered in Chinese
    box.fill("/repair")
    box.press("Enter")
    bot_said(owner, ZH.gettext("🔧 New repair request. Where is the problem?"))

    # /language → English: the toast, then the chat's own menu is republished in English.
    type_and_send(owner, "/cancel")
    type_and_send(owner, "/language")
    press(owner, "English")
    expect(owner.locator(".toast")).to_have_text("Language: English")
    owner.locator(".menu-button").click()
    expect(owner.locator(".menu-item[data-command=repair] .menu-desc")).to_have_text(
        "Report a repair (报修)"
    )
    owner.locator(".menu-button").click()

    # The page's own language can be switched; the people's chats stay as they are.
    page.locator("#langs a", has_text="English").click()
    expect(page.locator("h1")).to_have_text("PropDesk sandbox")
    expect(desk.locator(".persona-role")).to_have_text("receptionist · all buildings")
    bot_said(desk, ZH.gettext("What you can do:"))


def test_what_people_type_is_shown_as_text_never_as_markup(
    page: Any, sandbox: SandboxProcess, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox.url + "?lang=en")
    tech = chat(page, "technician")
    hostile = '<img src=x onerror="document.title=1"><b>bold</b> & "quotes"'
    type_and_send(tech, hostile)
    mine = tech.locator(".row.out .text").last
    expect(mine).to_contain_text(hostile)
    assert page.locator(".messages img:not(.photo)").count() == 0
    assert page.locator(".messages b").count() == 0
    assert page.title() == "PropDesk sandbox"
    bot_said(tech, "/help")  # the bot answered the stray text with a pointer to /help
    tech.screenshot(path=artifacts / "07-typed-markup-shown-as-text.png")
