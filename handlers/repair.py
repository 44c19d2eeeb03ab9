"""Repair requests (报修): the owner's form and the staff buttons."""

from __future__ import annotations

from handlers import common
from handlers.base import TgCallback as Callback

COMMANDS: dict[str, Callback] = {"repair": common.owner_service_not_ready}
BUTTONS: dict[str, Callback] = {}
