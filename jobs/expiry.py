"""The points expiry tick: warnings before unspent points expire, then the expiry itself."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import Clock
from storage.core.config import Config
from storage.loyalty import expiry, ledger

BATCH = 500


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> tuple[int, int]:
    """One pass; returns (warnings queued, lots expired). Each batch is one transaction."""
    warned = 0
    while True:
        async with sessions.begin() as session:
            read, queued = await expiry.warn_due(session, clock.now(), config.loyalty, limit=BATCH)
        warned += queued
        if read < BATCH:
            break
    expired = 0
    while True:
        async with sessions.begin() as session:
            lots = await ledger.expire_due(session, clock.now(), limit=BATCH)
        expired += len(lots)
        if not lots:
            break
    return warned, expired
