"""The outbox sender and the scheduler ticks.

    .venv/bin/python -m benchmarks.outbox [--scale 1.0] [--a 3000] [--b 100000] [--d 20000]
        [--customers 1000000] [--skip abcd] [--postgres URL]

(a) `a` messages through the Bot API emulator (tests/emulator) enforcing Telegram's limits (30/s global,
    1/s per chat), the sender at its default 25/s: achieved rate as a percentage of the configured
    rate, and 429s received.
(b) `b` messages, one private chat each, with the server's global limit and the sender's rate raised to
    10,000/s (out of reach, so the sender is the limit): the sender's own ceiling in one process,
    claims and records included. Three runs: SQLite with the emulator, SQLite with
    benchmarks.stub_bot_api (a fixed answer, no validation, no stored chats: what the sender can do
    when the server costs next to nothing), and PostgreSQL with the stub (with --postgres or
    ENGAGEBOT_TEST_POSTGRES_URL). Printed: messages/s over the wall clock; the sender process's CPU
    per message (its SQLite thread included, PostgreSQL's own processes not) and the rate that CPU
    allows on a core of its own (on a shared machine the wall-clock rate also measures the
    neighbours); the server's CPU per message; the sender's RSS after 10%, 50% and 100% of the
    messages and its peak.
(c) one pass of each tick (birthdays, followups, expiry, winback, purchase surveys, an empty sender
    round) over `customers` customers with nothing due, on SQLite and (with --postgres or
    ENGAGEBOT_TEST_POSTGRES_URL) PostgreSQL: benchmarks/ticks.py.
(d) `d` messages in one PostgreSQL outbox drained by two Sender processes at once (workers "one" and
    "two", as two instances would), against the stub: the combined rate, each one's share, and
    duplicates and losses counted from what the stub received (both must be 0).

Servers and senders run in their own processes (their own memory: 100,000 stored messages are not
counted in the sender's RSS); senders use a real python-telegram-bot Bot on bot.aiohttp_request with 64
sends in flight (max_in_flight) and batches of 500. --scale multiplies every count, to run smaller.
Everything prints as one table, each figure beside its ratio to the reference it is judged by.
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

from sqlalchemy import text
from telegram import Bot

from benchmarks import ticks
from benchmarks.stub_bot_api import StubBotApi
from bot.aiohttp_request import AiohttpRequest
from bot.i18n import Catalog
from jobs.sender import Sender
from storage import migrate
from storage.core import db
from storage.core.clock import SystemClock
from storage.core.config import SenderConfig
from storage.people.models import OutboxMessage
from tests import databases
from tests.databases import drop_database, new_database_url

FIRST_CHAT = 1_000_000
IN_FLIGHT = 64
TARGET = 1000.0  # messages/s: Telegram's limit for paid broadcasts


def _server_process(conn: Connection, kind: str, chats: int, limit: int) -> None:
    asyncio.run(_serve(conn, kind, chats, limit))


async def _serve(conn: Connection, kind: str, chats: int, limit: int) -> None:
    """Run the emulator or the stub until the parent says stop; then send back what it saw."""
    from tests.emulator import BotApiEmulator

    loop = asyncio.get_running_loop()
    if kind == "stub":
        async with StubBotApi() as stub:
            conn.send((stub.token, stub.base_url))
            await loop.run_in_executor(None, conn.recv)  # until the run is over
            received = stub.received
            conn.send(
                {
                    "sent": sum(received.values()),
                    "chats": len(received),
                    "duplicates": sum(count - 1 for count in received.values()),
                    "429": 0,
                    "violations": 0,
                    "cpu": _cpu_seconds(),
                }
            )
        return
    async with BotApiEmulator() as emu:
        for i in range(chats):
            emu.user(FIRST_CHAT + i, f"C{i}")
        emu.enforce_limits(global_per_second=limit, per_chat_per_second=1, per_group_per_minute=20)
        conn.send((emu.token, emu.base_url))
        await loop.run_in_executor(None, conn.recv)
        conn.send({**emu.stats, "violations": len(emu.violations), "cpu": _cpu_seconds()})


class Server:
    """The emulator or the stub in a child process, for the length of a `with`."""

    def __init__(self, kind: str, chats: int, limit: int = 10_000) -> None:
        context = multiprocessing.get_context("spawn")
        self.parent, child = context.Pipe()
        self.process = context.Process(target=_server_process, args=(child, kind, chats, limit), daemon=True)
        self.stats: dict[str, Any] = {}

    async def __aenter__(self) -> Server:
        self.process.start()
        self.token, self.base_url = await asyncio.to_thread(self.parent.recv)
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            self.parent.send("stop")
            self.stats = await asyncio.to_thread(self.parent.recv)
        finally:
            self.process.join(timeout=10)
            if self.process.is_alive():
                self.process.kill()


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


def _config(rate: float, batch: int = 500) -> SenderConfig:
    return SenderConfig(rate_per_second=rate, batch=batch, max_in_flight=IN_FLIGHT)


async def bench_send(n: int, rate: float, server: str, telegram_limit: int, database: str) -> dict[str, Any]:
    """One sender in this process drains `n` messages; `database` is "sqlite" or a PostgreSQL URL."""
    async with Server(server, n if server == "emulator" else 0, telegram_limit) as api:
        with tempfile.TemporaryDirectory() as tmp:
            if database == "sqlite":
                engine = await _fresh(Path(tmp) / "bench.db")
                url = None
            else:
                url = await new_database_url("postgres", Path(tmp))
                engine = db.create_engine(url)
            try:
                await _fill_outbox(engine, n)
                request = AiohttpRequest(connection_pool_size=2 * IN_FLIGHT)
                async with Bot(api.token, base_url=api.base_url, request=request) as bot:
                    sessions = db.create_session_factory(engine)
                    sender = Sender(
                        bot, sessions, SystemClock(), Catalog.load(), _config(rate, 500 if n > 500 else 100)
                    )
                    rss: dict[str, float] = {}
                    print(f"    sending (pid {os.getpid()}) …", flush=True)
                    started, cpu = time.perf_counter(), _cpu_seconds()
                    while await sender.drain_once():
                        for share in ("10%", "50%"):
                            if share not in rss and sender.sent >= n * int(share[:-1]) / 100:
                                rss[share] = _rss_mb()
                    seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
                    rss["100%"] = _rss_mb()
            finally:
                await engine.dispose()
                if url is not None:
                    await drop_database(url)
    sent = max(sender.sent, 1)
    return {
        "sent": sender.sent,
        "seconds": seconds,
        "rate": sender.sent / seconds,
        "cpu_ms": cpu / sent * 1000,
        "server_cpu_ms": api.stats["cpu"] / sent * 1000,
        "rss": rss,
        "peak_rss": _peak_rss_mb(),
        **{key: api.stats[key] for key in ("429", "sent", "violations")},
    }


def _sender_process(conn: Connection, url: str, token: str, base_url: str, worker: str, rate: float) -> None:
    asyncio.run(_run_sender(conn, url, token, base_url, worker, rate))


async def _run_sender(
    conn: Connection, url: str, token: str, base_url: str, worker: str, rate: float
) -> None:
    """One instance for (d): ready, wait for go, drain until nothing is left to claim, report."""
    engine = db.create_engine(url)
    try:
        request = AiohttpRequest(connection_pool_size=2 * IN_FLIGHT)
        async with Bot(token, base_url=base_url, request=request) as bot:
            sender = Sender(
                bot,
                db.create_session_factory(engine),
                SystemClock(),
                Catalog.load(),
                _config(rate),
                worker=worker,
            )
            conn.send("ready")
            await asyncio.to_thread(conn.recv)
            started, cpu = time.monotonic(), _cpu_seconds()
            while await sender.drain_once():
                pass
            ended = time.monotonic()
        conn.send({"sent": sender.sent, "started": started, "ended": ended, "cpu": _cpu_seconds() - cpu})
    finally:
        await engine.dispose()


async def bench_two_senders(n: int, rate: float) -> dict[str, Any]:
    url = await new_database_url("postgres", Path("."))
    try:
        engine = db.create_engine(url)
        await _fill_outbox(engine, n)
        async with Server("stub", 0) as api:
            context = multiprocessing.get_context("spawn")
            pipes, processes = [], []
            for worker in ("one", "two"):
                parent, child = context.Pipe()
                process = context.Process(
                    target=_sender_process,
                    args=(child, url, api.token, api.base_url, worker, rate),
                    daemon=True,
                )
                process.start()
                pipes.append(parent)
                processes.append(process)
            for parent in pipes:
                assert await asyncio.to_thread(parent.recv) == "ready"
            for parent in pipes:
                parent.send("go")
            results = [await asyncio.to_thread(parent.recv) for parent in pipes]
            for process in processes:
                process.join(timeout=10)
        async with engine.connect() as conn:
            statuses = dict(
                (await conn.execute(text("SELECT status, count(*) FROM outbox GROUP BY status"))).all()
            )
        await engine.dispose()
    finally:
        await drop_database(url)
    seconds = max(r["ended"] for r in results) - min(r["started"] for r in results)
    return {
        "rate": sum(r["sent"] for r in results) / seconds,
        "seconds": seconds,
        "shares": [r["sent"] for r in results],
        "cpu_ms": [r["cpu"] / max(r["sent"], 1) * 1000 for r in results],
        "received": api.stats["sent"],
        "duplicates": api.stats["duplicates"],
        "lost": n - api.stats["chats"],
        "statuses": statuses,
    }


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_mb() -> float:
    """The resident set now (ru_maxrss is only the peak)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize() / 2**20


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _b_rows(label: str, b: dict[str, Any], reference: dict[str, Any] | None) -> list[tuple[str, str, str]]:
    ceiling = 1000 / b["cpu_ms"]
    versus = f"; {b['rate'] / reference['rate']:.2f} × emulator" if reference else ""
    rss = b["rss"]
    return [
        (
            f"(b) {label}: messages/s",
            f"{b['rate']:.0f} ({b['sent']} in {b['seconds']:.1f} s)",
            f"{b['rate'] / TARGET:.2f} × 1,000/s{versus}",
        ),
        (
            f"(b) {label}: sender CPU a message",
            f"{b['cpu_ms']:.3f} ms",
            f"a core of its own: {ceiling:.0f} msg/s = {ceiling / TARGET:.2f} × 1,000/s",
        ),
        (
            f"(b) {label}: server CPU a message",
            f"{b['server_cpu_ms']:.3f} ms",
            f"{b['server_cpu_ms'] / b['cpu_ms']:.2f} × the sender's",
        ),
        (
            f"(b) {label}: sender RSS at 10% / 50% / 100%",
            f"{rss.get('10%', 0):.0f} / {rss.get('50%', 0):.0f} / {rss['100%']:.0f} MB",
            f"100% ÷ 10%: {rss['100%'] / rss.get('10%', rss['100%']):.2f}; peak {b['peak_rss']:.0f} MB",
        ),
        (f"(b) {label}: 429s, violations", f"{b['429']:.0f}, {b['violations']:.0f}", "must be 0, 0"),
    ]


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", type=float, default=1.0, help="multiplies every count")
    parser.add_argument("--a", type=int, default=3000)
    parser.add_argument("--b", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--skip", default="", help="parts to skip, e.g. 'ac'")
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    n_a, n_b, n_d, n_customers = (
        max(1, round(x * args.scale)) for x in (args.a, args.b, args.d, args.customers)
    )
    databases.POSTGRES_URL = args.postgres  # new_database_url clones from this server

    rows: list[tuple[str, str, str]] = []
    if "a" not in args.skip:
        print(f"(a) {n_a} messages, sender 25/s, emulator enforcing Telegram's 30/s …", flush=True)
        rate = SenderConfig().rate_per_second
        a = await bench_send(n_a, rate, "emulator", 30, "sqlite")
        rows += [
            ("(a) achieved rate", f"{a['rate']:.2f} msg/s", f"{a['rate'] / rate:.3f} × the configured 25/s"),
            ("(a) 429s received", f"{a['429']:.0f} ({a['sent']} sent in {a['seconds']:.1f} s)", "must be 0"),
        ]
    if "b" not in args.skip:
        runs = [("emulator", "sqlite", "SQLite, emulator"), ("stub", "sqlite", "SQLite, stub")]
        if args.postgres:
            runs.append(("stub", args.postgres, "PostgreSQL, stub"))
        emulator: dict[str, Any] | None = None
        for server, database, label in runs:
            print(f"(b) {n_b} messages, {label}, limits raised to 10,000/s …", flush=True)
            b = await bench_send(n_b, 10_000.0, server, 10_000, database)
            rows += _b_rows(label, b, emulator if server == "stub" and database == "sqlite" else None)
            emulator = emulator or b
    if "c" not in args.skip:  # benchmarks/ticks.py
        rows += [
            (key, value, "")
            for key, value in ticks.table(await ticks.run(n_customers, ticks.PASSES, args.postgres))
        ]
    if "d" not in args.skip and args.postgres:
        print(f"(d) {n_d} messages, one PostgreSQL outbox, two sender processes, stub …", flush=True)
        d = await bench_two_senders(n_d, 10_000.0)
        rows += [
            (
                "(d) two processes: messages/s together",
                f"{d['rate']:.0f} ({d['received']} received in {d['seconds']:.1f} s)",
                f"{d['rate'] / TARGET:.2f} × 1,000/s",
            ),
            (
                "(d) each one's share, CPU a message",
                " / ".join(str(share) for share in d["shares"]),
                " / ".join(f"{ms:.3f} ms" for ms in d["cpu_ms"]),
            ),
            (
                "(d) duplicates, lost (from what the stub received)",
                f"{d['duplicates']}, {d['lost']}",
                "must be 0, 0",
            ),
            ("(d) outbox afterwards", ", ".join(f"{k} {v}" for k, v in sorted(d["statuses"].items())), ""),
        ]
    elif "d" not in args.skip:
        rows.append(("(d) two processes", "skipped: needs PostgreSQL (--postgres)", ""))
    widths = [max(len(row[i]) for row in rows) for i in range(2)]
    print()
    for what, value, ratio in rows:
        print(f"{what:<{widths[0]}}  {value:<{widths[1]}}  {ratio}".rstrip())


if __name__ == "__main__":
    asyncio.run(main())
