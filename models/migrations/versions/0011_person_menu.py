"""person.menu: what the command menu last published to a person's chat was

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28

Roles given or taken with the CLI, a unit unlinked by the office, a release that changes the
menu: none of them happens in the person's chat. The bot compares what the person should see
with what was last published to them at their next update, and publishes it again when they
differ. Existing people start with none, so everyone gets the current menu once.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.add_column(sa.Column("menu", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("person") as batch:
        batch.drop_column("menu")
