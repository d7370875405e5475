"""The birthday tick: greet whoever's greeting time has come, and the staff's daily digest."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.care import greetings
from storage.care.greetings import TierOf
from storage.core.clock import Clock
from storage.core.config import Config


async def tick(
    sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config, *, tier_of: TierOf | None = None
) -> int:
    """One pass; returns greetings queued. Reads only customers whose next_birthday_at has come (an
    index range)."""
    queued = await drain(
        sessions,
        clock,
        lambda session, now, limit: greetings.greet_due(session, now, config, limit=limit, tier_of=tier_of),
    )
    async with sessions.begin() as session:
        await greetings.queue_digest(session, clock.now(), config)
    return sum(queued)


async def backfill(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> int:
    """At start: schedule greetings for birthdays stored before the schedule existed."""

    async def step(session: AsyncSession, now: datetime, limit: int) -> tuple[int, int]:
        count = await greetings.backfill(session, now, config, batch=limit)
        return count, count

    return sum(await drain(sessions, clock, step))
