"""The follow-up tick: reminder cards in the staff group when a follow-up is due and once more when it
is overdue (storage.care.followups.remind_due decides what is sent to whom)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.care import followups
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass; returns how many cards were queued."""
    queued = await drain(
        sessions, clock, lambda session, now, limit: followups.remind_due(session, now, config, limit=limit)
    )
    return sum(queued)
