"""PropDesk: the process side — settings, database, Telegram application, CLI."""

import os

# python-telegram-bot: RetryAfter.retry_after as a timedelta, without a deprecation warning.
os.environ.setdefault("PTB_TIMEDELTA", "1")
