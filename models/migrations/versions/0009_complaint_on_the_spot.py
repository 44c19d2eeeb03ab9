"""complaint.on_the_spot: a face-to-face complaint resolved there and then (seed 4.2.1)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27

What the person who heard it did, when they resolved it on the spot. The front desk still
records and classifies the case, but no work-contact order goes out: the case waits for the
front desk to confirm the result and tell the owner.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.add_column(sa.Column("on_the_spot", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("complaint") as batch:
        batch.drop_column("on_the_spot")
