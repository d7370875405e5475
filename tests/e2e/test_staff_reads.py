"""The staff group's read paths take no write lock and write nothing: /find, /staff, /callbacks,
/feedback, /stats, /outbox, /reward list, /survey list and the ‹ › buttons of the lists are served by
read-only units of work (on a SQLite file: their own connections), and so is the guard's role check for
a staff member it knows under the same name. Only a first-time member is recorded (a write)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from storage.care import feedback, followups
from storage.core.clock import FakeClock
from storage.loyalty import rewards
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.surveys import invitations
from storage.surveys.definitions import builtin
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator
from tests.statements import statements

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE")
OPEN_FOLLOW_UPS = 25  # more than a page (handlers.paging.PER_PAGE)


def _writes(sent: list[str]) -> list[str]:
    return [s for s in sent if s.lstrip().upper().startswith(WRITES)]


async def _seed(harness: Harness) -> None:
    """Kim with feedback and open follow-ups (two pages of them), a reward, a survey."""
    assert harness.app is not None
    config, now = harness.app.bot_data.runtime.config, harness.clock.now()
    async with harness.sessions.begin() as session:
        kim = await customers.join(session, TelegramProfile(301, "Kim", username="kimmy"), config, now)
        await feedback.submit(session, kim, "Cold soup", source_ref="msg:301:1", now=now)
        for n in range(OPEN_FOLLOW_UPS):
            await followups.create(
                session,
                customer_id=kim.id,
                kind="call",
                reason=f"ask {n}",
                due_at=now + timedelta(hours=n + 1),
            )
        await rewards.add(session, rewards.parse_spec("title=Free coffee | cost=150"), config.loyalty, now)
        await invitations.create(session, builtin("loyal", "nps"), created_by=0, now=now)


@pytest.fixture
async def on_either(emu: BotApiEmulator, database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """A strict harness on SQLite (a file: read-only units of work have their own connections) and on
    PostgreSQL (one pool: they are plain transactions that write nothing)."""
    h = Harness(emu, database_url, clock, STRICT_TRANSACTIONS="on")
    await h.start()
    yield h
    await h.stop()


async def test_staff_reads_take_no_write_lock_and_write_nothing(on_either: Harness, db_kind: str) -> None:
    harness = on_either
    await _seed(harness)
    await harness.grant_admin()
    app, group, admin = harness.app, harness.staff_group, harness.admin
    assert app is not None
    assert (app.read_engine is app.engine) == (db_kind == "postgres")
    with statements(app.engine) as first:
        await harness.agent.send("/staff", chat=group)  # a first-time member is recorded: a write
    assert any(s.startswith("INSERT INTO staff_members") for s in _writes(first))

    seen = {
        "/find kimmy": "#1 · Kim",
        "/find nobody": harness.t("en", "staff.find_none", query="nobody"),
        "/staff": "admin: Adam",
        "/callbacks": "Open follow-ups",
        "/feedback": "#1 [open] Kim (—): Cold soup",
        "/reward list": "Free coffee",
        "/survey list": "loyal (nps)",
        "/outbox": "Outbox",
        "/stats surveys 4w": "CSAT and NPS per day, last 4 weeks",  # the chart, after the figures
    }
    with statements(app.engine) as on_writer, statements(app.read_engine) as on_readers:
        for text, expected in seen.items():
            await admin.send(text, chat=group)
            said = [m.text for m in group.messages() if m.text][-1]  # /stats ends with the chart's caption
            assert expected in said, text
        await admin.send("/callbacks", chat=group)
        listing = group.last()
        assert "ask 0" in listing.text and "ask 24" not in listing.text and listing.buttons == [["›"]]
        before = len(harness.emu.calls)
        answer = await admin.press("›", message=listing)
        page_2 = next(m for m in group.messages() if m.message_id == listing.message_id)
        assert answer is not None and "ask 24" in page_2.text and "Page 2/2" in page_2.text
        # The press is answered at once, before the list is read and the page shown.
        talk = [name for name, _ in harness.emu.calls[before:] if name != "getUpdates"]
        assert talk == ["answerCallbackQuery", "editMessageText"]
    if db_kind == "sqlite":
        assert on_writer == []  # the write engine was not even asked for a connection
    assert on_readers and _writes(on_readers) == []
