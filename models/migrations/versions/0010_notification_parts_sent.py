"""notification.parts_sent: how many parts of a row Telegram has already taken

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28

A row can be several Telegram messages (its photos, then a long text in pieces). Delivery
sends one part at a time and records each, so a failure part-way resumes with the next part
instead of sending the ones already delivered again, and every part keeps to Telegram's
per-chat and overall limits.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.add_column(
            sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade() -> None:
    with op.batch_alter_table("notification") as batch:
        batch.drop_column("parts_sent")
