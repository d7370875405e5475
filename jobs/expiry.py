"""The points expiry tick: warnings before unspent points expire, then the expiry itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.core.clock import Clock
from storage.core.config import Config
from storage.loyalty import expiry, ledger


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> tuple[int, int]:
    """One pass; returns (warnings queued, lots expired)."""

    async def expire(session: AsyncSession, now: datetime, limit: int) -> tuple[int, int]:
        lots = await ledger.expire_due(session, now, limit=limit)
        return len(lots), len(lots)

    warned = await drain(
        sessions,
        clock,
        lambda session, now, limit: expiry.warn_due(session, now, config.loyalty, limit=limit),
    )
    return sum(warned), sum(await drain(sessions, clock, expire))
