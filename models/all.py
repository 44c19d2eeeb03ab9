"""Import every table module so the metadata is complete (Alembic, create_all)."""

from models import (
    deadline,
    draft,
    invite,
    notification,
    people,
    property,
    repair,
    repair_deadlines,
    system,
    ticket,
)
from models.base import Base

__all__ = [
    "Base",
    "deadline",
    "draft",
    "invite",
    "notification",
    "people",
    "property",
    "repair",
    "repair_deadlines",
    "system",
    "ticket",
]
