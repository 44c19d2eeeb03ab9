"""complaint.received_at: when the person who heard a complaint received it (seed 4.2.3)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27

Whoever receives a complaint by letter, phone or e-mail passes it to the front desk within
one hour (4.2.3). The time it was received is kept with the case, so the record shows when a
case was passed on late. Nullable: cases filed before it, and cases filed in the bot (received
when filed), have none.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import models.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(
            sa.Column("received_at", models.base.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("received_at")
