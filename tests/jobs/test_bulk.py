"""The bulk-job tick: at most batches_per_tick batches a pass, one transaction each; a batch that raises
is rolled back, counted and tried later, and the third in a row fails the job; an idle pass writes
nothing."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from jobs import bulk as bulk_job
from storage.core import bulk
from storage.core.clock import FakeClock
from storage.core.config import BulkConfig, Config
from storage.core.models import BulkJob
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.surveys import invitations, sending
from storage.surveys.definitions import builtin
from tests.statements import statements

CONFIG = Config(bulk=BulkConfig(batch=4, batches_per_tick=2))


async def _job(session: AsyncSession, clock: FakeClock, kind: str, params: dict[str, object]) -> BulkJob:
    job = await bulk.record(
        session, key=f"{kind}:1", kind=kind, params=params, requested_by=1, language="en", now=clock.now()
    )
    assert job is not None
    return job


async def test_a_pass_runs_at_most_batches_per_tick(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        for n in range(10):
            await customers.join(session, TelegramProfile(100 + n, "C"), CONFIG, clock.now())
        await invitations.create(session, builtin("s", "csat"), created_by=1, now=clock.now())
        survey = await invitations.activate(session, "s", clock.now())
        job = await _job(session, clock, sending.KIND, sending.params(survey.id, "s", "all", "t"))
    assert await bulk_job.tick(sessions, clock, CONFIG, reads=sessions) == 8
    assert await bulk_job.tick(sessions, clock, CONFIG, reads=sessions) == 2
    async with sessions.begin() as session:
        done = await session.get(BulkJob, job.id)
        assert done is not None and (done.state, done.queued) == (bulk.DONE, 10)


async def test_failing_batches_fail_the_job(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    async with sessions.begin() as session:
        job = await _job(session, clock, "no_such_kind", {})  # a kind this version does not know
    with caplog.at_level(logging.ERROR):
        for attempt in range(1, 4):
            assert await bulk_job.tick(sessions, clock, CONFIG) == 0  # one failure: later, not at once
            assert await bulk_job.tick(sessions, clock, CONFIG) == 0  # not due yet: nothing
            clock.advance(seconds=bulk.RETRY_AFTER.total_seconds() * attempt)
    assert [r.getMessage() for r in caplog.records] == [f"bulk job {job.id}: a batch failed"] * 3
    async with sessions.begin() as session:
        failed = await session.get(BulkJob, job.id)
        assert failed is not None and (failed.state, failed.failures) == (bulk.FAILED, 3)
        assert failed.error == "KeyError('no_such_kind')"


async def test_an_idle_pass_is_one_read(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, engine: AsyncEngine
) -> None:
    with statements(engine) as sent:
        assert await bulk_job.tick(sessions, clock, CONFIG, reads=sessions) == 0
    assert [s for s in sent if not s.startswith("BEGIN")] and len([s for s in sent if "bulk_jobs" in s]) == 1
