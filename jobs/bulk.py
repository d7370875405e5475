"""The bulk-job tick: batches of whichever job is fanning out (storage.background.run_batch), one
transaction each, at most config.bulk.batches_per_tick per pass, so other work gets the database
between batches and the progress is shown between passes (bot.ticks: handlers.staff.bulk.report). A
batch that raises is rolled back and counted against its job (storage.core.bulk.record_failure)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import background
from storage.core import bulk
from storage.core.clock import Clock
from storage.core.config import Config

log = logging.getLogger(__name__)


async def tick(
    sessions: async_sessionmaker[AsyncSession],
    clock: Clock,
    config: Config,
    *,
    reads: async_sessionmaker[AsyncSession] | None = None,
) -> int:
    """One pass; returns how many keys (customers) the batches read. With `reads`, an idle pass is
    one read that never waits for the write lock."""
    if reads is not None:
        async with reads.begin() as session:
            fanning_out, _ = await bulk.has_work(session, clock.now())
        if not fanning_out:
            return 0
    total = 0
    for _ in range(config.bulk.batches_per_tick):
        try:
            async with sessions.begin() as session:
                read, job = await background.run_batch(session, clock.now(), config, limit=config.bulk.batch)
        except bulk.StepFailed as failed:
            log.error("bulk job %s: a batch failed", failed.job_id, exc_info=failed.__cause__)
            async with sessions.begin() as session:
                await bulk.record_failure(session, failed.job_id, repr(failed.__cause__), clock.now())
            continue
        if job is None:
            break
        total += read
    return total
