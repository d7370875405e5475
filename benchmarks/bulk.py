"""A survey sent to 1,000 and 5,000 customers, through the real Application and the Bot API emulator:
how long the staff member waits for Confirm's answer and the longest transaction it holds; how fast the
invitations are fanned out (queued in the outbox; sending them is benchmarks.outbox's business) and the
longest transaction meanwhile; and the slowest /points round trip of a customer asking all along.
"fanned out s" counts from the press of Confirm until every invitation is queued.

    .venv/bin/python -m benchmarks.bulk [--sizes 1000,5000] [--batch 200]

Each size runs twice on a fresh database: quiet (the send alone: its times are the table's) and busy
(from Confirm until the invitations are queued, a customer sends /points, a read, and presses a language
button, a write, back to back: the last column).

SQLite always; PostgreSQL too when ENGAGEBOT_TEST_POSTGRES_URL is set (scripts/postgres.sh). It runs on
whichever tree it is started from: on one without bulk jobs (Confirm invites the whole audience inside
its own transaction) the fan-out is Confirm itself, which is how the "before" rows were measured:

    PYTHONPATH=<old tree> .venv/bin/python benchmarks/bulk.py
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import event, insert, select

from bot.ticks import TICKS
from storage.core.clock import SystemClock
from storage.people import consent, customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from tests import databases
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

BULK = "bulk" in TICKS  # this tree sends in the background
if BULK:
    from storage.core.config import BulkConfig
    from storage.core.models import BulkJob


@dataclass
class Row:
    database: str
    customers: int
    preview_ms: float
    confirm_ms: float
    confirm_longest_tx_ms: float
    fanout_s: float
    fanout_longest_tx_ms: float
    fanout_median_tx_ms: float
    points_worst_ms: float  # the customer's /points (a read: its own connections on SQLite)
    write_worst_ms: float  # the customer's language button (a write: needs the write lock on SQLite)
    customer_asked: int

    @property
    def rate(self) -> float:
        return self.customers / self.fanout_s if self.fanout_s else float("inf")


class Transactions:
    """Every transaction's duration on an engine (begin to commit or rollback)."""

    def __init__(self, engine: Any) -> None:
        self.open: dict[int, float] = {}
        self.done: list[tuple[float, float]] = []  # (ended at, seconds)
        sync = engine.sync_engine
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "commit", self._end)
        event.listen(sync, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        self.open[id(conn.connection)] = time.perf_counter()

    def _end(self, conn: Any) -> None:
        started = self.open.pop(id(conn.connection), None)
        if started is not None:
            now = time.perf_counter()
            self.done.append((now, now - started))

    def longest(self, since: float, until: float) -> float:
        return max(self.between(since, until), default=0.0)

    def median(self, since: float, until: float) -> float:
        durations = self.between(since, until)
        return statistics.median(durations) if durations else 0.0

    def between(self, since: float, until: float) -> list[float]:
        return [s for end, s in self.done if since <= end <= until]


async def _seed(harness: Harness, n: int) -> UserDriver:
    now = harness.clock.now()
    rows = [
        {"telegram_id": 10_000_000 + i, "first_name": f"C{i}", "language": "en", "timezone": "UTC"}
        | {"consent_at": now, "consent_version": consent.NOTICE_VERSION, "created_at": now, "updated_at": now}
        for i in range(n - 1)
    ]
    asker = harness.customer(4242, "Kim")
    async with harness.sessions.begin() as session:
        await session.execute(insert(Customer), rows)
        await customers.join(session, TelegramProfile(4242, "Kim"), harness.settings.config, now)
    return asker


async def _round_trip(person: UserDriver, text: str, chat: Any = None) -> float:
    started = time.perf_counter()
    await person.send(text, chat=chat)
    return time.perf_counter() - started


async def _customer_until(asker: UserDriver, task: asyncio.Task[Any]) -> tuple[list[float], list[float]]:
    """While `task` runs, a customer sends /points (a read) and presses a language button under its
    answer (a write), again and again; the round trips of each."""
    reads: list[float] = []
    writes: list[float] = []
    while not task.done():
        reads.append(await _round_trip(asker, "/points"))
        started = time.perf_counter()
        await asker.press_data("lang:en", asker.last())
        writes.append(time.perf_counter() - started)
    await task
    return reads, writes


async def _fan_out(harness: Harness) -> None:
    async def fanning_out() -> bool:
        async with harness.sessions.begin() as session:
            states = set(await session.scalars(select(BulkJob.state)))
        return bool(states & {"queued", "running"})

    while await fanning_out():
        await harness.tick("bulk")


async def bench(kind: str, n: int, batch: int, tmp: Path, *, busy: bool) -> Row:
    """One send to `n` customers on a fresh database. Quiet: nobody else talks to the bot (the times
    are the send's own). Busy: a customer sends /points back to back all along (their round trips)."""
    async with BotApiEmulator() as emu:
        where = tmp / f"{kind}-{n}-{'busy' if busy else 'quiet'}"
        where.mkdir()
        url = await databases.new_database_url(kind, where)
        env = {"BULK_BATCH": str(batch)} if BULK else {}
        harness = Harness(emu, url, SystemClock(), **env)  # type: ignore[arg-type]
        await harness.start()
        assert harness.app is not None
        app = harness.app
        emu.settle = lambda update_id: app.metrics.wait_processed(update_id, timeout=600)
        try:
            asker = await _seed(harness, n)
            group = harness.staff_group
            for command in ("/survey new s csat", "/survey activate s"):
                await harness.owner.send(command, chat=group)
            await _round_trip(asker, "/points")  # warm
            preview = await _round_trip(harness.owner, "/survey send s all", chat=group)
            assert f"{n} will be invited" in harness.owner.last(chat=group).text
            tx = Transactions(app.engine)

            async def confirm() -> float:
                await harness.owner.press("✅ Confirm", chat=group)
                return time.perf_counter()

            async def meanwhile(task: asyncio.Task[Any]) -> tuple[list[float], list[float]]:
                if busy:
                    return await _customer_until(asker, task)
                await task
                return [], []

            started = time.perf_counter()
            press = asyncio.create_task(confirm())
            await asyncio.sleep(0.02)  # Confirm's transaction is open
            reads, writes = await meanwhile(press)
            confirmed = press.result()
            if BULK:
                more_reads, more_writes = await meanwhile(asyncio.create_task(_fan_out(harness)))
                reads, writes = reads + more_reads, writes + more_writes
            fanned_out = time.perf_counter()
            async with harness.sessions.begin() as session:
                queued = len(list(await session.scalars(select(OutboxMessage.id))))
            assert queued == n, (queued, n)
            return Row(
                database="SQLite" if kind == "sqlite" else "PostgreSQL",
                customers=n,
                preview_ms=preview * 1000,
                confirm_ms=(confirmed - started) * 1000,
                confirm_longest_tx_ms=tx.longest(started, confirmed) * 1000,
                fanout_s=fanned_out - started,
                fanout_longest_tx_ms=tx.longest(confirmed, fanned_out) * 1000 if BULK else 0.0,
                fanout_median_tx_ms=tx.median(confirmed, fanned_out) * 1000 if BULK else 0.0,
                points_worst_ms=max(reads, default=0.0) * 1000,
                write_worst_ms=max(writes, default=0.0) * 1000,
                customer_asked=len(reads),
            )
        finally:
            await harness.stop()
            await databases.drop_database(url)


def _print(rows: list[Row], batch: int) -> None:
    mode = f"after: a bulk job, batches of {batch}" if BULK else "before: invited inside Confirm"
    print(f"\n{mode}\n")
    print(
        "| database | customers | preview ms | Confirm answered ms | longest tx in Confirm ms "
        "| fanned out s | customers/s | tx while fanning out: median / max ms "
        "| a customer meanwhile: worst /points / language button ms (rounds) |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        fan_tx = f"{r.fanout_median_tx_ms:.0f} / {r.fanout_longest_tx_ms:.0f}" if BULK else "(inside Confirm)"
        print(
            f"| {r.database} | {r.customers:,} | {r.preview_ms:.0f} | {r.confirm_ms:.0f} "
            f"| {r.confirm_longest_tx_ms:.0f} | {r.fanout_s:.2f} | {r.rate:,.0f} | {fan_tx} "
            f"| {r.points_worst_ms:.0f} / {r.write_worst_ms:.0f} ({r.customer_asked}) |"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="1000,5000")
    parser.add_argument("--batch", type=int, default=BulkConfig().batch if BULK else 0)
    args = parser.parse_args()
    kinds = ["sqlite"] + (["postgres"] if databases.POSTGRES_URL else [])
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        try:
            for kind in kinds:
                for n in (int(s) for s in args.sizes.split(",")):
                    quiet = await bench(kind, n, args.batch, Path(tmp), busy=False)
                    busy = await bench(kind, n, args.batch, Path(tmp), busy=True)
                    quiet.points_worst_ms, quiet.write_worst_ms = busy.points_worst_ms, busy.write_worst_ms
                    quiet.customer_asked = busy.customer_asked
                    rows.append(quiet)
        finally:
            await databases.drop_template()
    _print(rows, args.batch)


if __name__ == "__main__":
    asyncio.run(main())
