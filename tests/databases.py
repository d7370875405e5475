"""Test databases: a fresh SQLite file, or a fresh PostgreSQL database cloned from a migrated template."""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.core import db

POSTGRES_URL = os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", "")
REQUIRE_POSTGRES = os.environ.get("ENGAGEBOT_REQUIRE_POSTGRES") == "1"
# One template per test run, so parallel runs (and branches with other migrations) never collide.
TEMPLATE = f"engagebot_tpl_{os.getpid()}"

_template_ready = False


def postgres_or_skip() -> str:
    if not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("ENGAGEBOT_REQUIRE_POSTGRES=1 but ENGAGEBOT_TEST_POSTGRES_URL is not set")
        pytest.skip(
            "PostgreSQL not configured (set ENGAGEBOT_TEST_POSTGRES_URL; scripts/postgres.sh starts one)"
        )
    return POSTGRES_URL


async def _admin(sql: str) -> None:
    engine = db.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(sql))
    finally:
        await engine.dispose()


async def _ensure_template() -> None:
    """Migrate a template database once per test session; each test clones it (fast)."""
    global _template_ready
    if _template_ready:
        return
    await _admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
    await _admin(f"CREATE DATABASE {TEMPLATE}")
    engine = db.create_engine(make_url(POSTGRES_URL).set(database=TEMPLATE).render_as_string(False))
    try:
        await migrate.upgrade(engine)
    finally:
        await engine.dispose()
    _template_ready = True


async def new_database_url(kind: str, tmp_path: Path) -> str:
    """The URL of a new, migrated, empty database of the given kind ("sqlite" or "postgres")."""
    if kind == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'engagebot.db'}"
        engine = db.create_engine(url)
        try:
            await migrate.upgrade(engine)
        finally:
            await engine.dispose()
        return url
    postgres_or_skip()
    await _ensure_template()
    name = f"engagebot_t_{uuid.uuid4().hex[:12]}"
    await _admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return make_url(POSTGRES_URL).set(database=name).render_as_string(False)


async def drop_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "postgresql":
        await _admin(f"DROP DATABASE IF EXISTS {parsed.database} WITH (FORCE)")


async def engine_for(url: str, **kwargs: object) -> AsyncEngine:
    return db.create_engine(url, **kwargs)


async def drop_template() -> None:
    if _template_ready:
        await _admin(f"DROP DATABASE IF EXISTS {TEMPLATE} WITH (FORCE)")
