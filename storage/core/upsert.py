"""Insert-if-absent, the one place with a branch per dialect (both speak ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from storage.core.db import changed_rows

# Rows per multi-row INSERT: SQLite and asyncpg take at most 32,766 / 32,767 bound parameters.
MAX_PARAMETERS = 30_000


async def insert_ignore(
    session: AsyncSession, model: type[DeclarativeBase], values: dict[str, Any], conflict: list[str]
) -> bool:
    """Insert one row unless a row with the same `conflict` columns exists; True when inserted."""
    stmt = _insert(session, model).values(**values).on_conflict_do_nothing(index_elements=conflict)
    return bool(await changed_rows(session, stmt))


async def insert_ignore_many(
    session: AsyncSession,
    model: type[DeclarativeBase],
    rows: Sequence[dict[str, Any]],
    conflict: list[str],
    returning: Sequence[InstrumentedAttribute[Any]] = (),
) -> list[Row[*tuple[Any, ...]]]:
    """Insert the rows that have no twin in the `conflict` columns, in multi-row INSERT statements (one
    per ~30,000 values; every row has the same keys); the `returning` columns of the rows inserted."""
    inserted: list[Row[*tuple[Any, ...]]] = []
    if not rows:
        return inserted
    size = max(1, MAX_PARAMETERS // len(rows[0]))
    for start in range(0, len(rows), size):
        stmt = (
            _insert(session, model)
            .values(list(rows[start : start + size]))
            .on_conflict_do_nothing(index_elements=conflict)
        )
        if returning:
            inserted.extend((await session.execute(stmt.returning(*returning))).all())
        else:
            await session.execute(stmt)
    return inserted


def _insert(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    return (postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert)(model)


def dialect_of(session: AsyncSession) -> str:
    if session.bind is None:
        raise RuntimeError("a unit of work without an engine")
    return session.bind.dialect.name
