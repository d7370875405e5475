"""An export as a bulk job (storage.core.bulk): each batch writes the CSV lines of the next rows after
the job's cursor as one chunk (export_chunks) in its own transaction, so memory holds one batch and a
crash resumes after the last committed one. Once the job is done the chunks, in order, are the file
(read a few at a time into a temporary file, then sent), and are deleted."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import csvfiles
from storage.core.bulk import Batch
from storage.core.config import Config
from storage.core.models import BulkJob, ExportChunk

CHUNKS_READ = 20  # chunks read at once while the file is assembled


@dataclass(frozen=True)
class Page:
    """The CSV lines of up to `limit` rows after a key, and the last key read."""

    lines: list[str]
    last: int


# A table's page: (session, after, limit, personal data shown, config) -> its lines.
Read = Callable[[AsyncSession, int, int, bool, Config], Awaitable[Page]]


async def step(
    session: AsyncSession,
    job: BulkJob,
    limit: int,
    config: Config,
    *,
    header: Callable[[bool], list[str]],
    read: Read,
) -> Batch:
    """The next `limit` rows' lines as one chunk (the first one starts with a BOM and the header)."""
    personal = bool(job.params.get("personal"))
    page = await read(session, job.cursor, limit, personal, config)
    text = "".join(page.lines)
    if job.cursor == 0:
        text = csvfiles.BOM + csvfiles.line(header(personal)) + text
    if text:
        session.add(ExportChunk(job_id=job.id, data=text))
    return Batch(read=len(page.lines), cursor=page.last if page.lines else job.cursor, queued=len(page.lines))


async def chunks(session: AsyncSession, job_id: int) -> AsyncIterator[str]:
    """The file's text, a chunk at a time, in order (CHUNKS_READ per query)."""
    after = 0
    while True:
        rows = (
            await session.execute(
                select(ExportChunk.id, ExportChunk.data)
                .where(ExportChunk.job_id == job_id, ExportChunk.id > after)
                .order_by(ExportChunk.id)
                .limit(CHUNKS_READ)
            )
        ).all()
        for row in rows:
            yield row.data
        if len(rows) < CHUNKS_READ:
            return
        after = rows[-1].id


async def forget(session: AsyncSession, job_id: int) -> None:
    """The file was sent (or the export stopped): its chunks go."""
    await session.execute(delete(ExportChunk).where(ExportChunk.job_id == job_id))


def local(at: datetime | None, timezone: str) -> str:
    """An instant as staff read it: ISO, in the staff time zone, to the second."""
    return at.astimezone(ZoneInfo(timezone)).isoformat(timespec="seconds") if at is not None else ""


def filename(what: str, now: datetime) -> str:
    return f"{what}-{now:%Y%m%d-%H%M}.csv"
