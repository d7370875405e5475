"""Update round trips through the Bot API emulator: engagebot's /start and /profile side by side with a
bare python-telegram-bot echo bot, in one run, on one machine.

    .venv/bin/python -m benchmarks.updates [--n 300] [--concurrency 20]

A round trip is: the emulator queues a user's message, the bot long-polls it, handles it and sends its
reply; it ends when the reply reaches the emulator. Latency percentiles come from sequential round
trips; updates/second from `concurrency` users sending at once.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from storage.core.clock import SystemClock
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver


@dataclass
class Result:
    name: str
    n: int
    p50_ms: float
    p99_ms: float
    throughput: float


async def _round_trip(user: UserDriver, text: str) -> float:
    before = len(user.messages())
    started = time.perf_counter()
    await user.send(text)
    await user.wait_for(lambda _m: len(user.messages()) > before, timeout=10)
    return time.perf_counter() - started


async def _measure(
    name: str, make_user: Callable[[int], Awaitable[UserDriver]], text: str, n: int, concurrency: int
) -> Result:
    user = await make_user(0)
    for _ in range(10):  # warm-up
        await _round_trip(user, text)
    latencies = sorted([await _round_trip(user, text) for _ in range(n)])
    users = [await make_user(i + 1) for i in range(concurrency)]
    per_user = max(1, n // concurrency)

    async def run(u: UserDriver) -> None:
        for _ in range(per_user):
            await _round_trip(u, text)

    started = time.perf_counter()
    await asyncio.gather(*(run(u) for u in users))
    elapsed = time.perf_counter() - started
    return Result(
        name,
        n,
        statistics.median(latencies) * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
        per_user * concurrency / elapsed,
    )


async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text or "")


async def bench_echo(emu: BotApiEmulator, n: int, concurrency: int) -> Result:
    app = (
        Application.builder().token(emu.token).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    )
    app.add_handler(MessageHandler(filters.TEXT, _echo))
    await app.initialize()
    await app.updater.start_polling(poll_interval=0.0, timeout=5)
    await app.start()
    try:

        async def make_user(i: int) -> UserDriver:
            return emu.user(10_000 + i, f"Echo{i}")

        return await _measure("echo bot (bare PTB)", make_user, "/start", n, concurrency)
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()


async def bench_engagebot(emu: BotApiEmulator, tmp: Path, n: int, concurrency: int) -> list[Result]:
    harness = Harness(emu, await new_database_url("sqlite", tmp), SystemClock())  # type: ignore[arg-type]
    await harness.start()
    emu.settle = None  # measure like the echo bot: until the reply arrives
    try:

        async def stranger(i: int) -> UserDriver:
            return harness.customer(20_000 + i, f"New{i}")

        async def member(i: int) -> UserDriver:
            user = harness.customer(30_000 + i, f"Member{i}")
            emu.settle = harness.app.metrics.wait_processed
            await harness.join(user)
            emu.settle = None
            return user

        return [
            await _measure("engagebot /start (new user)", stranger, "/start", n, concurrency),
            await _measure("engagebot /profile (member)", member, "/profile", n, concurrency),
        ]
    finally:
        await harness.stop()


async def main(n: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        async with BotApiEmulator() as emu:
            echo = await bench_echo(emu, n, concurrency)
        async with BotApiEmulator() as emu:
            ours = await bench_engagebot(emu, Path(tmp), n, concurrency)
    print(f"{'scenario':32} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'updates/s':>10} {'vs echo':>8}")
    for r in [echo, *ours]:
        ratio = r.throughput / echo.throughput
        print(f"{r.name:32} {r.n:>5} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} {r.throughput:>10.1f} {ratio:>7.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--concurrency", type=int, default=20)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.concurrency))
