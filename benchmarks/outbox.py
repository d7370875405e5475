"""The outbox sender and the scheduler ticks.

    /tmp/venv/bin/python -m benchmarks.outbox [--scale 1.0] [--a 3000] [--b 100000] [--customers 1000000]
        [--postgres URL]

(a) `a` messages through the Bot API emulator (tests/emulator) enforcing Telegram's limits (30/s global,
    1/s per chat), the sender at its default 25/s: achieved rate as a percentage of the configured
    rate, and 429s received.
(b) `b` messages with the emulator's limit raised to 2,000/s and the sender's rate raised to match:
    the sender's own ceiling (messages/s over HTTP, claims and records in SQLite included) and the
    process's peak RSS.
(c) one pass of each tick (birthdays, followups, expiry, winback, purchase surveys, an empty sender
    round) over `customers` customers with nothing due, on SQLite and (with --postgres or
    ENGAGEBOT_TEST_POSTGRES_URL) PostgreSQL: benchmarks/ticks.py.

The emulator runs in a child process (its own core, its own memory: 100,000 stored messages are not
counted in the sender's RSS); the sender talks to it with a real python-telegram-bot Bot, one private
chat per message. --scale multiplies every count, to run smaller on a small machine.

On the 2-core development machine the sender process is CPU-bound at ~230-280 msg/s in (b) (the
emulator child uses ~16% of a core), so the full 100,000 would take ~7 min; the recorded run used
`--b 20000` (85 s).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import resource
import tempfile
import time
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from telegram import Bot
from telegram.request import HTTPXRequest

from benchmarks import ticks
from bot.i18n import Catalog
from jobs.sender import Sender
from storage import migrate
from storage.core import db
from storage.core.clock import SystemClock
from storage.core.config import SenderConfig
from storage.people.models import OutboxMessage

FIRST_CHAT = 1_000_000


def _emulator_process(conn: Connection, chats: int, limit: int) -> None:
    asyncio.run(_serve_emulator(conn, chats, limit))


async def _serve_emulator(conn: Connection, chats: int, limit: int) -> None:
    from tests.emulator import BotApiEmulator

    async with BotApiEmulator() as emu:
        for i in range(chats):
            emu.user(FIRST_CHAT + i, f"C{i}")
        emu.enforce_limits(global_per_second=limit, per_chat_per_second=1, per_group_per_minute=20)
        conn.send((emu.token, emu.base_url))
        await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until the run is over
        conn.send({**emu.stats, "violations": len(emu.violations)})


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
            "chat_id": FIRST_CHAT + i,
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


async def bench_send(n: int, rate: float, telegram_limit: int, batch: int) -> dict[str, float]:
    parent, child = multiprocessing.get_context("spawn").Pipe()
    emulator = multiprocessing.get_context("spawn").Process(
        target=_emulator_process, args=(child, n, telegram_limit), daemon=True
    )
    emulator.start()
    try:
        token, base_url = await asyncio.to_thread(parent.recv)
        with tempfile.TemporaryDirectory() as tmp:
            engine = await _fresh(Path(tmp) / "bench.db")
            await _fill_outbox(engine, n)
            config = SenderConfig(rate_per_second=rate, batch=batch, max_in_flight=64)
            request = HTTPXRequest(connection_pool_size=128)
            async with Bot(token, base_url=base_url, request=request) as bot:
                sender = Sender(bot, db.create_session_factory(engine), SystemClock(), Catalog.load(), config)
                started = time.perf_counter()
                while await sender.drain_once():
                    pass
                seconds = time.perf_counter() - started
            await engine.dispose()
        parent.send("stop")
        stats = await asyncio.to_thread(parent.recv)
    finally:
        emulator.join(timeout=10)
        if emulator.is_alive():
            emulator.kill()
    return {
        "sent": sender.sent,
        "seconds": seconds,
        "rate": sender.sent / seconds,
        "429s": stats["429"],
        "accepted": stats["sent"],
        "violations": stats["violations"],
    }


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies --a, --b and --customers")
    parser.add_argument("--a", type=int, default=3000)
    parser.add_argument("--b", type=int, default=100_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'bc'")
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    n_a, n_b, n_customers = (max(1, round(x * args.scale)) for x in (args.a, args.b, args.customers))

    rows: list[tuple[str, str]] = []
    if "a" not in args.skip:
        print(f"(a) {n_a} messages, sender 25/s, emulator enforcing Telegram's 30/s …", flush=True)
        a = await bench_send(n_a, SenderConfig().rate_per_second, 30, batch=100)
        rows += [
            ("(a) achieved rate", f"{a['rate']:.2f} msg/s = {a['rate'] / 25 * 100:.1f}% of 25/s"),
            ("(a) 429s received", f"{a['429s']:.0f} ({a['sent']:.0f} sent in {a['seconds']:.1f} s)"),
        ]
    if "b" not in args.skip:
        print(f"(b) {n_b} messages, emulator limit and sender rate raised to 2000/s …", flush=True)
        rss_before = _peak_rss_mb()
        b = await bench_send(n_b, 2000.0, 2000, batch=500)
        rss_b = _peak_rss_mb()
        rows += [
            (
                "(b) sender ceiling",
                f"{b['rate']:.0f} msg/s ({b['sent']:.0f} in {b['seconds']:.1f} s, limit 2000/s)",
            ),
            ("(b) 429s received", f"{b['429s']:.0f}"),
            ("(b) peak RSS", f"{rss_b:.0f} MB (before (b): {rss_before:.0f} MB)"),
        ]
    if "c" not in args.skip:  # benchmarks/ticks.py
        rows += ticks.table(await ticks.run(n_customers, ticks.PASSES, args.postgres))
    width = max(len(k) for k, _ in rows)
    print()
    for key, value in rows:
        print(f"{key:<{width}}  {value}")


if __name__ == "__main__":
    asyncio.run(main())
