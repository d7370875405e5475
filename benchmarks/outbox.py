"""The outbox sender and the scheduler ticks.

    /tmp/venv/bin/python -m benchmarks.outbox [--a 3000] [--b 100000] [--customers 1000000] [--postgres URL]

(a) `a` messages at the default limit (SEND_RATE 25/s; Telegram's is about 30/s): achieved rate as a
    percentage of the configured rate, and 429s received.
(b) `b` messages with the limit raised to 2,000/s: the sender's own ceiling (messages/s, claims and
    records in SQLite included) and the process's peak RSS.
(c) one pass of each tick (birthdays, callbacks, an empty sender round) over `customers` customers with
    nothing due, on SQLite and (with --postgres or ENGAGEBOT_TEST_POSTGRES_URL) PostgreSQL.

(a) and (b) send to an in-process fake Bot (tests/jobs/fakes.py) that answers 429 when more than 30
messages arrive in a second, because the Bot API emulator (tests/emulator) has not landed yet; the
emulator-based variant (emu.enforce_limits) is to be wired when it does. Scale counts down with the
flags on a small machine; the defaults are the specified sizes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import tempfile
import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bot.i18n import Catalog
from jobs import birthdays, callbacks
from jobs.sender import Sender
from storage import db, migrate
from storage.clock import FakeClock, SystemClock
from storage.config import Config, SenderConfig
from storage.models import OutboxMessage
from tests.jobs.fakes import FakeMessage, retry_after

CONFIG = Config(staff_chat_id=-100, staff_timezone="UTC")


class LimitedBot:
    """Answers like Telegram under load: 429 (retry_after 1) beyond `limit` messages in any second."""

    def __init__(self, limit: float | None) -> None:
        self.limit = limit
        self.window: deque[float] = deque()
        self.sent = 0
        self.refused = 0

    async def send_message(self, chat_id: int, text: str, reply_markup: Any = None, **_: Any) -> FakeMessage:
        now = time.monotonic()
        await asyncio.sleep(0)
        if self.limit is not None:
            while self.window and self.window[0] <= now - 1.0:
                self.window.popleft()
            if len(self.window) >= self.limit:
                self.refused += 1
                raise retry_after(1)
            self.window.append(now)
        self.sent += 1
        return FakeMessage(self.sent)


async def _fresh(path: Path) -> Any:
    url = f"sqlite+aiosqlite:///{path}"
    engine = db.create_engine(url)
    await migrate.upgrade(engine)
    return engine


async def _fill_outbox(engine: Any, n: int) -> None:
    now = datetime.now(UTC) - timedelta(seconds=1)
    rows = [
        {
            "dedupe_key": f"bench:{i}",
            "chat_id": 1_000_000 + i,
            "template": "common.error",
            "params": {},
            "language": "en",
            "status": "queued",
            "not_before": now,
            "attempts": 0,
            "created_at": now,
        }
        for i in range(n)
    ]
    async with engine.begin() as conn:
        for start in range(0, n, 10_000):
            await conn.execute(OutboxMessage.__table__.insert(), rows[start : start + 10_000])


async def bench_send(n: int, rate: float, telegram_limit: float | None, batch: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as tmp:
        engine = await _fresh(Path(tmp) / "bench.db")
        await _fill_outbox(engine, n)
        bot = LimitedBot(telegram_limit)
        config = SenderConfig(rate_per_second=rate, batch=batch, max_in_flight=64)
        sender = Sender(bot, db.create_session_factory(engine), SystemClock(), Catalog.load(), config)  # type: ignore[arg-type]
        started = time.perf_counter()
        while await sender.drain_once():
            pass
        seconds = time.perf_counter() - started
        await engine.dispose()
    return {"sent": bot.sent, "seconds": seconds, "rate": bot.sent / seconds, "429s": bot.refused}


async def _fill_customers(url: str, n: int) -> None:
    """Bulk insert: COPY on PostgreSQL, executemany in 50k chunks on SQLite; birthdays spread over
    the year, none due now (next_birthday_at in the future), a few open tasks not yet due."""
    now = datetime.now(UTC)

    def row(i: int) -> tuple[Any, ...]:
        month, day = i % 12 + 1, i % 28 + 1
        return (
            1_000_000_000 + i,
            f"C{i}",
            "en",
            "UTC",
            month,
            day,
            now,
            now,
            now + timedelta(days=1 + i % 360),
        )

    columns = [
        "telegram_id", "first_name", "language", "timezone", "birth_month", "birth_day",
        "consent_at", "created_at", "next_birthday_at",
    ]  # fmt: skip
    engine = db.create_engine(url)
    try:
        if db.is_sqlite(url):
            async with engine.begin() as conn:
                placeholders = ", ".join("?" for _ in columns)
                sql = f"INSERT INTO customers ({', '.join(columns)}, updated_at) VALUES ({placeholders}, ?)"
                raw = await conn.get_raw_connection()
                driver = raw.driver_connection
                for start in range(0, n, 50_000):
                    chunk = [(*row(i)[:8], row(i)[8].replace(tzinfo=None), now.replace(tzinfo=None))
                             for i in range(start, min(n, start + 50_000))]  # fmt: skip
                    chunk = [
                        (*r[:6], r[6].replace(tzinfo=None), r[7].replace(tzinfo=None), *r[8:]) for r in chunk
                    ]
                    await driver.executemany(sql, chunk)
        else:
            async with engine.connect() as conn:
                raw = await conn.get_raw_connection()
                records = ((*row(i), now) for i in range(n))
                await raw.driver_connection.copy_records_to_table(
                    "customers", records=records, columns=[*columns, "updated_at"]
                )
                await conn.commit()
            async with engine.connect() as conn:
                await conn.execute(text("ANALYZE customers"))
                await conn.commit()
    finally:
        await engine.dispose()


async def bench_ticks(url: str, n: int) -> dict[str, float]:
    engine = db.create_engine(url)
    await migrate.upgrade(engine)
    await engine.dispose()
    started = time.perf_counter()
    await _fill_customers(url, n)
    fill = time.perf_counter() - started
    engine = db.create_engine(url)
    sessions = db.create_session_factory(engine)
    clock = FakeClock(datetime.now(UTC))
    sender = Sender(LimitedBot(None), sessions, clock, Catalog.load())  # type: ignore[arg-type]
    timings: dict[str, float] = {"fill_s": fill}
    for name, tick in (
        ("birthdays", lambda: birthdays.tick(sessions, clock, CONFIG)),
        ("callbacks", lambda: callbacks.tick(sessions, clock, CONFIG)),
        ("sender", sender.drain_once),
    ):
        await tick()  # warm
        samples = []
        for _ in range(5):
            t0 = time.perf_counter()
            assert not await tick()
            samples.append(time.perf_counter() - t0)
        timings[name] = min(samples) * 1000
    async with sessions.begin() as session:
        count = await session.scalar(text("SELECT count(*) FROM customers"))
    assert count == n, count
    await engine.dispose()
    return timings


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--a", type=int, default=3000)
    parser.add_argument("--b", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()

    print(f"(a) {args.a} messages, configured 25/s, fake Telegram refusing beyond 30/s …", flush=True)
    a = await bench_send(args.a, 25.0, 30.0, batch=100)
    print(f"(b) {args.b} messages, limit raised to 2000/s …", flush=True)
    rss_before = _peak_rss_mb()
    b = await bench_send(args.b, 2000.0, None, batch=500)
    rss_b = _peak_rss_mb()
    rows = [
        ("(a) achieved rate", f"{a['rate']:.2f} msg/s = {a['rate'] / 25 * 100:.1f}% of 25/s"),
        ("(a) 429s received", f"{a['429s']:.0f} ({a['sent']:.0f} sent in {a['seconds']:.1f} s)"),
        (
            "(b) sender ceiling",
            f"{b['rate']:.0f} msg/s ({b['sent']:.0f} in {b['seconds']:.1f} s, limit 2000/s)",
        ),
        ("(b) peak RSS", f"{rss_b:.0f} MB (before (b): {rss_before:.0f} MB)"),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        print(f"(c) {args.customers} customers on SQLite …", flush=True)
        c = await bench_ticks(f"sqlite+aiosqlite:///{Path(tmp) / 'ticks.db'}", args.customers)
        rows.append(("(c) SQLite fill", f"{c['fill_s']:.1f} s"))
        for name in ("birthdays", "callbacks", "sender"):
            rows.append((f"(c) SQLite {name} tick, nothing due", f"{c[name]:.2f} ms"))
    if args.postgres:
        from tests.databases import drop_database, new_database_url

        print(f"(c) {args.customers} customers on PostgreSQL …", flush=True)
        url = await new_database_url("postgres", Path("."))
        try:
            c = await bench_ticks(url, args.customers)
        finally:
            await drop_database(url)
        rows.append(("(c) PostgreSQL fill", f"{c['fill_s']:.1f} s"))
        for name in ("birthdays", "callbacks", "sender"):
            rows.append((f"(c) PostgreSQL {name} tick, nothing due", f"{c[name]:.2f} ms"))
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
