"""Insert-if-absent, the one place with a branch per dialect (both speak ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase

from storage.core.db import changed_rows


async def insert_ignore(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert one row unless a row with the same `conflict` columns exists; True when inserted."""
    insert = postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert
    stmt = insert(model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return bool(await changed_rows(session, stmt))


def dialect_of(session: AsyncSession) -> str:
    if session.bind is None:
        raise RuntimeError("a unit of work without an engine")
    return session.bind.dialect.name
