"""The birthday tick: greet whoever's greeting time has come, and the staff's daily digest."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import greetings
from storage.care.greetings import TierOf
from storage.core.clock import Clock
from storage.core.config import Config

BATCH = 500


async def tick(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config, *, tier_of: TierOf | None = None
) -> int:
    """One pass; returns greetings queued. Reads only customers whose next_birthday_at has come (an
    index range), in batches of one transaction each, until none is left."""
    greeted = 0
    while True:
        async with sessions.begin() as session:
            read, queued = await greetings.greet_due(
                session, clock.now(), config, limit=BATCH, tier_of=tier_of
            )
        greeted += queued
        if read < BATCH:
            break
    async with sessions.begin() as session:
        await greetings.queue_digest(session, clock.now(), config)
    return greeted


async def backfill(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """At start: schedule greetings for birthdays stored before the schedule existed."""
    total = 0
    while True:
        async with sessions.begin() as session:
            count = await greetings.backfill(session, clock.now(), config, batch=BATCH)
        total += count
        if count < BATCH:
            return total
