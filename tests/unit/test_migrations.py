"""The migrations build exactly the schema the models describe, and step back down cleanly.

A column added to a model without a migration would work in tests that create tables from the
models and fail on the office's database; this compares the migrated database with the models.
"""

from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

import models.all  # noqa: F401  (every table)
from bot.db import alembic_config, head_revision, make_engine
from models.base import Base


def _differences(conn: Connection) -> list[Any]:
    context = MigrationContext.configure(conn, opts={"compare_type": False})
    return list(compare_metadata(context, Base.metadata))


async def test_migrated_schema_matches_the_models(database_url: str) -> None:
    engine = make_engine(database_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_differences)
    finally:
        await engine.dispose()
    assert diff == []


def test_the_newest_migration_can_be_undone_and_redone(database_url: str) -> None:
    cfg = alembic_config(database_url)
    command.downgrade(cfg, "-1")
    command.upgrade(cfg, "head")
    assert head_revision() == "0011"
