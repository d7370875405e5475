"""Update round trips through the Bot API emulator: every engagebot path a person uses most, beside a bare
python-telegram-bot echo bot (PTB defaults), in one run, on SQLite and on PostgreSQL.

    .venv/bin/python -m benchmarks.updates [--n 200] [--concurrency 20] [--freeze 5000] [--rate 20]
        [--postgres URL]

A round trip starts when the emulator queues the person's update and ends when the bot has finished
processing it (its replies are in the emulator by then). p50/p99 come from one person's sequential round
trips; updates/second from `concurrency` people acting at once. "vs echo" is throughput ÷ the echo bot's
(target ≥ 0.67×: an engagebot update costs at most 1.5× a bare one).

The freeze row: p99 of /points from `concurrency` customers at `--rate` updates/s in all while an admin
confirms a survey send to `--freeze` customers and the background job fans it out (target < 0.5 s).
The `vs echo` column means nothing for that row (its load is paced, not as fast as possible).

Everything runs in this process (bot, emulator, people), as the e2e tests do, so the echo bot's figure
includes the emulator's own cost; PostgreSQL runs when --postgres or ENGAGEBOT_TEST_POSTGRES_URL is set
(scripts/postgres.sh prints one).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update
from telegram.ext import Application, ContextTypes, MessageHandler, filters

from storage.core import db
from storage.core.clock import SystemClock
from storage.core.config import LoyaltyConfig, SurveyConfig
from storage.loyalty import ledger, rewards
from storage.loyalty.models import LoyaltyAccount
from storage.people import consent, customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer
from storage.surveys import definitions, invitations
from storage.surveys.models import SurveyInvitation
from tests import databases
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, SentMessage, UserDriver
from tests.emulator.settling import settle_on

Prepare = Callable[[UserDriver, int], Awaitable[Any]]  # untimed: what a round trip needs first
Act = Callable[[UserDriver, int, Any], Awaitable[float]]  # one timed round trip, given what was prepared


async def _nothing(_person: UserDriver, _k: int) -> None:
    return None


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


async def _measure(
    name: str,
    database: str,
    people: list[UserDriver],
    act: Act,
    n: int,
    prepare: Prepare = _nothing,
    one_card_each: list[UserDriver] | None = None,
) -> Result:
    """p50/p99 of one person's sequential round trips; then updates/s of everyone at once. What a round
    trip needs first (an invitation, a confirmation to press) is prepared before the clock starts.
    `one_card_each`: a card only the newest of its kind keeps live (handlers.live: the rewards card), so
    the throughput's presses go to these people, one prepared card each, in as many lanes as `people`."""
    first = people[0]
    for k in range(5):  # warm-up
        await act(first, -1 - k, await prepare(first, -1 - k))
    latencies = [await act(first, k, await prepare(first, k)) for k in range(n)]
    lanes = len(people)
    per_person = max(1, n // lanes)
    if one_card_each is None:
        turns = {i: [(p, n + i * per_person + k) for k in range(per_person)] for i, p in enumerate(people)}
    else:
        turns = {i: [(p, n + j) for j, p in enumerate(one_card_each) if j % lanes == i] for i in range(lanes)}
    prepared = {i: [await prepare(p, k) for p, k in lane] for i, lane in turns.items()}

    async def run(index: int) -> None:
        for (person, k), ready in zip(turns[index], prepared[index], strict=True):
            await act(person, k, ready)

    started = time.perf_counter()
    await asyncio.gather(*(run(i) for i in range(lanes)))
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
    async def act(person: UserDriver, _k: int, _ready: Any) -> float:
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


def _invitation(harness: Harness) -> Prepare:
    """A fresh CSAT invitation, invited and delivered: the message whose ⭐⭐⭐⭐ the round trip presses."""

    async def prepare(person: UserDriver, k: int) -> SentMessage:
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
        await harness.run_outbox()
        return await person.wait_for(lambda m: m.message_id > before and "⭐⭐⭐⭐" in m.button_data)

    return prepare


def _press(label: str) -> Act:
    async def act(person: UserDriver, _k: int, message: SentMessage) -> float:
        return await _timed(person.press(label, message=message))

    return act


async def _confirmation(person: UserDriver, _k: int) -> SentMessage:
    """/rewards → Coffee → Redeem: the message whose ✅ Confirm the round trip presses."""
    await person.send("/rewards")
    await person.press("Coffee · 10 pts")
    await person.press("Redeem")
    return [m for m in person.messages() if "✅ Confirm" in m.button_data][-1]


def _staff_says(harness: Harness, text: str) -> Act:
    async def act(person: UserDriver, k: int, _ready: Any) -> float:
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
            redeemers = [await _member(harness, concurrency + i) for i in range(n)]
            scenarios: list[tuple[str, list[UserDriver], Act, Prepare]] = [
                ("/start (new user)", strangers, _say("/start"), _nothing),
                ("/profile", members, _say("/profile"), _nothing),
                ("/points", members, _say("/points"), _nothing),
                ("survey answer button", members, _press("⭐⭐⭐⭐"), _invitation(harness)),
                ("redeem Confirm button", members, _press("✅ Confirm"), _confirmation),
                ("staff /find", agents, _staff_says(harness, "/find @member{n}"), _nothing),
                (
                    "staff /purchase",
                    agents,
                    _staff_says(harness, "/purchase @member{n} 12.50 bench {k}"),
                    _nothing,
                ),
            ]
            for name, people, act, prepare in scenarios:
                each = redeemers if prepare is _confirmation else None
                results.append(await _measure(name, database, people, act, n, prepare, each))
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
async def bench_freeze(database: str, tmp: Path, concurrency: int, audience: int, rate: float) -> Result:
    """/points from `concurrency` members at `rate` updates/s in all (each one in turn, a steady load a
    shop sees, not a flood that saturates the CPU by itself) while an admin confirms a survey send to
    `audience` customers and the background job fans it out (the sender off: only the fan-out
    competes). A frozen bot shows as a long p99; the fan-out's own time is in the row's name."""
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
            started = time.perf_counter()
            confirm = asyncio.create_task(harness.owner.press("✅ Confirm", chat=group))
            latencies: list[float] = []
            fanned_out = asyncio.Event()
            interval = concurrency / rate  # each person's pace

            async def run(index: int, person: UserDriver) -> None:
                due = started + index / rate
                while not fanned_out.is_set():
                    await asyncio.sleep(max(0.0, due - time.perf_counter()))
                    latencies.append(await _timed(person.send("/points")))
                    due += interval

            async def watch() -> None:  # the fan-out is over when everyone is invited
                await confirm
                while await _invited(harness) < audience:
                    await emu.changed(timeout=5)  # woken by each progress edit or reply
                fanned_out.set()

            await asyncio.gather(watch(), *(run(i, p) for i, p in enumerate(members)))
            elapsed = time.perf_counter() - started
            return Result(
                f"/points at {rate:g}/s, send to {audience:,} ({elapsed:.1f} s)",
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
            "consent_version": consent.NOTICE_VERSION,
        }
        for i in range(count)
    ]
    async with harness.sessions.begin() as session:
        await session.execute(insert(Customer), rows)


# -- the floor: one indexed SELECT -------------------------------------------------------------------
FLOOR_QUERY = "SELECT balance FROM loyalty_accounts WHERE customer_id = 1"


async def bench_floor(database: str, tmp: Path, repeat: int = 2000) -> list[tuple[str, str, float]]:
    """What one indexed SELECT costs the event loop, by layer: the driver alone, SQLAlchemy Core on an
    AsyncConnection (the driver's async adapter included), and an ORM session as storage uses it. An
    update whose budget is 1.5× a bare echo has about as much time left as two ORM statements."""
    (tmp / f"floor-{database}").mkdir()
    url = await databases.new_database_url(database, tmp / f"floor-{database}")
    writer = db.create_engine(url)
    engine = db.create_read_engine(url, writer)
    rows: list[tuple[str, str, float]] = []

    async def per_call(call: Callable[[], Awaitable[Any]]) -> float:
        for _ in range(100):
            await call()
        started = time.perf_counter()
        for _ in range(repeat):
            await call()
        return (time.perf_counter() - started) / repeat * 1e6

    try:
        if database == "sqlite":
            raw = sqlite3.connect(url.split("///", 1)[1])

            async def driver() -> None:
                raw.execute(FLOOR_QUERY).fetchall()

            rows.append(("sqlite3, in the loop's thread", database, await per_call(driver)))
            raw.close()
        else:
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg", "postgresql"))

            async def driver() -> None:
                await conn.fetch(FLOOR_QUERY)

            rows.append(("asyncpg", database, await per_call(driver)))
            await conn.close()
        async with engine.connect() as connection:
            core = text(FLOOR_QUERY)

            async def through_core() -> None:
                (await connection.execute(core)).all()

            rows.append(("SQLAlchemy Core, AsyncConnection", database, await per_call(through_core)))
        async with AsyncSession(engine) as session:
            orm = select(LoyaltyAccount.balance).where(LoyaltyAccount.customer_id == 1)

            async def through_orm() -> None:
                await session.scalar(orm)

            rows.append(("SQLAlchemy ORM, AsyncSession.scalar", database, await per_call(through_orm)))
    finally:
        await engine.dispose()
        await writer.dispose()
        await databases.drop_database(url)
    return rows


# -- the table ---------------------------------------------------------------------------------------
async def main(n: int, concurrency: int, freeze: int, rate: float, postgres: str) -> None:
    if postgres:
        databases.POSTGRES_URL = postgres
    kinds = ["sqlite"] + (["postgres"] if databases.POSTGRES_URL else [])
    with tempfile.TemporaryDirectory() as tmp:
        echo = await bench_echo(n, concurrency)
        rows = [echo]
        floor: list[tuple[str, str, float]] = []
        for kind in kinds:
            (Path(tmp) / kind).mkdir()
            rows += await bench_engagebot(kind, Path(tmp), n, concurrency)
            if freeze:
                (Path(tmp) / f"freeze-{kind}").mkdir()
                rows.append(await bench_freeze(kind, Path(tmp), concurrency, freeze, rate))
            floor += await bench_floor(kind, Path(tmp))
        await databases.drop_template()
    head = f"{'scenario':36} {'database':9} {'n':>5} {'p50 ms':>8} {'p99 ms':>8} {'updates/s':>10}"
    print(f"{head} {'vs echo':>8}")
    for r in rows:
        ratio = r.throughput / echo.throughput
        print(
            f"{r.name:36} {r.database:9} {r.n:>5} {r.p50_ms:>8.2f} {r.p99_ms:>8.2f} "
            f"{r.throughput:>10.1f} {ratio:>7.2f}x"
        )
    echo_us = 1e6 / echo.throughput
    print(f"\n{'one indexed SELECT, by layer':36} {'database':9} {'µs':>8} {'of an echo update':>18}")
    for name, database, micros in floor:
        print(f"{name:36} {database:9} {micros:>8.0f} {micros / echo_us:>17.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument(
        "--freeze", type=int, default=5000, help="survey audience for the freeze row (0: skip)"
    )
    parser.add_argument("--rate", type=float, default=20.0, help="/points per second in the freeze row")
    parser.add_argument("--postgres", default=os.environ.get("ENGAGEBOT_TEST_POSTGRES_URL", ""))
    args = parser.parse_args()
    asyncio.run(main(args.n, args.concurrency, args.freeze, args.rate, args.postgres))
