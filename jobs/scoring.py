"""The scoring tick (storage.insight.scoring): customers whose purchases changed are re-scored within
seconds, and once a night (config.insight.hour in the staff time zone; at once when no run exists yet)
every customer is, in batches of one transaction each, at most config.insight.batches_per_tick a
pass, so other work gets the database between them; the next pass goes on from the run's cursor."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs.batches import drain
from storage.core.clock import Clock
from storage.core.config import Config
from storage.insight import scoring


async def tick(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    config: Config,
    *,
    reads: async_sessionmaker[AsyncSession] | None = None,
) -> int:
    """One pass; returns how many customers were scored. With `reads`, the population's purchases are
    read without the write lock (a SQLite file's read pool)."""
    rescored = await drain(
        sessions, clock, lambda session, now, limit: scoring.rescore_due(session, now, config, limit=limit)
    )
    await _start_run(sessions, reads or sessions, clock, config)
    scored, batch = 0, config.insight.batch
    for _ in range(config.insight.batches_per_tick):
        async with sessions.begin() as session:
            read, count = await scoring.run_batch(session, clock.now(), config, limit=batch)
        scored += count
        if read < batch:
            break
    return sum(rescored) + scored


async def _start_run(
    sessions: async_sessionmaker[AsyncSession],
    reads: async_sessionmaker[AsyncSession],
    clock: Clock,
    config: Config,
) -> None:
    """Start tonight's run when it is due: the statistics read and fitted outside the write lock (the
    fit in a thread: about 5 s of CPU over 100,000 buyers), then recorded once."""
    async with reads.begin() as session:
        key = await scoring.due_run(session, clock.now(), config)
        if key is None:
            return
        now = clock.now()
        buyers = await scoring.histories(session, now)
    stats = await asyncio.to_thread(scoring.population, buyers, config.insight)
    async with sessions.begin() as session:
        await scoring.start_run(session, key, now, stats, config)
