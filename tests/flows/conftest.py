from collections.abc import AsyncIterator

import pytest

from bot.clock import ManualClock
from tests.flows.harness import Desk


@pytest.fixture
async def desk(database_url: str, clock: ManualClock) -> AsyncIterator[Desk]:
    async with Desk(database_url, clock) as running:
        yield running
