"""Two engagebot instances in webhook mode on one PostgreSQL, behind a load balancer that splits the
updates between them, each running the outbox sender and the scheduler ticks: every message is sent
once and every effect applied once."""

from __future__ import annotations

import asyncio
import itertools
import re
import socket
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from sqlalchemy import func, select

from storage.care.models import FollowUp
from storage.core import db
from storage.core.clock import FakeClock
from storage.loyalty.models import LedgerEntry, Purchase
from storage.people.models import OutboxMessage
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import join, staff
from tests.emulator import BotApiEmulator
from tests.emulator.driver import SentMessage

pytestmark = pytest.mark.postgres
SECRET = "two-Instances_1"
CUSTOMERS = 8


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _load_balancer(ports: list[int]) -> AsyncIterator[str]:
    """Forwards each webhook POST to the next instance in turn, headers and body unchanged."""
    turn = itertools.cycle(ports)
    http = aiohttp.ClientSession()

    async def forward(request: web.Request) -> web.Response:
        body = await request.read()
        url = f"http://127.0.0.1:{next(turn)}{request.path}"
        async with http.post(url, data=body, headers=dict(request.headers)) as answer:
            return web.Response(status=answer.status, body=await answer.read())

    app = web.Application()
    app.router.add_post("/telegram/hook", forward)
    runner = web.AppRunner(app)
    await runner.setup()
    port = _free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        yield f"http://127.0.0.1:{port}/telegram/hook"
    finally:
        await runner.cleanup()
        await http.close()


@pytest.fixture
async def instances(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[list[Harness]]:
    url = await new_database_url("postgres", tmp_path)
    env = {"OUTBOX_SENDER": "on", "TICK_SECONDS": "0.2", "SEND_RATE": "200"}
    pair = [Harness(emu, url, clock, **env), Harness(emu, url, clock, **env)]
    ports = [_free_port(), _free_port()]
    balancer = _load_balancer(ports)
    public_url = await anext(balancer)
    for harness, port in zip(pair, ports, strict=True):
        await harness.start_webhook(port, SECRET, public_url=public_url)

    async def settle(update_id: int) -> None:  # whichever instance got the update
        waits = [asyncio.ensure_future(h.app.metrics.wait_processed(update_id)) for h in pair if h.app]
        done, pending = await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        for waiting in pending:
            waiting.cancel()
        for finished in done:
            finished.result()

    emu.settle = settle
    try:
        yield pair
    finally:
        for harness in pair:
            await harness.stop()
        await balancer.aclose()


async def test_two_instances_send_each_message_once_and_apply_each_effect_once(
    instances: list[Harness], emu: BotApiEmulator, clock: FakeClock
) -> None:
    first = instances[0]
    people = [first.customer(700 + n, f"Guest{n}", username=f"guest{n}") for n in range(CUSTOMERS)]
    for person in people:
        await join(first, person)  # /start and Accept: two updates, one to each instance
    for n in range(CUSTOMERS):
        who = first.agent if n % 2 else first.owner
        assert "Recorded 600.00" in await staff(first, who, f"/purchase @guest{n} 600 dinner")

    for person in people:
        await person.wait_for(lambda m: "points" in m.text and "600" in m.text, timeout=10)
    # Every outcome recorded before the clock jumps: a row still "sending" would look like a dead
    # sender's claim 60 days later and be sent again (the lease, at-least-once by design).
    await _outbox_settled(first)
    clock.advance(days=60)  # both instances' win-back ticks look; one card per customer
    group = first.staff_group
    await first.agent.wait_for(lambda _: _cards(group.messages()) >= CUSTOMERS, chat=group, timeout=15)
    processed: list[int] = []
    for harness in instances:  # stopping lets each sender record what it sent; later sends would show
        assert harness.app is not None
        processed.append(harness.app.metrics.processed)
        await harness.stop()

    for person in people:
        earned = [m for m in person.messages() if "points" in m.text and "600" in m.text]
        assert len(earned) == 1, [m.text for m in person.messages()]
    cards = Counter(
        re.findall(r"@guest\d+\b", "\n".join(m.text for m in group.messages() if "Win-back #" in m.text))
    )
    assert cards == Counter({f"@guest{n}": 1 for n in range(CUSTOMERS)})
    engine = db.create_engine(first.database_url)
    try:
        async with db.create_session_factory(engine).begin() as session:
            ledger = select(LedgerEntry.customer_id, func.sum(LedgerEntry.points)).group_by(
                LedgerEntry.customer_id
            )
            points = {customer: total for customer, total in await session.execute(ledger)}
            purchases = await session.scalar(select(func.count()).select_from(Purchase))
            follow_ups = await session.scalar(select(func.count()).select_from(FollowUp))
            rows = Counter((await session.scalars(select(OutboxMessage.status))).all())
            summaries = Counter(
                key.split(":")[0]
                for key in await session.scalars(
                    select(OutboxMessage.dedupe_key).where(
                        OutboxMessage.dedupe_key.startswith("staff-summary:")
                    )
                )
            )
    finally:
        await engine.dispose()
    assert purchases == CUSTOMERS
    assert list(points.values()) == [600] * CUSTOMERS  # each purchase credited once
    assert follow_ups == CUSTOMERS
    # Points earned, the new tier and a card each; and the weekly staff summary once in each of the two
    # weeks the clock saw (the start's and 60 days later), whichever instance ran the tick.
    assert summaries == Counter({"staff-summary": 2})
    assert rows == Counter({"sent": CUSTOMERS * 3 + 2})
    assert all(count > 0 for count in processed)  # the balancer really split the updates
    emu.assert_no_violations()


async def _outbox_settled(harness: Harness) -> None:
    """Wait (a condition, checked every 50 ms, at most 10 s) until no outbox row is queued or sending."""
    async with asyncio.timeout(10):
        while True:
            async with harness.sessions.begin() as session:
                busy = await session.scalar(
                    select(func.count())
                    .select_from(OutboxMessage)
                    .where(OutboxMessage.status.in_(["queued", "sending"]))
                )
            if busy == 0:
                return
            await asyncio.sleep(0.05)


def _cards(messages: list[SentMessage]) -> int:
    return sum("Win-back #" in m.text for m in messages)
