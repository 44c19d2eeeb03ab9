"""Browser tests: Debian's Chromium (/usr/bin/chromium) driven by Playwright for Python.

Playwright talks to the browser over its DevTools protocol, so Debian's own Chromium build is
used as it is (`executable_path`; `playwright install` is never run and downloads nothing);
its locators wait for the page by themselves, so no test sleeps. Without Chromium or Playwright
the tests are skipped with the reason shown (`pytest -ra`); `.ci/run` installs Chromium.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.sandbox_process import ARTIFACTS

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--no-first-run",
]  # fmt: skip
VIEWPORT = {"width": 1600, "height": 1000}


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is not installed (apt-get install chromium; .ci/run does it)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module: Playwright's sync API keeps an event loop running in this
    thread while it is open, which async tests run after it could not start their own."""
    reason = _missing()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh tab; any JavaScript error or failed request on it fails the test."""
    context = browser.new_context(viewport=VIEWPORT, locale="en-GB")
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console", lambda m: problems.append(f"console: {m.text}") if m.type == "error" else None
    )
    tab.set_default_timeout(15_000)
    yield tab
    context.close()
    assert problems == []


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots go to artifacts/sandbox/ (git-ignored), fresh each run."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS
