"""Apply Alembic migrations from code (at start, from `engagebot migrate`, and in tests)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import AsyncEngine

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def _upgrade(connection: Connection, revision: str, phone_region: str | None) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    cfg.attributes["phone_region"] = phone_region  # 0014 reads stored national numbers with it
    command.upgrade(cfg, revision)


async def upgrade(engine: AsyncEngine, revision: str = "heads", *, phone_region: str | None = None) -> None:
    async with engine.begin() as conn:
        await conn.run_sync(_upgrade, revision, phone_region)


def _revision(connection: Connection, message: str, rev_id: str) -> None:
    cfg = alembic_config()
    cfg.attributes["connection"] = connection
    command.revision(cfg, message=message, autogenerate=True, rev_id=rev_id)


async def autogenerate(engine: AsyncEngine, message: str, rev_id: str) -> None:
    """Developer tool: write a new revision from the models' difference with the database."""
    async with engine.begin() as conn:
        await conn.run_sync(_revision, message, rev_id)
