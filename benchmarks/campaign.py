"""A campaign to 100,000 customers: its preview, then its fan-out as the bulk tick runs it.

    .venv/bin/python -m benchmarks.campaign [--customers 100000] [--postgres URL]

Over a quiet business (tests/bulk.py: customers with purchases, sent messages, a preference each, some
blocked), on SQLite and (with --postgres or ENGAGEBOT_TEST_POSTGRES_URL) PostgreSQL: the preview's
counting (audience "all", hold-out 10%); then Confirm and the batches (BULK_BATCH customers each, one
transaction) until the job is done. "first send" is the time from Confirm until the first outbox row is
committed (what the sender can take from then on); rows/s counts the outbox and campaign_members rows
written; peak RSS is the process's maximum resident set size so far (seeding included).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from storage import background, migrate
from storage.campaigns import drafts, fanout
from storage.campaigns.models import CampaignMember
from storage.core import bulk as bulk_jobs
from storage.core import db
from storage.core.config import Config
from storage.loyalty import rewards
from storage.people.models import Customer, OutboxMessage
from tests import bulk

CONFIG = Config()
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


async def bench(url: str, n: int) -> dict[str, float]:
    engine = db.create_engine(url)
    try:
        await migrate.upgrade(engine)
        await bulk.seed_quiet_business(engine, n, NOW)
        sessions = db.create_session_factory(engine)
        async with sessions.begin() as session:
            await rewards.add(session, {"title": "Coffee", "cost": "50"}, CONFIG.loyalty, NOW)
            campaign = await drafts.create(
                session,
                drafts.parse("bench | all | <b>Spring</b> sale | 春季促销 | offer Coffee"),
                created_by=1,
                now=NOW,
                holdout_percent=CONFIG.contact.holdout_percent,
            )
        started = time.perf_counter()
        async with sessions.begin() as session:
            ids = list(await session.scalars(select(Customer.id).order_by(Customer.id)))
            counts = await fanout.preview(session, campaign, ids, NOW, CONFIG)
        preview_s = time.perf_counter() - started
        started = time.perf_counter()
        async with sessions.begin() as session:
            campaign = await drafts.named(session, "bench")
            await fanout.start(
                session,
                campaign,
                requested_by=1,
                language="en",
                now=NOW,
                total=len(ids),
                chat_id=None,
                message_id=None,
            )
        first_send = None
        batches = 0
        while True:
            async with sessions.begin() as session:
                _, job = await background.run_batch(session, NOW, CONFIG, limit=CONFIG.bulk.batch)
            batches += 1
            if first_send is None and job is not None and job.queued:
                first_send = time.perf_counter() - started
            if job is None or job.state == bulk_jobs.DONE:
                break
        fan_out_s = time.perf_counter() - started
        async with sessions.begin() as session:
            queued = await session.scalar(
                select(func.count()).select_from(OutboxMessage).where(OutboxMessage.bulk_job_id.is_not(None))
            )
            members = await session.scalar(select(func.count()).select_from(CampaignMember))
        return {
            "audience": counts["audience"],
            "sent": counts[fanout.SENT],
            "preview_ms": preview_s * 1000,
            "first_send_ms": (first_send or fan_out_s) * 1000,
            "fan_out_s": fan_out_s,
            "batches": batches,
            "rows_per_s": ((queued or 0) + (members or 0)) / fan_out_s,
            "queued": queued or 0,
            "peak_rss_mb": _rss_mb(),
        }
    finally:
        await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL"))
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        results["SQLite"] = await bench(f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}", args.customers)
    if args.postgres:
        from tests import databases

        url = await databases.new_database_url("postgres", None)
        try:
            results["PostgreSQL"] = await bench(url, args.customers)
        finally:
            await databases.drop_database(url)
    rows = [
        ("audience", "{:,.0f}"),
        ("sent", "{:,.0f}"),
        ("preview_ms", "{:,.0f}"),
        ("first_send_ms", "{:,.0f}"),
        ("fan_out_s", "{:,.1f}"),
        ("batches", "{:,.0f}"),
        ("rows_per_s", "{:,.0f}"),
        ("peak_rss_mb", "{:,.0f}"),
    ]
    print(f"campaign to {args.customers:,} customers (BULK_BATCH={CONFIG.bulk.batch})")
    print(f"{'':16}" + "".join(f"{name:>14}" for name in results))
    for key, fmt in rows:
        print(f"{key:16}" + "".join(f"{fmt.format(r[key]):>14}" for r in results.values()))


if __name__ == "__main__":
    asyncio.run(main())
