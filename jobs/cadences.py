"""The cadences tick (hourly): regular-care follow-up tasks from the cadence rules
(storage.care.cadences decides who is due and for whom the task is)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.care import cadences
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass; returns how many tasks were created."""
    if not config.cadences.rules:
        return 0
    created = await drain(
        sessions, clock, lambda session, now, limit: cadences.run(session, now, config, limit=limit)
    )
    return sum(created)
