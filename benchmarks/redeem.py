"""Redemptions per second on SQLite and PostgreSQL with 1, 10 and 100 concurrent customers, and the
cost of a /points update relative to a bare python-telegram-bot echo bot.

    python -m benchmarks.redeem [--per-customer 20] [--skip-points]

Each customer redeems in its own unit of work (session) per attempt, as the bot does per update;
PostgreSQL runs when ENGAGEBOT_TEST_POSTGRES_URL is set (scripts/postgres.sh). The /points part
reuses benchmarks.updates (the emulator round trip harness).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
from pathlib import Path

from storage.core import db
from storage.core.clock import SystemClock
from storage.core.config import Config, LoyaltyConfig
from storage.loyalty import ledger, redemptions, rewards
from storage.people import customers
from storage.people.customers import TelegramProfile
from tests.databases import drop_database, new_database_url

CONCURRENCY = (1, 10, 100)


async def bench_redeem(kind: str, tmp: Path, concurrent: int, per_customer: int) -> tuple[float, float]:
    """(redemptions/second, mean ms per redemption) for `concurrent` customers redeeming at once."""
    url = await new_database_url(kind, tmp / f"{kind}-{concurrent}")
    # SQLite takes the write lock at BEGIN: one connection, so writers queue fairly in the pool
    # rather than in SQLite's busy handler (which starves some past the busy timeout).
    pool = (
        {"pool_size": 1, "max_overflow": 0}
        if kind == "sqlite"
        else {"pool_size": min(concurrent, 20), "max_overflow": 20}
    )
    engine = db.create_engine(url, pool_timeout=300, **pool)
    sessions = db.create_session_factory(engine)
    config, now = Config(), SystemClock().now()
    try:
        async with sessions.begin() as session:
            people = [
                await customers.join(session, TelegramProfile(100_000 + i, f"C{i}"), config, now)
                for i in range(concurrent)
            ]
            for p in people:
                await ledger.credit(
                    session,
                    customer_id=p.id,
                    points=10**9,
                    kind="award",
                    reference=f"seed:{p.id}",
                    now=now,
                    config=config.loyalty,
                )
            reward = await rewards.add(session, {"title": "Coffee", "cost": "10"}, config.loyalty, now)

        async def customer_loop(person) -> list[float]:
            took = []
            for n in range(per_customer):
                started = time.perf_counter()
                async with sessions.begin() as session:
                    await redemptions.redeem(
                        session, person, reward.id, key=f"{person.id}:{n}", now=now, config=config.loyalty
                    )
                took.append(time.perf_counter() - started)
            return took

        started = time.perf_counter()
        results = await asyncio.gather(*(customer_loop(p) for p in people))
        elapsed = time.perf_counter() - started
        latencies = [t for r in results for t in r]
        return len(latencies) / elapsed, 1000 * sum(latencies) / len(latencies)
    finally:
        await engine.dispose()
        await drop_database(url)


async def bench_points(tmp: Path, n: int, concurrency: int) -> None:
    """/points round trips against the echo bot, through the emulator (benchmarks.updates)."""
    from benchmarks.updates import _measure, bench_echo
    from tests.e2e.harness import Harness
    from tests.emulator import BotApiEmulator

    async with BotApiEmulator() as emu:
        echo = await bench_echo(emu, n, concurrency)
    async with BotApiEmulator() as emu:
        harness = Harness(emu, await new_database_url("sqlite", tmp / "points"), SystemClock())  # type: ignore[arg-type]
        await harness.start()
        emu.settle = None
        try:

            async def member(i: int):
                user = harness.customer(40_000 + i, f"Member{i}", username=f"member{i}")
                emu.settle = harness.app.metrics.wait_processed
                await user.send("/start")
                await user.press(harness.t("en", "onboarding.accept"))
                # A history worth showing (and a "More" button), written directly: no notifications
                # queued, so the outbox sender does not compete with the measured round trips.
                async with harness.sessions.begin() as session:
                    customer = await customers.get(session, 40_000 + i)
                    for k in range(12):
                        await ledger.credit(
                            session,
                            customer_id=customer.id,
                            points=k + 1,
                            kind="award",
                            reference=f"bench:{i}:{k}",
                            now=SystemClock().now(),
                            config=LoyaltyConfig(),
                        )
                emu.settle = None
                return user

            points = await _measure("engagebot /points (member)", member, "/points", n, concurrency)
        finally:
            await harness.stop()
    print()
    print(f"{'scenario':32} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'updates/s':>10} {'vs echo':>8}")
    for r in (echo, points):
        ratio = r.throughput / echo.throughput
        print(f"{r.name:32} {r.n:>5} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.throughput:>10.1f} {ratio:>7.2f}x")


async def main(per_customer: int, skip_points: bool, n: int, concurrency: int) -> None:
    kinds = ["sqlite"] + (["postgres"] if os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL") else [])
    with tempfile.TemporaryDirectory() as tmp:
        print(f"{'database':10} {'customers':>9} {'redemptions':>11} {'redeem/s':>10} {'mean ms':>9}")
        for kind in kinds:
            for concurrent in CONCURRENCY:
                (Path(tmp) / f"{kind}-{concurrent}").mkdir()
                rate, mean_ms = await bench_redeem(kind, Path(tmp), concurrent, per_customer)
                total = concurrent * per_customer
                print(f"{kind:10} {concurrent:>9} {total:>11} {rate:>10.1f} {mean_ms:>9.2f}")
        if not skip_points:
            (Path(tmp) / "points").mkdir()
            await bench_points(Path(tmp), n, concurrency)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-customer", type=int, default=20, help="redemptions per customer")
    parser.add_argument("--skip-points", action="store_true", help="only the storage part")
    parser.add_argument("--n", type=int, default=200, help="/points round trips")
    parser.add_argument("--concurrency", type=int, default=20, help="users sending /points at once")
    args = parser.parse_args()
    asyncio.run(main(args.per_customer, args.skip_points, args.n, args.concurrency))
