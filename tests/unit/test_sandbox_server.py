"""The sandbox page's server: shipped assets only, the page's words, and its guards."""

from __future__ import annotations

import re
from importlib import resources

from babel.messages.pofile import read_po

from bot.i18n import LOCALES_DIR
from bot.sandbox.strings import PAGE_STRINGS
from tests.unit.sandbox_helpers import (
    HEADERS,
    OWNER,
    Page,
    page_fixture,  # noqa: F401
    sandbox_db_fixture,  # noqa: F401
)

STATIC = resources.files("bot.sandbox").joinpath("static")


async def test_the_page_and_its_assets_are_served_with_a_strict_policy(page: Page) -> None:
    index = await page.http.get("/")
    assert index.status_code == 200 and index.headers["content-type"].startswith("text/html")
    assert '<script src="/static/app.js"' in index.text
    policy = index.headers["content-security-policy"]
    assert "default-src 'self'" in policy and "script-src 'self'" in policy
    for name, kind in (("app.js", "text/javascript"), ("style.css", "text/css")):
        asset = await page.http.get(f"/static/{name}")
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
    for path in ("/static/../api.py", "/static/%2e%2e/api.py", "/static/runner.py",
                 "/static/.hidden.js", "/static/", "/api/nothing", "/etc/passwd"):  # fmt: skip
        assert (await page.http.get(path)).status_code == 404, path


async def test_posts_need_the_sandbox_header_and_hosts_must_be_this_machine(page: Page) -> None:
    body = {"text": "/my"}
    refused = await page.http.post(f"/api/chats/{OWNER}/text", json=body)
    assert refused.status_code == 403
    rebound = await page.http.get("/api/state", headers={"Host": "evil.example:8080"})
    assert rebound.status_code == 403
    for host in ("localhost:1", "127.0.0.1"):
        assert (await page.http.get("/", headers={"Host": host})).status_code == 200
    assert page.sb.emu.pending_updates() == []
    assert len([m for m in (await page.chat(OWNER))["messages"] if m["out"]]) == 1  # /start


async def test_bad_requests_are_refused_without_reaching_the_bot(page: Page) -> None:
    chats = "/api/chats"
    for path, body, status in (
        (f"{chats}/{OWNER}/text", {"text": "   "}, 400),
        (f"{chats}/{OWNER}/text", {"text": "x" * 4097}, 400),
        (f"{chats}/{OWNER}/text", {"text": 5}, 400),
        (f"{chats}/{OWNER}/text", [1], 400),
        (f"{chats}/424242/text", {"text": "hi"}, 404),
        (f"{chats}/{OWNER}/delete", {}, 404),
        (f"{chats}/{OWNER}", {}, 404),
    ):
        response = await page.http.post(path, json=body, headers=HEADERS)
        assert response.status_code == status, (path, body, response.text)
        assert "error" in response.json()
    garbled = await page.http.post(f"{chats}/{OWNER}/text", content=b"{", headers=HEADERS)
    assert garbled.status_code == 400
    assert (await page.http.get("/api/state", params={"since": "x"})).status_code == 400
    assert (await page.http.put("/api/clock", headers=HEADERS)).status_code == 405
    assert page.sb.emu.pending_updates() == []


async def test_the_page_gets_its_words_in_either_language(page: Page) -> None:
    zh = (await page.http.get("/api/strings", params={"lang": "zh_CN"})).json()
    en = (await page.http.get("/api/strings", params={"lang": "en"})).json()
    fallback = (await page.http.get("/api/strings", params={"lang": "fr"})).json()
    assert zh["locale"] == "zh_CN" and en["locale"] == "en" and fallback["locale"] == "en"
    assert zh["languages"] == {"zh_CN": "中文", "en": "English"}
    for msgid in PAGE_STRINGS:
        assert en["strings"][msgid] == msgid
        assert zh["strings"][msgid] and zh["strings"][msgid] != msgid, msgid
    assert zh["strings"]["technician"] != "technician"  # role names come from the bot's catalog


def test_every_word_the_page_script_asks_for_is_a_page_string() -> None:
    script = STATIC.joinpath("app.js").read_text("utf-8")
    html = STATIC.joinpath("index.html").read_text("utf-8")
    asked = set(re.findall(r'\bt\("([^"]+)"', script))
    asked |= set(re.findall(r'data-t(?:-title|-placeholder|-label)?="([^"]+)"', html))
    assert asked and asked <= set(PAGE_STRINGS)
    with open(LOCALES_DIR / "zh_CN" / "LC_MESSAGES" / "messages.po", "rb") as fh:
        catalog = {m.id: m.string for m in read_po(fh) if m.id}
    assert all(catalog.get(msgid) for msgid in PAGE_STRINGS)


def test_the_page_never_parses_text_as_html_and_loads_nothing_from_elsewhere() -> None:
    for name in ("app.js", "index.html", "style.css"):
        text = STATIC.joinpath(name).read_text("utf-8")
        for risky in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval("):
            assert risky not in text, (name, risky)
        assert not re.search(r"(?:src|href)=[\"']?(?:https?:)?//", text), name
        assert "@import" not in text and "url(http" not in text, name
