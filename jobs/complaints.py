"""The complaints tick: the response-time clock of feedback items (storage.care.complaints decides
what is due: deadlines started, the customer told, reminders and escalations queued)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.care import complaints
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass; returns how many messages were queued."""
    queued = await drain(
        sessions, clock, lambda session, now, limit: complaints.tick(session, now, config, limit=limit)
    )
    return sum(queued)
