"""Production's lifecycle, with the real outbox sender and the real JobQueue running (the other e2e tests
drive both by hand): polling and webhook mode start and stop them the same way, and stopping lets the
sender finish while the bot can still talk."""

from __future__ import annotations

import logging
import socket
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.core.clock import FakeClock
from storage.people.models import OutboxMessage
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import join, staff
from tests.emulator import BotApiEmulator

pytestmark = pytest.mark.parametrize("mode", ["polling", "webhook"])


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def test_sender_and_ticks_run_and_stop_with_the_bot(
    mode: str, emu: BotApiEmulator, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    harness = Harness(
        emu,
        await new_database_url("sqlite", tmp_path),
        clock,
        OUTBOX_SENDER="on",
        TICK_SECONDS="0.2",
        SEND_RATE="100",
    )
    if mode == "webhook":
        await harness.start_webhook(_free_port(), "lifecycle-Secret_1")
    else:
        await harness.start()
    app = harness.app
    assert app is not None and app.sender_task is not None
    request = app.bot.request
    sender_stopped_first: list[bool] = []
    close = request.shutdown

    async def closing() -> None:  # when the bot's connections close, the sender must be gone already
        sender_stopped_first.append(app.sender_task is None)
        await close()

    request.shutdown = closing  # type: ignore[method-assign]
    try:
        lena = harness.customer(601, "Lena", username="lena")
        await join(harness, lena)
        assert "Recorded 600.00" in await staff(harness, harness.agent, "/purchase @lena 600 dinner for six")
        # Nobody calls run_outbox: the sender loop delivers the points message by itself.
        await lena.wait_for(lambda m: "600" in m.text and "points" in m.text)

        clock.advance(days=60)  # the JobQueue's win-back tick notices the lapse; the sender posts the card
        card = await harness.agent.wait_for(lambda m: "Win-back #1" in m.text, chat=harness.staff_group)
        assert "has not bought for 60 days" in card.text
    finally:
        await harness.stop()
    assert sender_stopped_first == [True]  # post_stop ran before shutdown, in this mode too
    assert "not initialized" not in caplog.text
    async with app.bot_data.runtime.sessions.begin() as session:
        rows = (await session.execute(select(OutboxMessage))).scalars().all()
    await app.engine.dispose()
    assert rows and all(row.status == "sent" and row.error is None for row in rows)
    emu.assert_no_violations()
