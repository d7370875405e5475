"""CSV exports (storage.core.exports, run as bulk jobs by storage.background): written a batch at a
time into chunks, one BOM and one header, personal data only when the role may see it; the chunks go
once the file is sent."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import background
from storage.core import exports
from storage.core.config import Config
from storage.core.models import ExportChunk
from storage.people import customers
from tests.storage.loyalty_helpers import new_customer

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


async def _export(sessions: async_sessionmaker[AsyncSession], what: str, personal: bool, key: str) -> str:
    async with sessions.begin() as session:
        job = await background.record_export(
            session, what, key=key, personal=personal, requested_by=7, language="en", now=NOW
        )
        assert job is not None and job.total == 5
    while True:
        async with sessions.begin() as session:
            _, ran = await background.run_batch(session, NOW, Config(), limit=2)
        if ran is None:
            break
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(ExportChunk)) == 3  # 2 + 2 + 1 rows
        text = "".join([chunk async for chunk in exports.chunks(session, job.id)])
        await background.forget(session, job.id, job.kind)
        assert await session.scalar(select(func.count()).select_from(ExportChunk)) == 0
    return text


async def test_an_export_is_written_in_batches_with_personal_data_only_when_allowed(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        for n in range(5):
            customer = await new_customer(session, 500 + n, NOW, name=f"=cmd{n}")
            await customers.set_phone(session, customer, f"+49157000000{n}")
    full = await _export(sessions, "customers", True, "a")
    assert full.startswith("\ufeff") and full.count("\ufeff") == 1
    rows = list(csv.DictReader(io.StringIO(full.removeprefix("\ufeff"))))
    assert [row["telegram_id"] for row in rows] == [str(500 + n) for n in range(5)]
    assert rows[0]["phone"] == "+491570000000" and rows[0]["first_name"] == "'=cmd0"

    masked = await _export(sessions, "customers", False, "b")
    header = masked.removeprefix("\ufeff").splitlines()[0].split(",")
    assert "phone" not in header and "birthday" not in header and "+49157" not in masked
