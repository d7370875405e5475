"""Importing a 100,000-row purchases CSV and exporting it again, on SQLite and PostgreSQL: the storage
calls the /import and /export handlers and the bulk tick make (storage.loyalty.imports.read_file,
storage.core.imports.record, storage.background.run_batch, storage.core.exports.chunks), without
Telegram.

    .venv/bin/python -m benchmarks.import_export [--rows 100000] [--customers 10000] [--batch 200]

Columns: reading the file (decode, split, validate the header); the command's transaction (record the
job, stage every row: the staff member waits for it); the import's batches until done (rows/s, the
longest batch); the same file again (every row a duplicate); the export of all purchases (batches,
then the file assembled from its chunks), and the peak RSS of the process at the end. Customers are
named by "#id" and "@username" in turn. PostgreSQL runs when ENGAGEBOT_TEST_POSTGRES_URL is set.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import insert

from storage import background
from storage.core import db, exports
from storage.core import imports as core_imports
from storage.core.config import Config
from storage.loyalty import imports
from storage.people import consent
from storage.people.models import Customer
from tests import databases

NOW_CONFIG = Config()


@dataclass
class Row:
    database: str
    rows: int
    read_s: float
    record_s: float
    import_s: float
    longest_batch_ms: float
    again_s: float
    export_s: float
    peak_rss_mb: float

    @property
    def rate(self) -> float:
        return self.rows / self.import_s


def _file(rows: int, customers: int) -> bytes:
    lines = ["customer,date,amount,category"]
    for n in range(rows):
        who = f"#{n % customers + 1}" if n % 2 else f"@user{n % customers + 1}"
        lines.append(f"{who},2025-{n % 12 + 1:02d}-{n % 28 + 1:02d},{n % 500 + 1}.{n % 100:02d},c{n % 7}")
    return ("\n".join(lines) + "\n").encode()


async def _customers(sessions: object, count: int) -> None:
    now = datetime.now(UTC)
    values = [
        {
            "telegram_id": 10_000 + n,
            "first_name": f"C{n}",
            "username": f"user{n}",
            "language": "en",
            "timezone": "UTC",
            "consent_at": now,
            "consent_version": consent.NOTICE_VERSION,
            "created_at": now,
            "updated_at": now,
        }
        for n in range(1, count + 1)
    ]
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        for start in range(0, len(values), 5000):
            await session.execute(insert(Customer), values[start : start + 5000])


async def _drain(sessions: object, config: Config, batch: int) -> tuple[float, float]:
    """Run batches until no job is due: (seconds, longest batch in ms)."""
    started, longest = time.perf_counter(), 0.0
    while True:
        t = time.perf_counter()
        async with sessions.begin() as session:  # type: ignore[attr-defined]
            _, job = await background.run_batch(session, datetime.now(UTC), config, limit=batch)
        longest = max(longest, time.perf_counter() - t)
        if job is None:
            return time.perf_counter() - started, longest * 1000


async def _import(sessions: object, data: bytes, key: str) -> tuple[float, float]:
    t = time.perf_counter()
    kind, table = imports.read_file(data)
    read_s = time.perf_counter() - t
    t = time.perf_counter()
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        await core_imports.record(
            session,
            key=key,
            kind=kind,
            rows=table.rows,
            params={"points": False, "by_phone": True},
            requested_by=1,
            language="en",
            now=datetime.now(UTC),
        )
    return read_s, time.perf_counter() - t


async def _export(sessions: object, config: Config, batch: int) -> float:
    t = time.perf_counter()
    async with sessions.begin() as session:  # type: ignore[attr-defined]
        job = await background.record_export(
            session,
            "purchases",
            key="export",
            personal=True,
            requested_by=1,
            language="en",
            now=datetime.now(UTC),
        )
        assert job is not None
    await _drain(sessions, config, batch)
    with tempfile.TemporaryFile() as file:
        async with sessions.begin() as session:  # type: ignore[attr-defined]
            async for chunk in exports.chunks(session, job.id):
                file.write(chunk.encode())
    return time.perf_counter() - t


async def run(kind: str, rows: int, customers: int, batch: int) -> Row:
    with tempfile.TemporaryDirectory() as where:
        url = await databases.new_database_url(kind, Path(where))
        engine = db.create_engine(url)
        try:
            sessions = db.create_session_factory(engine)
            await _customers(sessions, customers)
            data = _file(rows, customers)
            config = NOW_CONFIG
            read_s, record_s = await _import(sessions, data, "first")
            import_s, longest = await _drain(sessions, config, batch)
            await _import(sessions, data, "again")
            again_s, _ = await _drain(sessions, config, batch)
            export_s = await _export(sessions, config, batch)
        finally:
            await engine.dispose()
            await databases.drop_database(url)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return Row(kind, rows, read_s, record_s, import_s, longest, again_s, export_s, rss)


def _print(rows: list[Row]) -> None:
    head = (
        f"{'database':<10} {'rows':>8} {'read s':>7} {'record s':>9} {'import s':>9} {'rows/s':>8} "
        f"{'longest batch ms':>17} {'again s':>8} {'export s':>9} {'peak RSS MB':>12}"
    )
    print(head)
    print("-" * len(head))
    for r in rows:
        print(
            f"{r.database:<10} {r.rows:>8} {r.read_s:>7.2f} {r.record_s:>9.2f} {r.import_s:>9.1f} "
            f"{r.rate:>8.0f} {r.longest_batch_ms:>17.0f} {r.again_s:>8.1f} {r.export_s:>9.1f} "
            f"{r.peak_rss_mb:>12.0f}"
        )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if databases.POSTGRES_URL else [])
    results = [await run(kind, args.rows, args.customers, args.batch) for kind in kinds]
    await databases.drop_template()
    _print(results)


if __name__ == "__main__":
    asyncio.run(main())
