"""The post-purchase survey tick: invite customers whose purchase survey delay has passed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import Clock
from storage.core.config import Config
from storage.surveys import after_purchase

BATCH = 500


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> Counter[str]:
    """One pass, one transaction per batch; returns the invitation outcomes."""
    total: Counter[str] = Counter()
    while True:
        async with sessions.begin() as session:
            read, outcomes = await after_purchase.invite_due(
                session, clock.now(), config.surveys, limit=BATCH
            )
        total.update(outcomes)
        if read < BATCH:
            return total
