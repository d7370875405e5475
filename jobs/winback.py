"""The win-back tick: customers whose lapse time has come (storage.care.winback decides who, and what
staff and the customer are sent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.care import winback
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass; returns how many win-back tasks were created."""
    created = await drain(
        sessions, clock, lambda session, now, limit: winback.handle_due(session, now, config, limit=limit)
    )
    return sum(created)
