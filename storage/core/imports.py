"""An import as a bulk job (storage.core.bulk): the file's rows are staged (import_chunks, STAGE_ROWS
to a chunk) in the transaction that records the job, and each batch handles the next chunks after the
job's cursor and deletes them, so a crash resumes where the last committed batch ended. What a row
becomes is the kind's business (storage.loyalty.imports, storage.people.imports); here: the staging,
the batch, and the bad rows the final summary lists."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import bulk
from storage.core.bulk import Batch
from storage.core.config import Config
from storage.core.models import BulkJob, ImportChunk
from storage.core.refusals import Refused

BAD_SHOWN = 20  # bad rows the summary lists by line; the rest are counted
PARAM_CHARS = 40  # a bad value quoted in a reason, at most this long
DUPLICATE, BAD = "duplicate", "bad"
STAGE_ROWS = 100  # rows to a staged chunk: a batch handles limit // STAGE_ROWS chunks (at least one)


class RowRefused(Refused):
    """Why a row is bad: `code` names the localized reason, `params` fill it."""


@dataclass(frozen=True)
class Problem:
    line: int
    code: str
    params: dict[str, Any]


@dataclass
class Outcome:
    """What a batch of rows became."""

    imported: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)


# A kind's handling of a batch: (session, job, rows as (line, data), now, config) -> what they became.
Rows = list[tuple[int, dict[str, str]]]
Handle = Callable[[AsyncSession, BulkJob, Rows, datetime, Config], Awaitable[Outcome]]


def quoted(value: str) -> str:
    """A value as a reason quotes it: cut, so a summary of many bad rows fits one message."""
    return value if len(value) <= PARAM_CHARS else value[: PARAM_CHARS - 1] + "…"


async def record(
    session: AsyncSession,
    *,
    key: str,
    kind: str,
    rows: Rows,
    params: dict[str, Any],
    requested_by: int,
    language: str,
    now: datetime,
) -> BulkJob | None:
    """Record the import once per `key` (the command's message), its rows staged; None when that
    message was handled before (Telegram delivered it twice)."""
    job = await bulk.record(
        session,
        key=key,
        kind=kind,
        params=params,
        requested_by=requested_by,
        language=language,
        now=now,
        total=len(rows),
    )
    if job is not None:
        await stage(session, job.id, rows)
    return job


async def stage(session: AsyncSession, job_id: int, rows: Sequence[tuple[int, dict[str, str]]]) -> None:
    chunks = [
        {"job_id": job_id, "rows": [[line, data] for line, data in rows[start : start + STAGE_ROWS]]}
        for start in range(0, len(rows), STAGE_ROWS)
    ]
    if chunks:
        await session.execute(insert(ImportChunk), chunks)


async def step(
    session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config, handle: Handle
) -> Batch:
    """Handle the next staged chunks of the job (about `limit` rows): the kind's `handle` decides,
    the chunks go."""
    wanted = max(1, limit // STAGE_ROWS)
    staged = list(
        await session.scalars(
            select(ImportChunk)
            .where(ImportChunk.job_id == job.id, ImportChunk.id > job.cursor)
            .order_by(ImportChunk.id)
            .limit(wanted)
        )
    )
    if not staged:
        return Batch(read=0, cursor=job.cursor)
    rows = [(int(line), dict(data)) for chunk in staged for line, data in chunk.rows]
    outcome = await handle(session, job, rows, now, config)
    _note(job, outcome.problems)
    await session.execute(delete(ImportChunk).where(ImportChunk.id.in_([chunk.id for chunk in staged])))
    # Fewer chunks than asked for: the file is done (bulk reads "fewer than the limit" so).
    read = len(rows) if len(staged) < wanted else max(len(rows), limit)
    return Batch(
        read=read,
        cursor=staged[-1].id,
        queued=outcome.imported,
        skipped={DUPLICATE: outcome.duplicates, BAD: len(outcome.problems)},
    )


def _note(job: BulkJob, problems: list[Problem]) -> None:
    """The first BAD_SHOWN bad rows, kept on the job for its summary (the rest are counted there)."""
    shown = list(job.params.get("bad", []))
    room = BAD_SHOWN - len(shown)
    if room <= 0 or not problems:
        return
    ordered = sorted(problems, key=lambda p: p.line)
    shown += [{"line": p.line, "code": p.code, "params": p.params} for p in ordered[:room]]
    job.params = {**job.params, "bad": shown}


async def forget(session: AsyncSession, job_id: int) -> None:
    """A stopped or failed import's rows not handled."""
    await session.execute(delete(ImportChunk).where(ImportChunk.job_id == job_id))
