"""The ledger: debits never overdraw, lots are consumed first in first out, expiry takes exactly the
unspent remainder of each lot, and the balance cache always equals the sum of the entries."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig
from storage.loyalty import ledger
from storage.loyalty.models import LedgerEntry
from storage.loyalty.tiers import add_months
from tests.storage.loyalty_helpers import assert_consistent, give, new_customer

CONFIG = LoyaltyConfig(expiry_months=12)


async def test_debit_refuses_an_overdraft_and_changes_nothing(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        await give(session, kim.id, 100, now, "a")
    with pytest.raises(ledger.InsufficientPoints):
        async with sessions.begin() as session:
            await ledger.debit(session, customer_id=kim.id, points=101, kind="deduct", reference="d", now=now)
    async with sessions.begin() as session:
        assert await ledger.balance(session, kim.id) == 100
        assert await ledger.debit(
            session, customer_id=kim.id, points=100, kind="deduct", reference="d", now=now
        )
        # The same reference again: nothing happens.
        assert not await ledger.debit(
            session, customer_id=kim.id, points=100, kind="deduct", reference="d", now=now
        )
        assert await ledger.balance(session, kim.id) == 0
        await assert_consistent(session)


async def test_expiry_is_fifo_across_partial_spends(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    t0 = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, t0)
        await give(session, kim.id, 100, t0, "lot1", config=CONFIG)  # expires t0 + 12 months
        await give(session, kim.id, 50, t0 + timedelta(days=40), "lot2", config=CONFIG)
        await give(
            session, kim.id, 30, t0 + timedelta(days=80), "lot3", config=LoyaltyConfig(expiry_months=None)
        )
        # Spend 120: all of lot1 (100) and 20 of lot2; lot3 (never expires) untouched.
        await ledger.debit(session, customer_id=kim.id, points=120, kind="redeem", reference="r1", now=t0)
    async with sessions.begin() as session:
        lots = {e.reference: e.remaining for e in await session.scalars(select(LedgerEntry))}
        assert (lots["lot1"], lots["lot2"], lots["lot3"]) == (0, 30, 30)

    # Lot 1 is due: fully spent, so nothing expires and the balance does not move.
    after_lot1 = t0.replace(year=t0.year + 1) + timedelta(days=1)
    async with sessions.begin() as session:
        assert await ledger.expire_due(session, after_lot1) == []
        assert await ledger.balance(session, kim.id) == 60

    # Lot 2 is reported as expiring with exactly its unspent 30, then expires by exactly 30.
    lot2_due = t0.replace(year=t0.year + 1) + timedelta(days=40)
    async with sessions.begin() as session:
        soon = await ledger.lots_expiring(session, after_lot1, lot2_due + timedelta(days=1))
        assert [(x.customer_id, x.points, x.expires_at) for x in soon] == [(kim.id, 30, lot2_due)]
        expired = await ledger.expire_due(session, lot2_due)
        assert [(x.points, x.expires_at) for x in expired] == [(30, lot2_due)]
        assert await ledger.balance(session, kim.id) == 30
        # Repeating the tick (or a second instance) expires nothing more.
        assert await ledger.expire_due(session, lot2_due + timedelta(days=400)) == []
        assert await ledger.balance(session, kim.id) == 30
        kinds = [
            (e.kind, e.points) for e in await session.scalars(select(LedgerEntry).order_by(LedgerEntry.id))
        ]
        assert kinds[-1] == ("expire", -30)
        await assert_consistent(session)


async def test_a_spend_after_a_partial_expiry_takes_the_next_lot(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    t0 = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, t0)
        await give(session, kim.id, 10, t0, "a", config=LoyaltyConfig(expiry_months=1))
        await give(session, kim.id, 10, t0 + timedelta(days=1), "b", config=LoyaltyConfig(expiry_months=1))
        await ledger.debit(session, customer_id=kim.id, points=4, kind="deduct", reference="x", now=t0)
    async with sessions.begin() as session:
        expired = await ledger.expire_due(session, t0 + timedelta(days=31, hours=12))
        assert [x.points for x in expired] == [6]  # lot a: 10 - 4 spent
        assert await ledger.balance(session, kim.id) == 10
        await ledger.debit(session, customer_id=kim.id, points=10, kind="deduct", reference="y", now=t0)
        assert await ledger.expire_due(session, t0 + timedelta(days=100)) == []
        assert await ledger.balance(session, kim.id) == 0
        await assert_consistent(session)


async def test_expiry_in_batches_takes_every_due_lot_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """A batch is the customers of the earliest due lots, each with all their due lots; batch after
    batch until one returns fewer than the limit, every due lot expires once, none that is not due."""
    t0 = clock.now()
    month = LoyaltyConfig(expiry_months=1)
    async with sessions.begin() as session:
        ids = [(await new_customer(session, 10 + i, t0, f"C{i}")).id for i in range(4)]
        for day, (customer, points) in enumerate([(0, 5), (1, 7), (0, 11), (2, 13), (3, 17), (1, 19)]):
            await give(session, ids[customer], points, t0 + timedelta(days=day), f"lot{day}", config=month)
    # Due: the lots given on days 0-4 (expiring a month later); the last (day 5) is not.
    now = add_months(t0 + timedelta(days=4), 1)
    batches = []
    while True:
        async with sessions.begin() as session:
            expired = await ledger.expire_due(session, now, limit=2)
        batches.append(sorted(x.points for x in expired))
        if len(expired) < 2:
            break
    assert sorted(p for batch in batches for p in batch) == [5, 7, 11, 13, 17]
    assert batches[0] == [5, 7, 11]  # customers 0 and 1 (days 0 and 1): customer 0's day-2 lot too
    async with sessions.begin() as session:
        assert await ledger.balance(session, ids[1]) == 19
        assert await ledger.expire_due(session, now) == []
        await assert_consistent(session)


async def test_history_pages_newest_first(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, clock.now())
        for i in range(12):
            await give(session, kim.id, i + 1, clock.now() + timedelta(minutes=i), f"h{i}")
        first, more = await ledger.history(session, kim.id, offset=0, limit=10)
        assert [e.points for e in first] == list(range(12, 2, -1)) and more
        rest, more = await ledger.history(session, kim.id, offset=10, limit=10)
        assert [e.points for e in rest] == [2, 1] and not more


@pytest.mark.parametrize("kind", sorted(ledger.CREDIT_KINDS))
async def test_every_credit_kind_expires_as_the_settings_say(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, kind: str
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        for months, reference in ((12, "a"), (None, "b")):
            config = LoyaltyConfig(expiry_months=months)
            await ledger.credit(
                session, customer_id=kim.id, points=5, kind=kind, reference=reference, now=now, config=config
            )
        lots = {e.reference: e for e in await session.scalars(select(LedgerEntry))}
    assert lots["a"].expires_at == add_months(now, 12) and lots["a"].warn_at == lots["a"].expires_at
    assert lots["b"].expires_at is None
