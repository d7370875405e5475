"""The win-back tick: customers whose lapse time has come (storage.care.winback decides who, and what
staff and the customer are sent)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import winback
from storage.core.clock import Clock
from storage.core.config import Config

BATCH = 500


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass, one transaction per batch; returns how many win-back tasks were created."""
    created = 0
    while True:
        async with sessions.begin() as session:
            read, new = await winback.handle_due(session, clock.now(), config, limit=BATCH)
        created += new
        if read < BATCH:
            return created
