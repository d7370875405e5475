"""Redemption: exactly once per key, never oversold, never overdrawn — also under 1000 concurrent
attempts — and every refusal leaves no trace. Vouchers are used once and cancelled with a refund."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from storage.core import codes, db
from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig
from storage.loyalty import ledger, redemptions, rewards
from storage.loyalty.models import LedgerEntry, Reward, Voucher
from storage.loyalty.redemptions import RedemptionRefused
from tests.storage.loyalty_helpers import assert_consistent, assert_outbox_renders, give, new_customer

CONFIG = LoyaltyConfig()


async def _reward(session: AsyncSession, now, **spec: str) -> Reward:
    return await rewards.add(session, {"title": "Coffee", "cost": "100", **spec}, CONFIG, now)


async def test_redeem_once_per_key_and_voucher_life(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        await give(session, kim.id, 250, now, "g")
        coffee = await _reward(session, now, stock="5")
    async with sessions.begin() as session:
        first = await redemptions.redeem(session, kim, coffee.id, key="tok1", now=now, config=CONFIG)
    async with sessions.begin() as session:
        again = await redemptions.redeem(session, kim, coffee.id, key="tok1", now=now, config=CONFIG)
        assert again.replayed and again.voucher.code == first.voucher.code
        assert await ledger.balance(session, kim.id) == 150
        assert (await rewards.get(session, coffee.id)).stock == 4
    code = first.voucher.code
    assert len(code) == 8 and set(code) <= set(codes.ALPHABET)

    async with sessions.begin() as session:
        used = await redemptions.fulfil(session, code.lower()[:4] + "-" + code[4:], actor_id=77, now=now)
        assert (used.status, used.used_by) == ("used", 77)
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.fulfil(session, code, actor_id=78, now=now + timedelta(hours=1))
    assert refused.value.code == "reward.fulfil_used"
    assert (refused.value.params["used_by"], refused.value.params["used_at"]) == (77, now)
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.cancel(session, code, reason="x", actor_id=1, now=now, config=CONFIG)
    assert refused.value.code == "reward.cancel_used"

    async with sessions.begin() as session:
        second = await redemptions.redeem(session, kim, coffee.id, key="tok2", now=now, config=CONFIG)
        cancelled = await redemptions.cancel(
            session, second.voucher.code, reason="out of beans", actor_id=1, now=now, config=CONFIG
        )
        assert cancelled.status == "cancelled"
        assert await ledger.balance(session, kim.id) == 150
        assert (await rewards.get(session, coffee.id)).stock == 4
        await assert_consistent(session)
        await assert_outbox_renders(session, catalog)
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.fulfil(session, second.voucher.code, actor_id=1, now=now)
    assert refused.value.code == "reward.fulfil_cancelled"
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.fulfil(session, "ZZZZ2222", actor_id=1, now=now)
    assert refused.value.code == "reward.voucher_unknown"


async def test_an_expired_voucher_cannot_be_used(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    now = clock.now()
    config = LoyaltyConfig(voucher_days=30)
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        await give(session, kim.id, 100, now, "g")
        coffee = await _reward(session, now)
        voucher = (await redemptions.redeem(session, kim, coffee.id, key="k", now=now, config=config)).voucher
    later = now + timedelta(days=31)
    assert redemptions.status_of(voucher, later) == "expired"
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.fulfil(session, voucher.code, actor_id=1, now=later)
    assert refused.value.code == "reward.fulfil_expired"


@pytest.mark.parametrize(
    ("spec", "balance", "earlier", "code"),
    [
        ({}, 99, 0, "reward.refused_points"),
        ({"stock": "0"}, 500, 0, "reward.refused_stock"),
        ({"limit": "1"}, 500, 1, "reward.refused_limit"),
        ({"tier": "Silver"}, 400, 0, "reward.refused_tier"),
    ],
)
async def test_refusals_change_nothing(
    sessions: async_sessionmaker[AsyncSession],
    clock: FakeClock,
    spec: dict,
    balance: int,
    earlier: int,
    code: str,
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        await ledger.credit(
            session, customer_id=kim.id, points=balance, kind="refund", reference="g", now=now, config=CONFIG
        )
        reward = await _reward(session, now, **spec)
        for i in range(earlier):
            await redemptions.redeem(session, kim, reward.id, key=f"e{i}", now=now, config=CONFIG)
    async with sessions.begin() as session:
        before = (await ledger.balance(session, kim.id), (await rewards.get(session, reward.id)).stock)
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.redeem(session, kim, reward.id, key="k", now=now, config=CONFIG)
    assert refused.value.code == code
    async with sessions.begin() as session:
        assert (
            await ledger.balance(session, kim.id),
            (await rewards.get(session, reward.id)).stock,
        ) == before
        assert await redemptions.by_key(session, "k") is None
        await assert_consistent(session)


async def test_a_disabled_reward_is_refused(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        await give(session, kim.id, 500, now, "g")
        reward = await _reward(session, now)
        await rewards.set_active(session, reward.id, False, now)
    with pytest.raises(RedemptionRefused) as refused:
        async with sessions.begin() as session:
            await redemptions.redeem(session, kim, reward.id, key="k", now=now, config=CONFIG)
    assert refused.value.code == "reward.refused_disabled"


async def test_catalog_validation(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    now = clock.now()
    assert rewards.parse_spec("title=Free coffee | cost=150 | stock=unlimited") == {
        "title": "Free coffee",
        "cost": "150",
        "stock": "unlimited",
    }
    for bad in (
        "title",
        "colour=red",
        "cost=0",
        "cost=-5",
        "cost=abc",
        "stock=-1",
        "tier=Platinum",
        "limit=0",
    ):
        with pytest.raises(rewards.CatalogRefused):
            rewards.validate(rewards.parse_spec(bad), CONFIG)
    async with sessions.begin() as session:
        with pytest.raises(rewards.CatalogRefused):
            await rewards.add(session, {"title": "No cost"}, CONFIG, now)
        r = await rewards.add(
            session, rewards.parse_spec("title=Mug|cost=300|stock=-|tier=gold|limit=2"), CONFIG, now
        )
        assert (r.stock, r.min_tier, r.per_customer_limit) == (None, "Gold", 2)
        r = await rewards.edit(session, r.id, {"tier": "member", "stock": "3"}, CONFIG, now)
        assert (r.stock, r.min_tier) == (3, None)
        with pytest.raises(rewards.CatalogRefused):
            await rewards.edit(session, 999, {"cost": "5"}, CONFIG, now)


async def test_1000_concurrent_redemptions_by_100_customers_on_stock_10(
    database_url: str, clock: FakeClock
) -> None:
    """Separate sessions per attempt, all at once: exactly 10 vouchers, no negative balance, and the
    ledger sum equals the cached balance for every account.

    The engine is configured as the bot's is: on SQLite one pooled connection (units of work queue in
    the pool; 20 connections made writers starve each other in SQLite's busy handler until one gave up
    with "database is locked"), on PostgreSQL 20 connections contending for the same rows."""
    pooled = {} if db.is_sqlite(database_url) else {"pool_size": 20, "max_overflow": 0}
    engine = db.create_engine(database_url, pool_timeout=300, **pooled)
    sessions = db.create_session_factory(engine)
    now = clock.now()
    try:
        async with sessions.begin() as session:
            people = [await new_customer(session, 1000 + i, now, f"C{i}") for i in range(100)]
            for p in people:
                await give(session, p.id, 250, now, f"g{p.id}")  # enough for two each
            reward = await _reward(session, now, stock="10")

        async def attempt(customer, n: int) -> str:
            try:
                async with sessions.begin() as session:
                    await redemptions.redeem(
                        session, customer, reward.id, key=f"{customer.id}:{n}", now=now, config=CONFIG
                    )
                return "ok"
            except RedemptionRefused as refused:
                return refused.code

        # return_exceptions: one failed attempt must not leave 999 others running past the test.
        outcomes = await asyncio.gather(
            *(attempt(p, n) for n in range(10) for p in people), return_exceptions=True
        )
        failures = Counter(repr(o)[:200] for o in outcomes if isinstance(o, BaseException))
        assert not failures, failures
        assert outcomes.count("ok") == 10, Counter(outcomes)
        assert set(outcomes) <= {"ok", "reward.refused_stock", "reward.refused_points"}
        async with sessions.begin() as session:
            assert await session.scalar(select(func.count(Voucher.id))) == 10
            assert (await rewards.get(session, reward.id)).stock == 0
            redeemed = await session.scalar(
                select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == "redeem")
            )
            assert redeemed == 10
            await assert_consistent(session)
    finally:
        await engine.dispose()
