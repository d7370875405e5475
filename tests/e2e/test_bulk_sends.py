"""A survey sent to many customers runs in the background: Confirm is answered at once, the bulk tick
fans the invitations out a batch at a time while customers keep being answered, the staff message shows
the progress edited in place and ends with a summary, and each customer gets exactly one invitation.
Stop withdraws what was not sent yet. The harness drives the ticks (one batch per tick here) and the
sender, and moves the clock past the progress edits' spacing; every Telegram request made inside a
database transaction fails the test (STRICT_TRANSACTIONS)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.core import bulk
from storage.core.clock import FakeClock
from storage.core.models import BulkJob
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.surveys.models import SurveyInvitation
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions  # (the fixture below sets it: it has settings of its own)

PEOPLE = 45
BATCH = 10
QUESTION = "How satisfied"


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = Harness(
        emu,
        await new_database_url("sqlite", tmp_path),
        clock,
        BULK_BATCH=str(BATCH),
        BULK_BATCHES_PER_TICK="1",
        BULK_REPORT_SECONDS="5",
        STRICT_TRANSACTIONS="on",
    )
    await h.start()
    yield h
    await h.stop()


async def _customers(harness: Harness) -> list[UserDriver]:
    people = [harness.customer(5000 + n, f"C{n}") for n in range(PEOPLE)]
    async with harness.sessions.begin() as session:
        for person in people:
            profile = TelegramProfile(person.user_id, person.user["first_name"], language_code="en")
            await customers.join(session, profile, harness.settings.config, harness.clock.now())
    return people


async def _confirm(harness: Harness) -> None:
    group = harness.staff_group
    for command in ("/survey new service csat", "/survey activate service", "/survey send service all"):
        await harness.owner.send(command, chat=group)
    assert f"{PEOPLE} will be invited" in harness.owner.last(chat=group).text
    answer = await harness.owner.press("✅ Confirm", chat=group)
    assert answer is not None  # answered at once, within the press
    started = harness.owner.last(chat=group)
    assert "in the background" in started.text and started.buttons == [["⏹ Stop"]]
    async with harness.sessions.begin() as session:  # Confirm recorded the job and invited nobody yet
        assert await session.scalar(select(func.count()).select_from(SurveyInvitation)) == 0
        assert await session.scalar(select(BulkJob.state)) == bulk.QUEUED


async def _invitations(person: UserDriver) -> int:
    return sum(QUESTION in m.text for m in person.messages())


async def test_a_send_to_many_runs_in_the_background_with_progress(harness: Harness) -> None:
    people = await _customers(harness)
    kim = people[0]
    await _confirm(harness)
    group = harness.staff_group
    progress = harness.owner.last(chat=group)

    await harness.tick("bulk")  # the first batch, then the progress (due at once)
    shown = harness.owner.last(chat=group)
    assert shown.message_id == progress.message_id  # the same message, edited in place
    assert f"Customers handled: {BATCH} of {PEOPLE}" in shown.text and "Invitations waiting: 10" in shown.text
    assert shown.buttons == [["⏹ Stop"]]

    # While the fan-out runs, customers are answered.
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(BulkJob.state)) == bulk.RUNNING
    await kim.send("/points")
    assert "points" in kim.last_text().text.lower() and QUESTION not in kim.last_text().text

    edits = shown.edits
    await harness.tick("bulk")  # a second batch: the message is not edited again within 5 s
    assert harness.owner.last(chat=group).edits == edits
    assert await harness.run_outbox() == 2 * BATCH
    harness.clock.advance(seconds=5)
    await harness.tick("bulk")
    shown = harness.owner.last(chat=group)
    assert shown.edits == edits + 1
    assert f"Customers handled: {3 * BATCH} of {PEOPLE}" in shown.text and "sent: 20" in shown.text

    while True:  # the rest, a batch per tick, the sender keeping up, an edit at most every 5 s
        await harness.tick("bulk")
        await harness.run_outbox()
        harness.clock.advance(seconds=2)
        async with harness.sessions.begin() as session:
            if await session.scalar(select(BulkJob.state)) == bulk.DONE:
                break
    harness.clock.advance(seconds=5)
    await harness.tick("bulk")
    final = harness.owner.last(chat=group)
    assert f"{PEOPLE} invitations sent" in final.text and "0 failed" in final.text and not final.buttons
    harness.clock.advance(minutes=5)
    await harness.tick("bulk")
    assert harness.owner.last(chat=group).edits == final.edits  # the summary is the last edit

    assert [await _invitations(person) for person in people] == [1] * PEOPLE
    versions = harness.emu.state.chats[group.chat_id].messages[final.message_id].versions
    assert len(versions) <= 1 + PEOPLE // BATCH + 3  # the preview, the start, a few progress edits


async def test_stop_withdraws_what_was_not_sent(harness: Harness) -> None:
    people = await _customers(harness)
    await _confirm(harness)
    await harness.tick("bulk")
    assert await harness.run_outbox() == BATCH
    await harness.tick("bulk")  # a second batch queued, not sent
    group = harness.staff_group
    stop = harness.owner.last(chat=group).button_data["⏹ Stop"]
    refused = await harness.agent.press("⏹ Stop", chat=group)  # an agent may not stop a send
    assert refused is not None and "admin" in refused["text"]

    stopped = await harness.owner.press("⏹ Stop", chat=group)
    assert stopped is not None and f"Stopped: {BATCH} messages will not be sent" in stopped["text"]
    summary = harness.owner.last(chat=group)
    assert "was stopped" in summary.text and f"{BATCH} invitations sent" in summary.text
    assert f"{BATCH} not sent" in summary.text and not summary.buttons

    await harness.tick("bulk")
    assert await harness.run_outbox() == 0
    assert sum([await _invitations(person) for person in people]) == BATCH
    async with harness.sessions.begin() as session:  # the unsent invitations are forgotten
        assert await session.scalar(select(func.count()).select_from(SurveyInvitation)) == BATCH
        assert await session.scalar(select(BulkJob.state)) == bulk.CANCELLED
    again = await harness.owner.press_data(stop, summary)  # Stop pressed twice
    assert again is not None and "nothing left to stop" in again["text"]
    forged = await harness.owner.press_data("bulk:stop:99", summary)
    assert forged is not None and "expired" in forged["text"]
