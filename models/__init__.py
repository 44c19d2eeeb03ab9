"""PropDesk domain: tables and the operations on them. No Telegram imports here."""
