"""deadline: the due index covers the claim's order (due_at, id)

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

The sweep claims due deadlines ORDER BY due_at, id LIMIT n. With an index on due_at alone,
every due deadline was read and sorted before the first n were taken; with (due_at, id) the
index gives the order and the scan stops at n (see models.deadline.Deadline).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = "fired_at IS NULL AND done_at IS NULL"


def _create(columns: list[str]) -> None:
    op.create_index(
        "ix_deadline_due_open",
        "deadline",
        columns,
        unique=False,
        sqlite_where=sa.text(OPEN),
        postgresql_where=sa.text(OPEN),
    )


def upgrade() -> None:
    op.drop_index("ix_deadline_due_open", table_name="deadline")
    _create(["due_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_deadline_due_open", table_name="deadline")
    _create(["due_at"])
