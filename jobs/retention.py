"""The retention tick (hourly, only with RETENTION_DAYS set): customers neither seen nor buying for
that long are erased (storage.privacy.retain), a batch per transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage import privacy
from storage.core.clock import Clock
from storage.core.config import Config

BATCH = 50  # erasures per transaction: each is a dozen statements


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass; returns how many customers were erased."""
    days = config.retention_days
    if days is None:
        return 0
    erased = await drain(
        sessions,
        clock,
        lambda session, now, limit: privacy.retain(session, now, days, limit=limit),
        size=BATCH,
    )
    return sum(erased)
