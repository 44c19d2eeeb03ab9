"""Telegram handlers: read the update, call one domain operation, reply. No SQL, no rules."""
