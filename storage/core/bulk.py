"""Bulk jobs: work too big for the transaction of the update that asks for it (a survey sent to
thousands of customers; later campaigns, CSV imports, exports, scoring). Asking records a job and
nothing else; a tick fans it out in batches.

A batch is one transaction: it claims the job whose next batch is due (`due_at`, an index range; FOR
UPDATE SKIP LOCKED, storage.core.claims: a second process skips a job whose batch is in flight; on
SQLite the transaction holds the write lock), runs the kind's step for up to `limit` keys after the
job's cursor, and commits the step's writes together with the new cursor and counters. A crash loses
the batch in flight and nothing else: the next tick resumes after the last committed key. Steps write
with unique keys (insert-if-absent), so even a batch done twice adds nothing twice.

States: queued → running (fanning out) → done (fanned out); or cancelled (stopped by staff, at any
point until its messages are sent) or failed (a batch raised MAX_FAILURES times in a row, tried again
RETRY_AFTER later, and longer each time). Delivering what a job queued is the outbox's work, not a
state of the job: storage.background reads it there.

Paused (`paused_at`, beside the state): no batch runs (`due_at` cleared) until it is resumed, and the
outbox holds its queued rows (storage.background.pause); a job is paused while it fans out or while its
messages wait to be sent, and resumed where it was.

The staff message: `report_at` is when it is next due an edit (claimed like any due work, so one
process edits it), `shown` what it last showed, so it is edited only when something changed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import claim_due, skip_locked
from storage.core.config import Config
from storage.core.models import BulkJob
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore

QUEUED, RUNNING, DONE, CANCELLED, FAILED = "queued", "running", "done", "cancelled", "failed"
FANNING_OUT = (QUEUED, RUNNING)
FINISHED = (DONE, CANCELLED, FAILED)
MAX_FAILURES = 3  # batches in a row that raised before the job is given up
RETRY_AFTER = timedelta(seconds=10)  # after the n-th failure in a row the job waits n times this
ERROR_MAX = 2000


class BulkRefused(Refused):
    """`code`: bulk.finished (nothing left to stop or pause), bulk.already_paused, bulk.not_paused, or
    button.stale (no such job on that message)."""


@dataclass(frozen=True)
class Batch:
    """What one step did: the keys it read (fewer than the limit: the job has fanned out), the last
    key read (the cursor to resume after), the outbox rows it queued and the keys it left out, by
    reason."""

    read: int
    cursor: int
    queued: int = 0
    skipped: Mapping[str, int] = field(default_factory=dict)


# A kind's step: (session, job, now, limit, config) -> what the batch did.
Step = Callable[[AsyncSession, BulkJob, datetime, int, Config], Awaitable[Batch]]


class StepFailed(Exception):
    """A step raised (the exception is the cause); its batch rolled back. See record_failure."""

    def __init__(self, job_id: int) -> None:
        super().__init__(f"bulk job {job_id}: a batch failed")
        self.job_id = job_id


async def record(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    params: dict[str, Any],
    requested_by: int,
    language: str,
    now: datetime,
    total: int | None = None,
    chat_id: int | None = None,
    message_id: int | None = None,
) -> BulkJob | None:
    """Record a job, once per `key` (None when the key was recorded before: a second press). With a
    message to edit, its first report is due at once (after the first batches)."""
    inserted = await insert_ignore(
        session,
        BulkJob,
        {
            "key": key,
            "kind": kind,
            "params": params,
            "state": QUEUED,
            "due_at": now,
            "cursor": 0,
            "total": total,
            "queued": 0,
            "skipped": 0,
            "reasons": {},
            "failures": 0,
            "requested_by": requested_by,
            "chat_id": chat_id,
            "message_id": message_id,
            "language": language,
            "report_at": now if chat_id is not None and message_id is not None else None,
            "created_at": now,
        },
        ["key"],
    )
    return await session.scalar(select(BulkJob).where(BulkJob.key == key)) if inserted else None


async def attach(session: AsyncSession, job_id: int, chat_id: int, message_id: int, now: datetime) -> None:
    """The staff message that shows the job, sent after the job was recorded (and committed): its
    first report is due at once."""
    job = await session.get(BulkJob, job_id, with_for_update=True)
    if job is not None:
        job.chat_id, job.message_id, job.shown = chat_id, message_id, None
        job.report_at = now
        await session.flush()


async def has_work(session: AsyncSession, now: datetime) -> tuple[bool, bool]:
    """(a batch is due, a report is due): the first row of two index ranges, in the index's order (so
    PostgreSQL's generic plan reads the index too), for a tick with nothing to do."""

    def first(schedule: Any) -> Any:
        return select(BulkJob.id).where(schedule <= now).order_by(schedule, BulkJob.id).limit(1)

    row = (
        await session.execute(
            select(first(BulkJob.due_at).scalar_subquery(), first(BulkJob.report_at).scalar_subquery())
        )
    ).one()
    return row[0] is not None, row[1] is not None


async def next_batch(
    session: AsyncSession, now: datetime, steps: Mapping[str, Step], config: Config, *, limit: int
) -> tuple[int, BulkJob | None]:
    """One batch of the job due first that no other process holds: (keys read, the job), or (0, None)
    when there is none. A step that raises rolls the batch back: StepFailed says which job."""
    job = await session.scalar(
        skip_locked(
            select(BulkJob).where(BulkJob.due_at <= now).order_by(BulkJob.due_at, BulkJob.id).limit(1)
        )
    )
    if job is None:
        return 0, None
    try:
        batch = await steps[job.kind](session, job, now, limit, config)
    except Exception as error:
        raise StepFailed(job.id) from error
    _apply(job, batch, now, limit)
    await session.flush()
    return batch.read, job


def _apply(job: BulkJob, batch: Batch, now: datetime, limit: int) -> None:
    if batch.read:
        job.cursor = batch.cursor
    job.queued += batch.queued
    job.skipped += sum(batch.skipped.values())
    reasons = dict(job.reasons or {})
    for reason, count in batch.skipped.items():
        if count:
            reasons[reason] = reasons.get(reason, 0) + count
    job.reasons = reasons
    job.failures, job.error = 0, None
    if job.state == QUEUED:
        job.state, job.started_at = RUNNING, now
    if batch.read < limit:
        job.state, job.finished_at, job.due_at = DONE, now, None
        _report_now(job, now)


async def record_failure(session: AsyncSession, job_id: int, error: str, now: datetime) -> BulkJob | None:
    """A batch of this job raised: counted, and tried again later (a lock timeout or a deadlock passes);
    the MAX_FAILURES-th in a row fails the job (the next ones would fail the same way), and its staff
    message says so."""
    job = await session.get(BulkJob, job_id, with_for_update=True)
    if job is None or job.state not in FANNING_OUT:
        return job
    job.failures += 1
    job.error = error[:ERROR_MAX]
    job.due_at = now + RETRY_AFTER * job.failures if job.paused_at is None else None
    if job.failures >= MAX_FAILURES:
        job.state, job.finished_at, job.due_at = FAILED, now, None
        _report_now(job, now)
    await session.flush()
    return job


async def lock(session: AsyncSession, job_id: int, chat_id: int, message_id: int) -> BulkJob:
    """The job whose staff message this is, locked (waits for a batch in flight); button.stale when the
    message shows no such job."""
    job = await session.get(BulkJob, job_id, with_for_update=True)
    if job is None or (job.chat_id, job.message_id) != (chat_id, message_id):
        raise BulkRefused("button.stale")
    return job


def cancel(job: BulkJob, now: datetime) -> None:
    """Stopped by staff: no further batch; the staff message shows the outcome at the next report.
    (storage.background.stop withdraws what the job queued and has not sent.)"""
    if job.state in (CANCELLED, FAILED):
        raise BulkRefused("bulk.finished")
    job.state, job.due_at, job.paused_at = CANCELLED, None, None
    job.finished_at = job.finished_at or now
    _report_now(job, now)


def pause(job: BulkJob, now: datetime) -> None:
    """Paused by staff: no further batch until resumed (storage.background.pause holds its messages)."""
    if job.state in (CANCELLED, FAILED):
        raise BulkRefused("bulk.finished")
    if job.paused_at is not None:
        raise BulkRefused("bulk.already_paused")
    job.paused_at, job.due_at = now, None
    _report_now(job, now)


def resume(job: BulkJob, now: datetime) -> None:
    """Resumed: a job still fanning out takes its next batch at once, from its cursor."""
    if job.state in (CANCELLED, FAILED):
        raise BulkRefused("bulk.finished")
    if job.paused_at is None:
        raise BulkRefused("bulk.not_paused")
    job.paused_at = None
    job.due_at = now if job.state in FANNING_OUT else None
    _report_now(job, now)


def _report_now(job: BulkJob, now: datetime) -> None:
    if job.chat_id is not None and job.message_id is not None:
        job.report_at = now


async def due_reports(session: AsyncSession, now: datetime, *, limit: int) -> list[BulkJob]:
    """The jobs whose staff message is due an edit, claimed (their report_at cleared: the caller
    schedules the next one, or none after the final summary)."""
    rows = await claim_due(session, BulkJob.report_at, BulkJob.id, until=now, limit=limit)
    if not rows:
        return []
    jobs = await session.scalars(
        select(BulkJob)
        .where(BulkJob.id.in_([row[0] for row in rows]))
        .order_by(BulkJob.id)
        .execution_options(populate_existing=True)
    )
    return list(jobs)


def next_report(job: BulkJob, now: datetime, every: timedelta) -> None:
    job.report_at = now + every


async def report_again(session: AsyncSession, job_id: int, at: datetime) -> None:
    """The last edit did not reach Telegram (a network error, RetryAfter): show it again at `at`."""
    job = await session.get(BulkJob, job_id, with_for_update=True)
    if job is not None:
        job.shown = None
        job.report_at = min(job.report_at, at) if job.report_at else at
        await session.flush()
