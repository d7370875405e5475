"""The staff group's lists and cards cost the same number of SQL statements for many rows as for few:
each is read in a fixed number of queries, never one more per row."""

from __future__ import annotations

from datetime import timedelta

import pytest

from storage.care import feedback, followups
from storage.people import customers, staff
from storage.people.customers import TelegramProfile
from tests.e2e.harness import Harness
from tests.emulator import UserDriver
from tests.statements import statements

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

COMMANDS = ("/find kim", "/feedback", "/staff", "/callbacks")


async def _add_rows(harness: Harness, first: int, count: int) -> None:
    """`count` customers called Kim, each with feedback, a closed and an open follow-up, and a staff
    member the open one is assigned to."""
    runtime = harness.app.bot_data.runtime
    now = harness.clock.now()
    async with harness.sessions.begin() as session:
        for n in range(first, first + count):
            kim = await customers.join(session, TelegramProfile(n, "Kim", f"No{n}"), runtime.config, now)
            await feedback.submit(session, kim, f"Cold soup {n}", source_ref=f"msg:{n}:1", now=now)
            await staff.role_in_staff_group(session, 50_000 + n, f"Agent {n}", None)
            for reason in ("closed", "open"):
                task = await followups.create(
                    session,
                    customer_id=kim.id,
                    kind="callback",
                    reason=f"{reason} {n}",
                    due_at=now + timedelta(hours=1),
                    assignee_id=50_000 + n,
                )
            await followups.complete(session, task.id - 1, "reached", now)


async def _counts(harness: Harness, person: UserDriver) -> dict[str, int]:
    app, counts = harness.app, {}
    for command in COMMANDS:
        # The lists are read-only units of work: on a SQLite file they run on the read engine.
        with statements(app.engine) as written, statements(app.read_engine) as read:
            await person.send(command, chat=harness.staff_group)
        counts[command] = len(written) + (len(read) if app.read_engine is not app.engine else 0)
        assert read, command  # really counted: not an engine nobody used
    return counts


async def test_lists_and_cards_do_not_query_per_row(harness: Harness) -> None:
    await harness.grant_admin()
    await _add_rows(harness, 1000, 2)
    await _counts(harness, harness.admin)  # the first time records who asked: not counted
    few = await _counts(harness, harness.admin)
    await _add_rows(harness, 2000, 30)
    many = await _counts(harness, harness.admin)
    assert many == few
    last = harness.admin.last(chat=harness.staff_group).text
    assert "Agent 2017" in last  # /callbacks lists the new rows with their assignees' names
