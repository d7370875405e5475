"""The early-warning tick (hourly): follow-up tasks for valuable customers showing signs of leaving
(storage.care.churn decides who and why), a batch of customers per transaction."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import BATCH
from storage.care import churn
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """One pass over the scored customers; returns how many tasks were created."""
    created, cursor = 0, 0
    while True:
        async with sessions.begin() as session:
            batch = await churn.run(session, clock.now(), config, after=cursor, limit=BATCH)
        created += batch.created
        if batch.read < BATCH:
            return created
        cursor = batch.last
