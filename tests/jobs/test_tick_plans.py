"""A tick with nothing due reads index ranges, never a whole table: every SELECT one pass of each tick
really sends (recorded, with its parameters), explained over a quiet business of 20,000 customers
(tests/bulk.py) — EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL (its custom and its generic
plan: asyncpg keeps statements prepared, and PostgreSQL may switch to the generic plan). A plan, not a
timing: benchmarks/ticks.py measures the same passes over a million customers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Executable, func, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.care.models import FeedbackItem, FollowUp
from storage.core.clock import FakeClock
from storage.core.config import BulkConfig, Config
from storage.core.models import BulkJob
from storage.loyalty.models import LedgerEntry, LoyaltyAccount, Purchase
from storage.people.birthdays import Birthday
from storage.people.models import Customer, OutboxMessage
from storage.surveys import invitations, sending
from storage.surveys.definitions import builtin
from tests import bulk, plans

CUSTOMERS = 20_000
# Past the staff digest's hour, on a day none was sent: the birthday pass reads today's birthdays too.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
# Bulk jobs in batches of 20 keys: with 200 (the default) over 20,000 invitations PostgreSQL reads the
# table whole rather than probe its unique index 200 times, rightly at that size (not checked at a
# million rows, where the probes are the cheaper plan).
CONFIG = Config(staff_chat_id=-100, staff_timezone="UTC", bulk=BulkConfig(batch=20, batches_per_tick=2))


@pytest.mark.parametrize("tick", list(bulk.IDLE))
async def test_a_pass_with_nothing_due_reads_no_table_whole(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tick: str
) -> None:
    await bulk.seed_quiet_business(engine, CUSTOMERS, NOW)
    run = bulk.ticks(sessions, FakeClock(NOW), CONFIG)[tick]
    with plans.recorded(engine) as sent:
        assert await run() == bulk.IDLE[tick]
    assert sent, "a pass reads what is due"
    for generic in [False, True] if engine.dialect.name == "postgresql" else [False]:
        scans = [s for s in await plans.explain(engine, sent, generic=generic) if s.full_scans]
        assert not scans, f"{'generic' if generic else 'custom'} plans:\n{plans.describe(scans)}"


async def test_the_check_sees_a_full_scan(engine: AsyncEngine) -> None:
    await bulk.seed_quiet_business(engine, 100, NOW)
    async with engine.connect() as conn:
        with plans.recorded(engine) as sent:
            await conn.execute(select(func.count()).select_from(Customer).where(Customer.first_name == "C7"))
    (explained,) = await plans.explain(engine, sent)
    assert explained.full_scans == ["customers"], explained.plan


# A few rows of each schedule made due (and, for win-back, valuable), so a pass does its work.
SOON, PAST = NOW + timedelta(days=3), NOW - timedelta(hours=1)
MAKE_DUE: dict[str, list[Executable]] = {
    "birthdays": [
        update(Customer)
        .where(Customer.id % 1000 == 0)
        .values(birthday=Birthday(3, 10), next_birthday_at=PAST)
    ],
    "followups": [
        update(FollowUp).where(FollowUp.remind_at.is_not(None), FollowUp.id % 20 == 0).values(remind_at=PAST)
    ],
    "expiry": [
        update(LedgerEntry).where(LedgerEntry.id % 2000 == 1).values(warn_at=SOON, expires_at=SOON),
        update(LedgerEntry).where(LedgerEntry.id % 2000 == 3).values(warn_at=None, expires_at=PAST),
    ],
    "winback": [
        update(LoyaltyAccount)
        .where((LoyaltyAccount.customer_id % 500 == 499) | (LoyaltyAccount.customer_id % 1000 == 0))
        .values(winback_due_at=PAST)
    ],
    "purchase_surveys": [update(Purchase).where(Purchase.id % 1000 == 0).values(survey_due_at=PAST)],
    "sender": [  # queued now, for reachable customers (the seed's queued rows are for blocked ones)
        update(OutboxMessage).where(OutboxMessage.id % 1000 == 1).values(status="queued", not_before=PAST)
    ],
    "complaints": [  # reopened items: the clock starts a round, long overdue, and escalates
        update(FeedbackItem).where(FeedbackItem.id % 20 == 0).values(status="open", reopened=1, alert_at=PAST)
    ],
    # Purchases recorded a moment ago: their customers are re-scored.
    "scoring": [update(LoyaltyAccount).where(LoyaltyAccount.customer_id % 1000 == 7).values(rescore_at=PAST)],
    "bulk": [  # the seed's survey (id 1) sent to all again: a pass fans out its first batches
        insert(BulkJob).values(
            key="plan",
            kind=sending.KIND,
            params=sending.params(1, "bulk-survey", "all", "plan"),
            due_at=NOW,
            requested_by=1,
            language="en",
            created_at=NOW,
        )
    ],
}
# Tables that hold a handful of rows whatever the number of customers: reading them whole is fine.
CATALOGS = {"surveys", "rewards", "staff_members"}


@pytest.mark.parametrize("tick", list(bulk.IDLE))
async def test_a_pass_with_work_due_reads_no_growing_table_whole(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession], tick: str
) -> None:
    await bulk.seed_quiet_business(engine, CUSTOMERS, NOW)
    async with sessions.begin() as session:
        for statement in MAKE_DUE[tick]:
            await session.execute(statement)
        await invitations.create(session, builtin("service", "csat"), created_by=1, now=NOW)
        await invitations.activate(session, "service", NOW)
    if engine.dialect.name == "postgresql":  # statistics that know the work made due, as autovacuum's
        async with engine.begin() as conn:  # would any moment now: the plans cannot depend on its timing
            await conn.execute(text("ANALYZE"))
    run = bulk.ticks(sessions, FakeClock(NOW), CONFIG)[tick]
    with plans.recorded(engine) as sent:
        assert await run() != bulk.IDLE[tick]
    for generic in [False, True] if engine.dialect.name == "postgresql" else [False]:
        explained = await plans.explain(engine, _distinct(sent), generic=generic)
        scans = [s for s in explained if set(s.full_scans) - CATALOGS]
        assert not scans, f"{'generic' if generic else 'custom'} plans:\n{plans.describe(scans)}"


def _distinct(statements: list[plans.Statement]) -> list[plans.Statement]:
    """One of each statement (per-row work repeats the same SQL with other values)."""
    return list({s.sql: s for s in statements}.values())
