"""Insert-if-absent, the one place with a branch per dialect (both speak ON CONFLICT DO NOTHING)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Row
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import DeclarativeBase, InstrumentedAttribute

from storage.core.db import changed_rows


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
    conflict: list[str] | None,
    returning: Sequence[InstrumentedAttribute[Any]] = (),
) -> list[Row[*tuple[Any, ...]]]:
    """Insert the rows that have no twin in the `conflict` columns (None: in any unique column); the
    `returning` columns of the rows inserted. One executemany (compiled once, not a statement per
    row): with `returning`, SQLAlchemy sends it as multi-row INSERTs ("insertmanyvalues"); without, as
    the driver's executemany."""
    if not rows:
        return []
    stmt = _insert(session, model).on_conflict_do_nothing(index_elements=conflict)
    if not returning:
        await session.execute(stmt, list(rows))
        return []
    return list((await session.execute(stmt.returning(*returning), list(rows))).all())


def _insert(session: AsyncSession, model: type[DeclarativeBase]) -> Any:
    return (postgresql.insert if dialect_of(session) == "postgresql" else sqlite.insert)(model)


def dialect_of(session: AsyncSession) -> str:
    if session.bind is None:
        raise RuntimeError("a unit of work without an engine")
    return session.bind.dialect.name


async def upsert(
    session: AsyncSession,
    model: type[DeclarativeBase],
    values: dict[str, Any],
    conflict: list[str],
    update: Sequence[str],
) -> None:
    """Insert one row, or set its `update` columns when a row with the same `conflict` columns exists
    (one statement: two presses at once both end in the last one's values)."""
    stmt = _insert(session, model).values(**values)
    stmt = stmt.on_conflict_do_update(index_elements=conflict, set_={c: stmt.excluded[c] for c in update})
    await session.execute(stmt)
