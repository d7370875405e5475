"""Callback reminders: due → card with buttons in the staff group → Done with outcome; Snooze;
the overdue re-reminder; the courtesy message; a second tick or instance adds nothing."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import followups as followup_job
from jobs.sender import _markup, _text
from storage.care import followups
from storage.care.models import FollowUp
from storage.core import buttons
from storage.core.clock import FakeClock
from storage.core.config import Config, FollowUpConfig
from storage.people import customers, staff
from storage.people.customers import TelegramProfile
from storage.people.models import OutboxMessage

STAFF = -1005
CONFIG = Config(
    staff_chat_id=STAFF, staff_timezone="Europe/Berlin", followups=FollowUpConfig(overdue_hours=4)
)
AGENT = 9003


async def _task(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, **kw: object) -> int:
    async with sessions.begin() as session:
        c = await customers.join(session, TelegramProfile(77, "Lena", username="lena"), CONFIG, clock.now())
        await staff.role_in_staff_group(session, AGENT, "Alice", "alice")
        task = await followups.create(
            session,
            customer_id=c.id,
            kind="call",
            reason="ask about the <repair>",
            due_at=clock.now() + timedelta(hours=2),
            created_by=AGENT,
            **kw,
        )
        return task.id


async def _cards(sessions: async_sessionmaker[AsyncSession]) -> list[OutboxMessage]:
    async with sessions.begin() as session:
        rows = await session.scalars(
            select(OutboxMessage).where(OutboxMessage.chat_id == STAFF).order_by(OutboxMessage.id)
        )
        return list(rows)


async def test_due_card_buttons_done_with_outcome(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    task_id = await _task(sessions, clock)
    assert await followup_job.tick(sessions, clock, CONFIG) == 0  # not due yet
    clock.advance(hours=2)
    assert await followup_job.tick(sessions, clock, CONFIG) == 1
    assert await followup_job.tick(sessions, clock, CONFIG) == 0  # the tick again: no second card
    [card] = await _cards(sessions)
    text = _text(card, catalog)
    assert f"Follow-up #{task_id} is due" in text and "Lena @lena" in text
    assert "ask about the &lt;repair&gt;" in text  # staff-typed text is escaped
    assert "10 Mar 2026, 12:00" in text  # due time in the staff time zone (Berlin, UTC+1)
    markup = _markup(card, catalog)
    labels = [b.text for row in markup.inline_keyboard for b in row]
    assert labels == ["✅ Done", "🙋 Reassign to me", "⏳ Snooze 1h", "⏳ Snooze 1d"]
    done = markup.inline_keyboard[0][0].callback_data
    async with sessions.begin() as session:
        button = await buttons.resolve(session, done, AGENT, clock.now())
        assert (button.action, button.payload) == ("follow_up/done", {"follow_up_id": task_id})
        assert await followups.complete(session, task_id, "fixed, happy", clock.now())
        assert not await followups.complete(session, task_id, "again", clock.now())  # a second Done
        [closed] = await followups.recent_outcomes(
            session, (await session.get(FollowUp, task_id)).customer_id
        )
    assert (closed.status, closed.outcome, closed.remind_at) == ("done", "fixed, happy", None)
    clock.advance(hours=10)
    assert await followup_job.tick(sessions, clock, CONFIG) == 0  # closed: no overdue reminder


async def test_overdue_is_reminded_once_more_and_snooze_starts_over(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    task_id = await _task(sessions, clock)
    clock.advance(hours=2)
    assert await followup_job.tick(sessions, clock, CONFIG) == 1
    clock.advance(hours=3, minutes=59)
    assert await followup_job.tick(sessions, clock, CONFIG) == 0
    clock.advance(minutes=1)
    assert await followup_job.tick(sessions, clock, CONFIG) == 1
    clock.advance(days=3)
    assert await followup_job.tick(sessions, clock, CONFIG) == 0  # only once
    cards = await _cards(sessions)
    assert "is overdue" in _text(cards[1], catalog)
    async with sessions.begin() as session:
        task = await followups.get_open(session, task_id)
        await followups.snooze(session, task, timedelta(hours=1), clock.now())
    clock.advance(minutes=59)
    assert await followup_job.tick(sessions, clock, CONFIG) == 0
    clock.advance(minutes=1)
    assert await followup_job.tick(sessions, clock, CONFIG) == 1
    assert "is due" in _text((await _cards(sessions))[2], catalog)


async def test_assignee_note_and_courtesy_message(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    task_id = await _task(sessions, clock, assignee_id=AGENT, notify_customer=True)
    clock.advance(hours=2)
    await followup_job.tick(sessions, clock, CONFIG)
    clock.advance(hours=4)
    await followup_job.tick(sessions, clock, CONFIG)  # overdue: assignee again, customer not again
    async with sessions.begin() as session:
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    to_agent = [r for r in rows if r.chat_id == AGENT]
    to_customer = [r for r in rows if r.chat_id == 77]
    assert len(to_agent) == 2 and f"#{task_id}" in _text(to_agent[0], catalog)
    assert [r.dedupe_key for r in to_customer] == [f"follow_up:{task_id}:courtesy"]
    assert "check how things are going" in _text(to_customer[0], catalog)
    card = (await _cards(sessions))[0]
    assert "Assignee: Alice" in _text(card, catalog)


async def test_two_ticks_at_once_queue_one_card(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    await _task(sessions, clock)
    clock.advance(hours=2)
    results = await asyncio.gather(*(followup_job.tick(sessions, clock, CONFIG) for _ in range(3)))
    assert sum(results) == 1
    assert len(await _cards(sessions)) == 1


async def test_open_tasks_are_listed_by_due_time(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    first = await _task(sessions, clock)
    async with sessions.begin() as session:
        customer_id = (await session.get(FollowUp, first)).customer_id
        earlier = await followups.create(
            session,
            customer_id=customer_id,
            kind="feedback",
            reason="x",
            due_at=datetime(2026, 3, 10, tzinfo=UTC),
        )
        rows = await followups.open_by_due(session)
    assert [t.id for t, _, _ in rows] == [earlier.id, first]
