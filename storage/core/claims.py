"""Work that comes due, shared safely between instances of the bot.

Rows are read with FOR UPDATE SKIP LOCKED: on PostgreSQL a second instance skips the rows the first is
handling instead of waiting for them; SQLAlchemy leaves the clause out on SQLite, where every unit of
work already holds the database's write lock (storage.core.db)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Row, Select, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute

Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


def skip_locked(query: Query, *of: Any) -> Query:
    """Lock the rows read (only those of `of`'s tables when given), skipping rows locked elsewhere."""
    return query.with_for_update(of=list(of) or None, skip_locked=True)


async def claim_due(
    session: AsyncSession,
    schedule: InstrumentedAttribute[Any],
    key: InstrumentedAttribute[Any],
    *columns: InstrumentedAttribute[Any],
    until: datetime,
    limit: int,
) -> Sequence[Row[*tuple[Any, ...]]]:
    """Up to `limit` rows whose `schedule` time is at or before `until`, earliest first, as rows of
    (key, *columns); each leaves the schedule (the column becomes NULL) in the same transaction, so a
    tick reads it once. Fewer than `limit` means nothing more is due."""
    rows = (
        await session.execute(
            skip_locked(select(key, *columns).where(schedule <= until).order_by(schedule, key).limit(limit))
        )
    ).all()
    if rows:
        await session.execute(
            update(schedule.class_).where(key.in_([row[0] for row in rows])).values({schedule.key: None})
        )
    return rows
