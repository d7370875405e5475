"""Update round trips through the Bot API emulator: every engagebot path a person uses most, beside a bare
python-telegram-bot echo bot (PTB defaults), in one run, on SQLite and on PostgreSQL.

    .venv/bin/python -m benchmarks.updates [--n 200] [--concurrency 20] [--freeze 5000] [--postgres URL]

A round trip starts when the emulator queues the person's update and ends when the bot has finished
processing it (its replies are in the emulator by then). p50/p99 come from one person's sequential round
trips; updates/second from `concurrency` people acting at once. "vs echo" is throughput ÷ the echo bot's
(target ≥ 0.67×: an engagebot update costs at most 1.5× a bare one).

The freeze row: p99 of /points for `concurrency` customers while an admin confirms a survey send to
`--freeze` customers and the background job fans it out (target < 0.5 s).

Everything runs in this process (bot, emulator, people), as the e2e tests do, so the echo bot's figure
includes the emulator's own cost; PostgreSQL runs when --postgres or ENGAGEBOT_TEST_POSTGRES_URL is set
(scripts/postgres.sh prints one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from storage.core.clock import SystemClock
from storage.core.config import LoyaltyConfig, SurveyConfig
from storage.loyalty import ledger, rewards
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer
from storage.surveys import definitions, invitations
from storage.surveys.models import SurveyInvitation
from tests import databases
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver
from tests.emulator.settling import settle_on

Act = Callable[[UserDriver, int], Awaitable[float]]  # one round trip (its own untimed set-up inside)
Setup = Callable[[Harness, int], Awaitable[UserDriver]]


@dataclass
class Result:
    name: str
    database: str
    n: int
    p50_ms: float
    p99_ms: float
    throughput: float


def _p99(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]


async def _timed(action: Awaitable[Any]) -> float:
    started = time.perf_counter()
    await action
    return time.perf_counter() - started


async def _measure(name: str, database: str, people: list[UserDriver], act: Act, n: int) -> Result:
    first = people[0]
    for k in range(5):  # warm-up
        await act(first, -1 - k)
    latencies = [await act(first, k) for k in range(n)]
    per_person = max(1, n // len(people))

    async def run(person: UserDriver, index: int) -> None:
        for k in range(per_person):
            await act(person, n + index * per_person + k)

    started = time.perf_counter()
    await asyncio.gather(*(run(p, i) for i, p in enumerate(people)))
    elapsed = time.perf_counter() - started
    return Result(
        name,
        database,
        n,
        statistics.median(latencies) * 1000,
        _p99(latencies) * 1000,
        per_person * len(people) / elapsed,
    )


# -- the echo bot ------------------------------------------------------------------------------------
async def _echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(update.effective_message.text or "")


async def bench_echo(n: int, concurrency: int) -> Result:
    async with BotApiEmulator() as emu:
        app = (
            Application.builder()
            .token(emu.token)
            .base_url(emu.base_url)
            .base_file_url(emu.base_file_url)
            .build()
        )
        app.add_handler(MessageHandler(filters.TEXT, _echo))
        settle_on(app, emu)
        await app.initialize()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=5)
        await app.start()
        try:
            people = [emu.user(10_000 + i, f"Echo{i}") for i in range(concurrency)]
            return await _measure("echo bot (bare PTB)", "-", people, _say("hello"), n)
        finally:
            await app.updater.stop()
            await app.stop()
            await app.shutdown()


# -- engagebot's paths -------------------------------------------------------------------------------
def _say(text: str) -> Act:
    async def act(person: UserDriver, _k: int) -> float:
        return await _timed(person.send(text))

    return act


async def _stranger(harness: Harness, i: int) -> UserDriver:
    return harness.customer(20_000 + i, f"New{i}")


async def _member(harness: Harness, i: int) -> UserDriver:
    """A member with a history worth showing (12 entries and a "More" button), written directly so no
    notification competes with the measured round trips."""
    person = harness.customer(30_000 + i, f"Member{i}", username=f"member{i}")
    now = SystemClock().now()
    async with harness.sessions.begin() as session:
        customer = await customers.join(
            session,
            TelegramProfile(30_000 + i, f"Member{i}", username=f"member{i}"),
            harness.settings.config,
            now,
        )
        for k in range(12):
            await ledger.credit(
                session,
                customer_id=customer.id,
                points=1_000 + k,
                kind="award",
                reference=f"bench:{i}:{k}",
                now=now,
                config=LoyaltyConfig(),
            )
    return person


def _survey_answer(harness: Harness) -> Act:
    """A fresh CSAT invitation (untimed: invited and delivered), then the timed press of ⭐⭐⭐⭐."""

    async def act(person: UserDriver, k: int) -> float:
        now = SystemClock().now()
        async with harness.sessions.begin() as session:
            survey = await invitations.by_name(session, "bench")
            customer = await customers.get(session, person.user_id)
            assert survey is not None and customer is not None
            await invitations.invite(
                session,
                survey,
                customer,
                now,
                f"bench:{person.user_id}:{k}",
                config=SurveyConfig(throttle_days=0),
            )
        before = len(person.messages())
        await harness.run_outbox()  # people acting at once drain each other's rows too: wait for ours
        invitation = await person.wait_for(lambda m: m.message_id > before and "⭐⭐⭐⭐" in m.button_data)
        return await _timed(person.press("⭐⭐⭐⭐", message=invitation))

    return act


def _redeem_confirm(harness: Harness) -> Act:
    """/rewards → Coffee → Redeem (untimed), then the timed press of ✅ Confirm (a voucher is issued)."""

    async def act(person: UserDriver, _k: int) -> float:
        await person.send("/rewards")
        await person.press("Coffee · 10 pts")
        await person.press("Redeem")
        return await _timed(person.press("✅ Confirm"))

    return act


def _staff_says(harness: Harness, text: str) -> Act:
    async def act(person: UserDriver, k: int) -> float:
        return await _timed(person.send(text.format(k=k, n=k % 20), chat=harness.staff_group))

    return act


async def _agent(harness: Harness, i: int) -> UserDriver:
    """A staff member (agents are the staff group's members; each person has their own lane)."""
    user_id = 50_000 + i
    harness.emu.set_member(harness.staff_group.chat_id, user_id, "member")
    return harness.emu.user(user_id, f"Agent{i}", username=f"agent{i}")


async def bench_engagebot(database: str, tmp: Path, n: int, concurrency: int) -> list[Result]:
    results: list[Result] = []
    async with BotApiEmulator() as emu:
        url = await databases.new_database_url(database, tmp / database)
        harness = Harness(emu, url, SystemClock())  # type: ignore[arg-type]
        await harness.start()
        try:
            await _prepare(harness, concurrency)
            members = [await _member(harness, i) for i in range(concurrency)]
            agents = [await _agent(harness, i) for i in range(concurrency)]
            strangers = [await _stranger(harness, i) for i in range(concurrency)]
            scenarios: list[tuple[str, list[UserDriver], Act]] = [
                ("/start (new user)", strangers, _say("/start")),
                ("/profile", members, _say("/profile")),
                ("/points", members, _say("/points")),
                ("survey answer button", members, _survey_answer(harness)),
                ("redeem Confirm button", members, _redeem_confirm(harness)),
                ("staff /find", agents, _staff_says(harness, "/find @member{n}")),
                ("staff /purchase", agents, _staff_says(harness, "/purchase @member{n} 12.50 bench {k}")),
            ]
            for name, people, act in scenarios:
                results.append(await _measure(name, database, people, act, n))
        finally:
            await harness.stop()
            await databases.drop_database(url)
    return results


async def _prepare(harness: Harness, concurrency: int) -> None:
    now = SystemClock().now()
    async with harness.sessions.begin() as session:
        await rewards.add(session, {"title": "Coffee", "cost": "10"}, LoyaltyConfig(), now)
        await invitations.create(session, definitions.builtin("bench", "csat"), created_by=0, now=now)
        await invitations.activate(session, "bench", now)


# -- the freeze row ----------------------------------------------------------------------------------
async def bench_freeze(database: str, tmp: Path, n: int, concurrency: int, audience: int) -> Result:
    """/points for `concurrency` members while a survey send to `audience` customers is confirmed and
    fanned out in the background (the sender off: only the fan-out competes)."""
    async with BotApiEmulator() as emu:
        url = await databases.new_database_url(database, tmp / f"freeze-{database}")
        harness = Harness(emu, url, SystemClock(), TICK_SECONDS="0.2")  # type: ignore[arg-type]
        await harness.start()
        try:
            await _prepare(harness, concurrency)
            await _seed_customers(harness, audience)
            members = [await _member(harness, i) for i in range(concurrency)]
            group = harness.staff_group
            await harness.owner.send("/survey send bench all", chat=group)
            confirm = asyncio.create_task(harness.owner.press("✅ Confirm", chat=group))
            latencies: list[float] = []
            fanned_out = asyncio.Event()

            async def run(person: UserDriver) -> None:
                while not fanned_out.is_set():
                    latencies.append(await _timed(person.send("/points")))

            async def watch() -> None:  # the fan-out is over when everyone is invited
                await confirm
                while await _invited(harness) < audience:
                    await emu.changed(timeout=5)  # woken by each progress edit or reply
                fanned_out.set()

            started = time.perf_counter()
            await asyncio.gather(watch(), *(run(p) for p in members))
            elapsed = time.perf_counter() - started
            return Result(
                f"/points during a send to {audience:,}",
                database,
                len(latencies),
                statistics.median(latencies) * 1000,
                _p99(latencies) * 1000,
                len(latencies) / elapsed,
            )
        finally:
            await harness.stop()
            await databases.drop_database(url)


async def _invited(harness: Harness) -> int:
    async with harness.sessions.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(SurveyInvitation)) or 0)


async def _seed_customers(harness: Harness, count: int) -> None:
    now = SystemClock().now()
    rows = [
        {
            "telegram_id": 1_000_000 + i,
            "first_name": f"C{i}",
            "language": "en",
            "timezone": "UTC",
            "consent_at": now,
        }
        for i in range(count)
    ]
    async with harness.sessions.begin() as session:
        await session.execute(insert(Customer), rows)


# -- the table ---------------------------------------------------------------------------------------
async def main(n: int, concurrency: int, freeze: int, postgres: str) -> None:
    if postgres:
        databases.POSTGRES_URL = postgres
    kinds = ["sqlite"] + (["postgres"] if databases.POSTGRES_URL else [])
    with tempfile.TemporaryDirectory() as tmp:
        echo = await bench_echo(n, concurrency)
        rows = [echo]
        for kind in kinds:
            (Path(tmp) / kind).mkdir()
            rows += await bench_engagebot(kind, Path(tmp), n, concurrency)
            if freeze:
                (Path(tmp) / f"freeze-{kind}").mkdir()
                rows.append(await bench_freeze(kind, Path(tmp), n, concurrency, freeze))
        await databases.drop_template()
    head = f"{'scenario':36} {'database':9} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'updates/s':>10}"
    print(f"{head} {'vs echo':>8}")
    for r in rows:
        ratio = r.throughput / echo.throughput
        print(
            f"{r.name:36} {r.database:9} {r.n:>5} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.throughput:>10.1f} {ratio:>7.2f}x"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--freeze", type=int, default=5000, help="survey audience for the freeze row (0: skip)"
    )
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    asyncio.run(main(args.n, args.concurrency, args.freeze, args.postgres))
