"""Two claimers at once on PostgreSQL (FOR UPDATE SKIP LOCKED) never take the same row."""

from __future__ import annotations

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.people import outbox


async def test_concurrent_claims_are_disjoint(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, db_kind: str
) -> None:
    if db_kind != "postgres":
        pytest.skip("SQLite serialises writers (BEGIN IMMEDIATE): two open claims cannot overlap")
    async with sessions.begin() as session:
        for i in range(10):
            await outbox.enqueue(
                session,
                dedupe_key=f"k{i}",
                chat_id=i + 1,
                template="common.error",
                language="en",
                now=clock.now(),
            )
    async with sessions.begin() as first:
        mine = await outbox.claim_due(first, worker="a", now=clock.now(), limit=6)
        # The first claim is still uncommitted: its rows are locked, the second claimer skips them.
        async with sessions.begin() as second:
            theirs = await outbox.claim_due(second, worker="b", now=clock.now(), limit=6)
    assert len(mine) == 6 and len(theirs) == 4
    assert not {r.id for r in mine} & {r.id for r in theirs}
