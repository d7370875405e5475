"""Scoring every customer (storage.insight.scoring): 100,000 customers with 1,000,000 purchases over two
years, on SQLite and PostgreSQL. One full run as the nightly tick does it: the population's histories
read (one GROUP BY over every purchase), the statistics computed (quintiles, pyramid, the BG/NBD and
Gamma-Gamma fits), then every customer scored in batches of one transaction each. Prints the phases'
times, the batches' median and longest transaction, what a one-row write and a one-row read of an
update wait meanwhile (probes every 20 ms through the bot's write and read engines), and the process's
peak RSS (getrusage), each database in a fresh process so one's peak does not hide the other's.

    .venv/bin/python -m benchmarks.insight [--customers 100000] [--purchases 1000000] [--batch 1000]

SQLite always; PostgreSQL too when ENGAGEBOT_TEST_POSTGRES_URL is set (scripts/postgres.sh).
(Importing a CSV is measured apart: the import's benchmark.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import migrate
from storage.core import db
from storage.core.config import Config, InsightConfig
from storage.insight import scoring
from storage.insight.models import CustomerScore
from storage.people.models import Customer
from tests import bulk

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
# Purchase i: the first n one per customer (everybody bought once), the rest drawn so that low ids buy
# more often (ids up to n/4 from all four classes of i, up to n/2 from three, …); on a day within the
# last two years, 5 to 304 a purchase.
PURCHASES = {
    "id": "i",
    "customer_id": "CASE WHEN i <= {n} THEN i "
    "ELSE 1 + (CAST(i AS BIGINT) * 7919) % ({n} / 4 * (1 + i % 4)) END",
    "amount": "5 + (i * 13) % 300",
    "points": "0",
    "reference": "'bench-purchase:' || i",
    "created_at": "{at:-(1 + (i * 37) % 729)}",
}


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


async def seed(engine: AsyncEngine, customers: int, purchases: int) -> None:
    """The customers (tests/bulk.py's columns) and the purchases, one INSERT … SELECT each."""
    dialect = engine.dialect.name
    with_clause, from_clause, at = bulk._dialect_sql(dialect)
    stamp: Any = NOW
    async with engine.begin() as conn:
        if dialect == "sqlite":
            stamp = NOW.strftime("%Y-%m-%d %H:%M:%S")
            for statement in bulk._DAYS:
                await conn.execute(text(statement), {"now": stamp})
        for table, columns, n in (
            ("customers", bulk.TABLES["customers"], customers),
            ("purchases", PURCHASES, purchases),
        ):
            values = ", ".join(
                bulk._expression(e.replace("{n}", str(customers)), at) for e in columns.values()
            )
            await conn.execute(
                text(
                    f"{with_clause}INSERT INTO {table} ({', '.join(columns)}) SELECT {values} {from_clause}"
                ),
                {"n": n, "now": stamp},
            )
        if dialect == "sqlite":
            await conn.execute(text("DROP TABLE bulk_days"))
        else:
            for table in ("customers", "purchases"):
                sequence = f"pg_get_serial_sequence('{table}', 'id')"
                await conn.execute(text(f"SELECT setval({sequence}, (SELECT max(id) FROM {table}))"))
    if dialect == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def probe(
    sessions: async_sessionmaker[AsyncSession], customers: int, write: bool, stop: asyncio.Event
) -> list[float]:
    """What an update meanwhile waits: a one-row write (a customer's last seen, as the seen tick writes
    it) or read (as /points reads), every 20 ms until `stop`; the round trips in ms."""
    samples, k = [], 0
    while not stop.is_set():
        k += 1
        customer = 1 + (k * 7919) % customers
        begun = time.perf_counter()
        async with sessions.begin() as session:
            if write:
                await session.execute(
                    update(Customer).where(Customer.id == customer).values(last_seen_at=NOW)
                )
            else:
                await session.scalar(select(Customer.first_name).where(Customer.id == customer))
        samples.append((time.perf_counter() - begun) * 1000)
        await asyncio.sleep(0.02)
    return samples


async def bench(url: str, customers: int, purchases: int, batch: int) -> dict[str, float]:
    engine = db.create_engine(url)
    read_engine = db.create_read_engine(url, engine)
    config = Config(insight=InsightConfig(batch=batch))
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        await seed(engine, customers, purchases)
        result = {"seed_s": time.perf_counter() - started, "rss_before_mb": _rss_mb()}
        # As the bot runs it (bot.app): writes on one engine, reads on their own (on SQLite, their own
        # connections: the population is read without the write lock, as jobs.scoring does).
        sessions, reads = db.create_session_factory(engine), db.create_session_factory(read_engine)
        stop = asyncio.Event()
        probes = [
            asyncio.create_task(probe(s, customers, w, stop)) for s, w in ((sessions, True), (reads, False))
        ]

        started = time.perf_counter()
        async with reads.begin() as session:
            buyers = await scoring.histories(session, NOW)
        result["read_s"] = time.perf_counter() - started
        started = time.perf_counter()
        stats = await asyncio.to_thread(scoring.population, buyers, config.insight)
        result["fit_s"] = time.perf_counter() - started
        result["fitted"] = float(stats.model.bgnbd is not None)
        del buyers
        async with sessions.begin() as session:
            await scoring.start_run(session, "bench", NOW, stats, config)

        batches: list[float] = []
        started = time.perf_counter()
        while True:
            begun = time.perf_counter()
            async with sessions.begin() as session:
                read, _ = await scoring.run_batch(session, NOW, config, limit=batch)
            batches.append(time.perf_counter() - begun)
            if read < batch:
                break
        result["batches_s"] = time.perf_counter() - started
        stop.set()
        writes, reads_ms = await asyncio.gather(*probes)
        result["batch_median_ms"] = statistics.median(batches) * 1000
        result["batch_max_ms"] = max(batches) * 1000
        result["total_s"] = result["read_s"] + result["fit_s"] + result["batches_s"]
        result["rss_peak_mb"] = _rss_mb()
        for name, samples in (("write", writes), ("read", reads_ms)):
            result[f"{name}_median_ms"] = statistics.median(samples)
            result[f"{name}_p99_ms"] = statistics.quantiles(samples, n=100, method="inclusive")[98]
            result[f"{name}_max_ms"] = max(samples)
        async with sessions.begin() as session:
            result["scored"] = await session.scalar(select(func.count()).select_from(CustomerScore)) or 0
        return result
    finally:
        await read_engine.dispose()
        await engine.dispose()


async def one(kind: str, customers: int, purchases: int, batch: int) -> dict[str, float]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory() as tmp:
            return await bench(f"sqlite+aiosqlite:///{Path(tmp) / 'insight.db'}", customers, purchases, batch)
    from tests import databases

    url = await databases.new_database_url("postgres", Path("."))
    try:
        return await bench(url, customers, purchases, batch)
    finally:
        await databases.drop_database(url)
        await databases.drop_template()


ROWS = (
    ("seeding the database (s)", "seed_s", "{:.1f}"),
    ("read every buyer's history (s)", "read_s", "{:.2f}"),
    ("statistics: quintiles, pyramid, fits (s)", "fit_s", "{:.2f}"),
    ("BG/NBD fitted (1) or heuristic (0)", "fitted", "{:.0f}"),
    ("score everyone in batches (s)", "batches_s", "{:.2f}"),
    ("a full run (s)", "total_s", "{:.2f}"),
    ("batch transaction, median (ms)", "batch_median_ms", "{:.0f}"),
    ("batch transaction, longest (ms)", "batch_max_ms", "{:.0f}"),
    ("customers scored (buyers)", "scored", "{:.0f}"),
    ("a write meanwhile: median / p99 / max (ms)", "write", "ms3"),
    ("a read meanwhile: median / p99 / max (ms)", "read", "ms3"),
    ("RSS after seeding (MB)", "rss_before_mb", "{:.0f}"),
    ("peak RSS (MB)", "rss_peak_mb", "{:.0f}"),
)


def print_table(results: dict[str, dict[str, float]], customers: int, purchases: int, batch: int) -> None:
    kinds = [k for k in DATABASES if k in results]
    title = f"scoring {customers:,} customers / {purchases:,} purchases, batches of {batch}"
    width = max(len(label) for label, _, _ in ROWS)
    print(f"\n{title:<{width}}" + "".join(f"{DATABASES[k]:>16}" for k in kinds))
    for label, key, fmt in ROWS:
        if fmt == "ms3":
            cells = [
                f"{results[k][key + '_median_ms']:.0f} / {results[k][key + '_p99_ms']:.0f} / "
                f"{results[k][key + '_max_ms']:.0f}"
                for k in kinds
            ]
        else:
            cells = [fmt.format(results[k][key]) for k in kinds]
        print(f"{label:<{width}}" + "".join(f"{cell:>16}" for cell in cells))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--purchases", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=InsightConfig().batch)
    parser.add_argument("--only", choices=list(DATABASES), help=argparse.SUPPRESS)  # one database, JSON out
    args = parser.parse_args()
    if args.only:
        print(json.dumps(asyncio.run(one(args.only, args.customers, args.purchases, args.batch))))
        return
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL") else [])
    results = {}
    for kind in kinds:
        print(f"{DATABASES[kind]} …", flush=True)
        out = subprocess.run(
            [
                sys.executable,
                "-m",
                "benchmarks.insight",
                "--only",
                kind,
                "--customers",
                str(args.customers),
                "--purchases",
                str(args.purchases),
                "--batch",
                str(args.batch),
            ],
            check=True,
            stdout=subprocess.PIPE,
            text=True,
        )
        results[kind] = json.loads(out.stdout.strip().splitlines()[-1])
    print_table(results, args.customers, args.purchases, args.batch)


if __name__ == "__main__":
    main()
