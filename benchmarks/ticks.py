"""Every scheduler tick with nothing due, over a million customers (part (c) of benchmarks/outbox.py).

    .venv/bin/python -m benchmarks.ticks [--customers 1000000] [--passes 9] [--postgres URL]
        [--save FILE] [--baseline FILE] [--plans]

One pass of each tick (birthdays, followups, expiry, winback, purchase_surveys, and an empty round of
the sender) over a quiet business (tests/bulk.py: `customers` customers with purchases, points, lots,
follow-ups and sent messages, nothing due), on SQLite and (with --postgres or
ENGAGEBOT_TEST_POSTGRES_URL) PostgreSQL: the median of `passes` passes after one to warm up, in ms.
--save writes the table as JSON; --baseline reads one saved earlier (say, on main) and prints it beside
this run. --plans prints the plan of every SELECT a pass sends.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.core import db
from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.people.models import Customer
from tests import bulk, plans

CONFIG = Config(staff_chat_id=-100, staff_timezone="UTC")
DATABASES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
# A fixed moment (a Tuesday, past the staff digest's hour), so every run does the same work.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
PASSES = 9

Results = dict[str, dict[str, float]]  # database -> tick (and "seed_s") -> ms per pass


async def _print_plans(engine: AsyncEngine, tick: str, sent: list[plans.Statement]) -> None:
    """The plans of a pass's statements; PostgreSQL's custom and generic ones."""
    for generic in [False, True] if engine.dialect.name == "postgresql" else [False]:
        explained = await plans.explain(engine, sent, generic=generic)
        label = " (generic plans)" if generic else ""
        print(f"--- {tick} on {engine.dialect.name}{label}\n{plans.describe(explained)}")


async def bench(url: str, n: int, passes: int, show_plans: bool = False) -> dict[str, float]:
    engine = db.create_engine(url)
    try:
        await migrate.upgrade(engine)
        started = time.perf_counter()
        await bulk.seed_quiet_business(engine, n, NOW)
        timings = {"seed_s": time.perf_counter() - started}
        sessions = db.create_session_factory(engine)
        async with sessions.begin() as session:
            assert await session.scalar(select(func.count()).select_from(Customer)) == n
        clock = FakeClock(NOW)
        for name, tick in bulk.ticks(sessions, clock, CONFIG).items():
            # Warm (caches, and the day's staff digest: queued by birthdays, sent by the sender); its
            # statements are the ones --plans explains (the digest's query included).
            with plans.recorded(engine) as sent:
                await tick()
            samples = []
            for _ in range(passes):
                started = time.perf_counter()
                result = await tick()
                samples.append(time.perf_counter() - started)
                assert result == bulk.IDLE[name], (name, result)
            timings[name] = statistics.median(samples) * 1000
            if show_plans:
                await _print_plans(engine, name, sent)
        return timings
    finally:
        await engine.dispose()


async def run(n: int, passes: int, postgres_url: str, show_plans: bool = False) -> Results:
    """Part (c): SQLite, then PostgreSQL when a server is given."""
    results: Results = {}
    with tempfile.TemporaryDirectory() as tmp:
        print(f"(c) {n} customers on SQLite …", flush=True)
        results["sqlite"] = await bench(
            f"sqlite+aiosqlite:///{Path(tmp) / 'ticks.db'}", n, passes, show_plans
        )
    if postgres_url:
        os.environ["ENGAGEBOT_TEST_POSTGRES_URL"] = postgres_url
        from tests import databases

        databases.POSTGRES_URL = postgres_url
        print(f"(c) {n} customers on PostgreSQL …", flush=True)
        url = await databases.new_database_url("postgres", Path("."))
        try:
            results["postgres"] = await bench(url, n, passes, show_plans)
        finally:
            await databases.drop_database(url)
            await databases.drop_template()
    return results


def table(results: Results, baseline: Results | None = None) -> list[tuple[str, str]]:
    """(row label, cells) pairs: one row per tick, one column per database, ms per pass; with a
    baseline, "before → after" in each cell."""
    kinds = [kind for kind in DATABASES if kind in results]
    before = baseline or {}
    width = 26 if before else 13

    def cell(kind: str, key: str, unit: str = "ms") -> str:
        now = f"{results[kind][key]:.2f} {unit}"
        if key in before.get(kind, {}):
            now = f"{before[kind][key]:.2f} → {now}"
        return f"{now:>{width}}"

    header = "".join(f"{DATABASES[kind] + (' before → after' if before else ''):>{width}}" for kind in kinds)
    rows = [("(c) tick, nothing due (median ms/pass)", header)]
    rows += [(f"(c) {tick}", "".join(cell(kind, tick) for kind in kinds)) for tick in bulk.IDLE]
    rows.append(("(c) seeding the database", "".join(cell(kind, "seed_s", "s") for kind in kinds)))
    return rows


def print_rows(rows: list[tuple[str, str]]) -> None:
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--passes", type=int, default=PASSES)
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    parser.add_argument("--save", type=Path, help="write the results as JSON")
    parser.add_argument("--baseline", type=Path, help="JSON saved by an earlier run, printed beside")
    parser.add_argument("--plans", action="store_true", help="print every statement's plan")
    args = parser.parse_args()
    results = await run(args.customers, args.passes, args.postgres, args.plans)
    if args.save:
        args.save.write_text(json.dumps(results, indent=2))
    baseline = json.loads(args.baseline.read_text()) if args.baseline else None
    print_rows(table(results, baseline))


if __name__ == "__main__":
    asyncio.run(main())
