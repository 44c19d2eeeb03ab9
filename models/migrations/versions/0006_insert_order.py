"""insert_order columns: multi-row INSERTs on SQLite for notifications, events, deadlines

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

SQLAlchemy fills `insert_order` with each row's position within a multi-row INSERT, which
lets it match the ids SQLite returns to the rows it sent (see `models.base.insert_order`).
The column carries no meaning of its own and is nullable: rows written before it have NULL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("notification", "ticket_event", "deadline")


def upgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("insert_order", sa.Integer(), nullable=True))


def downgrade() -> None:
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("insert_order")
