"""Reading takes no write lock and writes nothing: a customer looking at their points, profile, rewards
or vouchers, asking for help, cancelling nothing, or just chatting with no step pending is served by
read-only units of work (on a SQLite file: their own connections, never the write lock), so a busy
writer never holds them up."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from storage.core import conversations
from storage.core.clock import FakeClock
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator
from tests.statements import statements

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "BEGIN IMMEDIATE")


def _writes(sent: list[str]) -> list[str]:
    return [s for s in sent if s.lstrip().upper().startswith(WRITES)]


@pytest.fixture
async def on_either(emu: BotApiEmulator, database_url: str, clock: FakeClock) -> AsyncIterator[Harness]:
    """A strict harness on SQLite (a file: read-only units of work have their own connections) and on
    PostgreSQL (one pool: they are plain transactions that write nothing)."""
    h = Harness(emu, database_url, clock, STRICT_TRANSACTIONS="on")
    await h.start()
    yield h
    await h.stop()


async def test_read_paths_take_no_write_lock_and_write_nothing(on_either: Harness, db_kind: str) -> None:
    harness = on_either
    ann, stranger = harness.customer(701, "Ann"), harness.customer(702, "Bo")
    await harness.join(ann)
    bot_said = ann.last()  # the last onboarding message: a plain reply to it is no relayed message
    app = harness.app
    assert app is not None
    assert (app.read_engine is app.engine) == (db_kind == "postgres")
    t = harness.t
    seen = {
        "/points": t("en", "points.history_empty"),
        "/profile": "Ann",
        "/rewards": t("en", "reward.empty", balance=0),
        "/myrewards": t("en", "reward.mine_empty"),
        "/help": t("en", "onboarding.help"),
        "/start": t("en", "onboarding.welcome_back", name="Ann"),
        "/language": t("en", "profile.choose_language"),
        "what's new?": t("en", "common.unknown_input"),
        "/cancel": t("en", "common.nothing_to_cancel"),
    }
    with statements(app.engine) as on_writer, statements(app.read_engine) as on_readers:
        for text, expected in seen.items():
            await ann.send(text)
            assert expected in ann.last_text().text, text
        await ann.reply(bot_said, "thanks!")
        assert ann.last().text == t("en", "common.unknown_input")
        for command in ("/points", "/profile", "/rewards", "/myrewards"):
            await stranger.send(command)
            assert stranger.last().text == t("en", "common.join_first"), command
    if db_kind == "sqlite":
        assert on_writer == []  # the write engine was not even asked for a connection
    assert on_readers and _writes(on_readers) == []


async def test_a_step_from_an_older_version_is_forgotten_not_a_trap(harness: Harness) -> None:
    """The one write on that path: a pending step no route knows any more is cleared, and the message
    is answered like any other."""
    ann = harness.customer(703, "Ann")
    await harness.join(ann)
    async with harness.sessions.begin() as session:
        await conversations.expect(session, 703, 703, "retired/step", {"from": "v0"})
    await ann.send("hello?")
    assert ann.last().text == harness.t("en", "common.unknown_input")
    async with harness.sessions.begin() as session:
        assert await conversations.current(session, 703, 703) is None
    await ann.send("/points")
    assert harness.t("en", "points.history_empty") in ann.last_text().text
