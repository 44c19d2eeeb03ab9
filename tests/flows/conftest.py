from collections.abc import AsyncIterator

import pytest

from bot.clock import ManualClock
from tests.flows.harness import Desk


@pytest.fixture
async def desk(database_url: str, clock: ManualClock) -> AsyncIterator[Desk]:
    async with Desk(database_url, clock) as running:
        yield running


@pytest.fixture
def office(database_url: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI (`run_cli`) against the test's database, on the test's clock."""
    monkeypatch.setenv("PROPDESK_DATABASE_URL", database_url)
    monkeypatch.setattr("bot.cli.SystemClock", lambda: clock)
