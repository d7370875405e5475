"""Bulk jobs (storage.core.bulk): recorded once per key, fanned out batch by batch from a cursor, given
up after failing batches, their staff message due for edits; on PostgreSQL two processes never run a
batch of the same job at once."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core import bulk
from storage.core.bulk import Batch, BulkRefused, StepFailed
from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.core.models import BulkJob

CONFIG = Config()
KEYS = list(range(10, 130, 10))  # the keys a "count" job walks: 12 of them


async def count_step(session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config) -> Batch:
    """A kind that walks KEYS after the cursor; every third key is left out."""
    page = [k for k in KEYS if k > job.cursor][:limit]
    left_out = sum(1 for k in page if k % 30 == 0)
    return Batch(
        read=len(page),
        cursor=page[-1] if page else job.cursor,
        queued=len(page) - left_out,
        skipped={"third": left_out} if left_out else {},
    )


async def broken_step(
    session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config
) -> Batch:
    raise RuntimeError("boom")


STEPS: dict[str, Any] = {"count": count_step, "broken": broken_step}


async def _record(session: AsyncSession, clock: FakeClock, key: str, kind: str = "count") -> BulkJob | None:
    return await bulk.record(
        session,
        key=key,
        kind=kind,
        params={},
        requested_by=7,
        language="en",
        now=clock.now(),
        total=len(KEYS),
        chat_id=-100,
        message_id=55,
    )


async def test_a_job_is_recorded_once_and_fans_out_batch_by_batch(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        job = await _record(session, clock, "count:a")
        assert job is not None and job.state == bulk.QUEUED and job.report_at == clock.now()
        assert await _record(session, clock, "count:a") is None  # the same key: a second press
        assert await bulk.has_work(session, clock.now()) == (True, True)
    reads = []
    for _ in range(4):
        async with sessions.begin() as session:
            read, ran = await bulk.next_batch(session, clock.now(), STEPS, CONFIG, limit=5)
            reads.append((read, ran.state if ran else None, ran.cursor if ran else None))
        clock.advance(seconds=1)
    assert reads == [(5, "running", 50), (5, "running", 100), (2, "done", 120), (0, None, None)]
    async with sessions.begin() as session:
        done = await session.get(BulkJob, job.id)
        assert done is not None
        assert (done.queued, done.skipped, done.reasons) == (8, 4, {"third": 4})
        assert done.started_at is not None and done.finished_at is not None
        assert await bulk.has_work(session, clock.now()) == (False, True)  # the final report is due


async def test_a_failing_batch_is_retried_then_the_job_fails(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        job = await _record(session, clock, "broken:a", kind="broken")
        assert job is not None
        job.report_at = None  # no report due: the failure makes one due
    for attempt in range(1, bulk.MAX_FAILURES + 1):
        with pytest.raises(StepFailed) as failed:
            async with sessions.begin() as session:
                await bulk.next_batch(session, clock.now(), STEPS, CONFIG, limit=5)
        assert failed.value.job_id == job.id and isinstance(failed.value.__cause__, RuntimeError)
        async with sessions.begin() as session:
            after = await bulk.record_failure(session, job.id, "RuntimeError('boom')", clock.now())
            assert after is not None and after.failures == attempt
            # Not again at once: a lock timeout or a deadlock may pass; later each time.
            assert await bulk.next_batch(session, clock.now(), STEPS, CONFIG, limit=5) == (0, None)
        clock.advance(seconds=bulk.RETRY_AFTER.total_seconds() * attempt)
    assert after.state == bulk.FAILED and after.error == "RuntimeError('boom')" and after.due_at is None
    assert after.report_at is not None
    async with sessions.begin() as session:
        assert await bulk.next_batch(session, clock.now(), STEPS, CONFIG, limit=5) == (0, None)


async def test_reports_are_claimed_once_and_rescheduled(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        job = await _record(session, clock, "count:r")
        assert job is not None
    async with sessions.begin() as session:
        (due,) = await bulk.due_reports(session, clock.now(), limit=10)
        assert due.id == job.id and due.report_at is None
        bulk.next_report(due, clock.now(), timedelta(seconds=5))
    async with sessions.begin() as session:
        assert await bulk.due_reports(session, clock.now(), limit=10) == []
        clock.advance(seconds=5)
        assert [j.id for j in await bulk.due_reports(session, clock.now(), limit=10)] == [job.id]
        await bulk.report_again(session, job.id, clock.now() + timedelta(seconds=3))
    async with sessions.begin() as session:
        again = await session.get(BulkJob, job.id)
        assert again is not None and again.shown is None
        assert again.report_at == clock.now() + timedelta(seconds=3)


async def test_cancel_and_the_message_a_stop_must_come_from(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        job = await _record(session, clock, "count:c")
        assert job is not None
    async with sessions.begin() as session:
        with pytest.raises(BulkRefused) as refused:
            await bulk.lock(session, job.id, -100, 56)  # another message
        assert refused.value.code == "button.stale"
        locked = await bulk.lock(session, job.id, -100, 55)
        bulk.cancel(locked, clock.now())
        assert locked.state == bulk.CANCELLED and locked.finished_at == clock.now()
        with pytest.raises(BulkRefused) as refused:
            bulk.cancel(locked, clock.now())
        assert refused.value.code == "bulk.finished"
    async with sessions.begin() as session:
        assert await bulk.next_batch(session, clock.now(), STEPS, CONFIG, limit=5) == (0, None)


async def test_two_processes_never_run_a_batch_of_the_same_job(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, db_kind: str
) -> None:
    if db_kind != "postgres":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): two batches cannot overlap")
    async with sessions.begin() as session:
        first_job = await _record(session, clock, "count:1")
        second_job = await _record(session, clock, "count:2")
        assert first_job is not None and second_job is not None
    async with sessions.begin() as first:
        _, mine = await bulk.next_batch(first, clock.now(), STEPS, CONFIG, limit=5)
        # The first batch is uncommitted: its job is locked, the other process takes the next job.
        async with sessions.begin() as second:
            _, theirs = await bulk.next_batch(second, clock.now(), STEPS, CONFIG, limit=5)
            async with sessions.begin() as third:
                assert await bulk.next_batch(third, clock.now(), STEPS, CONFIG, limit=5) == (0, None)
    assert mine is not None and theirs is not None
    assert (mine.id, theirs.id) == (first_job.id, second_job.id)
    assert (mine.cursor, theirs.cursor) == (50, 50)
