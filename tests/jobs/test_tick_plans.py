"""A tick with nothing due reads index ranges, never a whole table: every SELECT one pass of each tick
really sends (recorded, with its parameters), explained over a quiet business of 20,000 customers
(tests/bulk.py) — EXPLAIN QUERY PLAN on SQLite, EXPLAIN on PostgreSQL (its custom and its generic
plan: asyncpg keeps statements prepared, and PostgreSQL may switch to the generic plan). A plan, not a
timing: benchmarks/ticks.py measures the same passes over a million customers."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.people.models import Customer
from tests import bulk, plans

CUSTOMERS = 20_000
# Past the staff digest's hour, on a day none was sent: the birthday pass reads today's birthdays too.
NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONFIG = Config(staff_chat_id=-100, staff_timezone="UTC")


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
