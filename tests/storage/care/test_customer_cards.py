"""The customer cards of /find: each with its latest closed follow-ups, tags and notes, read in the
same number of queries for two customers as for many."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.care import customer_cards, followups
from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.people import customers
from storage.people.customers import TelegramProfile
from tests.statements import statements


async def _customer_with_history(
    session: AsyncSession, clock: FakeClock, telegram_id: int, done: int
) -> None:
    person = await customers.join(
        session, TelegramProfile(telegram_id, "Kim", f"No{telegram_id}"), Config(), clock.now()
    )
    for n in range(done + 1):  # the last one stays open
        task = await followups.create(
            session, customer_id=person.id, kind="callback", reason=f"call {n}", due_at=clock.now()
        )
        if n < done:
            await followups.complete(session, task.id, f"outcome {n}", clock.now() + timedelta(days=n))


async def test_cards_carry_the_latest_outcomes_in_a_fixed_number_of_queries(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    counts = []
    async with sessions.begin() as session:
        await _customer_with_history(session, clock, 100, done=5)
        await _customer_with_history(session, clock, 101, done=0)
        for more in (range(0), range(102, 132)):
            for telegram_id in more:
                await _customer_with_history(session, clock, telegram_id, done=2)
            await session.flush()
            with statements(engine) as sent:
                cards = await customer_cards.search(session, "kim", limit=100)
            counts.append(len(sent))
    # the customers, then all their histories, tags, notes and the messages they turned off
    assert counts[0] == counts[1] == 5
    assert len(cards) == 32 and [c.telegram_id for c in cards[:3]] == [100, 101, 102]
    first, second, third = cards[:3]
    assert [(o.reason, o.outcome) for o in first.history] == [
        ("call 4", "outcome 4"),
        ("call 3", "outcome 3"),
        ("call 2", "outcome 2"),
    ]
    assert first.history[0].on == (clock.now() + timedelta(days=4)).date()
    assert second.history == () and len(third.history) == 2
    assert (first.first_name, first.last_name) == ("Kim", "No100")


async def test_no_match_reads_no_history(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await customer_cards.search(session, "nobody") == []
