"""The post-purchase survey tick: invite customers whose purchase survey delay has passed."""

from __future__ import annotations

from collections import Counter

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.core.clock import Clock
from storage.core.config import Config
from storage.surveys import after_purchase


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> Counter[str]:
    """One pass; returns the invitation outcomes."""
    batches = await drain(
        sessions,
        clock,
        lambda session, now, limit: after_purchase.invite_due(session, now, config.surveys, limit=limit),
    )
    return sum(batches, Counter())
