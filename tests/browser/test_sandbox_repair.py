"""A repair from start to follow-up, clicked and typed in the sandbox page in real Chromium.

Owner files it (menu, buttons, typed description, an uploaded photo); the receptionist is
reminded when the clock jumps 30 minutes and dispatches it (toast, edited message); the
technician accepts, arrives and finishes; the owner confirms and rates; three days later the
supervisor is told the follow-up call is overdue. Screenshots: artifacts/sandbox/.
"""

from __future__ import annotations

import re
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.sandbox_process import SandboxProcess, sandbox_process

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def sandbox() -> Iterator[SandboxProcess]:
    with sandbox_process(lang="en") as running:
        yield running


def png(width: int = 64, height: int = 48) -> bytes:
    """A small real PNG (a blue-grey gradient) made here, so the test needs no files."""
    rows = b"".join(
        b"\x00" + bytes(v for x in range(width) for v in (40 + x * 2, 90 + y * 2, 160))
        for y in range(height)
    )

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def chat(page: Any, persona: str) -> Any:
    return page.locator(f".chat[data-persona={persona}]")


def bot_said(window: Any, text: str) -> Any:
    """The latest bot message containing text (waits for it)."""
    found = window.locator(".row.in .bubble", has_text=text).last
    found.wait_for()
    return found


def press(window: Any, label: str) -> None:
    """Press the newest inline button whose label contains `label`."""
    window.locator(".kb-btn", has_text=label).last.click()


def type_and_send(window: Any, text: str) -> None:
    box = window.locator("input.text")
    box.fill(text)
    box.press("Enter")


def jump(page: Any, minutes: int) -> None:
    """Press a clock button and wait until the office time shown has changed."""
    label = page.locator("#clock-label")
    before = label.inner_text()
    page.locator(f".jump[data-minutes='{minutes}']").click()
    page.wait_for_function(
        "before => document.getElementById('clock-label').textContent !== before", arg=before
    )


def test_a_repair_round_trip_in_the_browser_with_reminders(
    page: Any, sandbox: SandboxProcess, artifacts: Path
) -> None:
    from playwright.sync_api import expect

    page.goto(sandbox.url + "?lang=en")
    owner, desk, tech = chat(page, "owner"), chat(page, "receptionist"), chat(page, "technician")
    supervisor = chat(page, "supervisor")
    expect(page.locator(".chat")).to_have_count(8)
    expect(owner.locator(".persona-role")).to_have_text("owner · unit 1-2-301")
    bot_said(owner, "You are now linked to unit 1-2-301")

    # Owner: /repair from the command menu (published for this chat, in English).
    owner.locator(".menu-button").click()
    expect(owner.locator(".menu-item[data-command=repair]")).to_contain_text("Report a repair")
    owner.locator(".menu-item[data-command=repair]").click()
    bot_said(owner, "New repair request. Where is the problem?")
    press(owner, "In my home")
    press(owner, "Water supply")
    bot_said(owner, "Please describe the problem")
    type_and_send(owner, "t")  # too short: the bot explains, the form waits
    bot_said(owner, "That is too short")
    type_and_send(owner, "The kitchen tap drips all night")
    expect(owner.locator(".row.out .bubble", has_text="The kitchen tap drips")).to_be_visible()
    owner.locator("input.file").set_input_files(
        files=[{"name": "tap.png", "mimeType": "image/png", "buffer": png()}]
    )
    photo = owner.locator(".row.out img.photo")
    expect(photo).to_be_visible()
    assert photo.evaluate("img => img.naturalWidth") == 64  # the upload really is shown
    owner.screenshot(path=artifacts / "00-owner-sent-a-photo.png")
    press(owner, "Done with photos")
    press(owner, "As soon as possible")
    bot_said(owner, "Details: The kitchen tap drips all night")
    press(owner, "Submit")
    filed = bot_said(owner, "Your repair request has been filed").inner_text()
    match = re.search(r"R-\d{8}-\d{3}", filed)
    assert match, filed
    ref = match.group(0)
    page.screenshot(path=artifacts / "01-owner-filed-a-repair.png")

    # Receptionist: told at once; reminded after 30 minutes of the clock.
    bot_said(desk, f"New repair: {ref}")
    jump(page, 15)
    jump(page, 15)
    bot_said(desk, f"⏰ {ref} has been waiting for dispatch for 30 minutes.")
    page.screenshot(path=artifacts / "02-receptionist-reminded-after-30-minutes.png")
    press(desk, "Dispatch → Zhang Wei")
    expect(desk.locator(".toast")).to_have_text(f"{ref} dispatched to Zhang Wei.")
    # The pressed message was edited: its buttons are gone and it says so.
    reminder = desk.locator(".item", has_text=f"⏰ {ref} has been waiting").last
    expect(reminder.locator(".meta")).to_contain_text("edited")
    expect(reminder.locator(".kb-btn")).to_have_count(0)
    page.screenshot(path=artifacts / "03-receptionist-dispatched-toast.png")

    # Technician: the work order, then accept, arrive, done.
    bot_said(tech, f"Work order (维修单) {ref} — assigned to you")
    press(tech, "Accept")
    press(tech, "Arrived")
    bot_said(owner, f"The technician has arrived for {ref}.")
    press(tech, "Done")

    # Owner: confirms and rates; the technician hears the rating, the desk gets the 回访.
    bot_said(owner, f"Repair {ref} is done.")
    press(owner, "Confirm and rate")
    press(owner, "★★★★★")
    bot_said(tech, f"{ref} was confirmed with a rating of 5/5.")
    bot_said(desk, f"Follow-up call (回访) for {ref}")
    page.screenshot(path=artifacts / "04-owner-rated-follow-up-for-receptionist.png")
    # The done message keeps its buttons (as in Telegram); pressing again is refused in an alert.
    press(owner, "Confirm and rate")
    expect(owner.locator(".alert")).to_be_visible()
    expect(owner.locator(".alert-text")).to_contain_text(ref)
    page.screenshot(path=artifacts / "04b-owner-pressed-again-refused-alert.png")
    owner.locator(".alert-ok").click()
    expect(owner.locator(".alert")).to_be_hidden()

    # Nobody makes the follow-up call: three days later the supervisor is told.
    for _ in range(3):
        jump(page, 24 * 60)
    bot_said(supervisor, f"🚨 The follow-up call (回访) for {ref} is overdue.")
    page.screenshot(path=artifacts / "05-supervisor-told-follow-up-overdue.png")
