"""Tiers come from points earned in the rolling window, never the balance; purchases earn
floor(amount × rate × multiplier) once per reference; the customer hears about it."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from storage.core.clock import FakeClock
from storage.core.config import LoyaltyConfig, Tier
from storage.loyalty import ledger, points, purchases, tiers
from storage.loyalty.points import PointsRefused
from storage.people.models import OutboxMessage
from tests.storage.loyalty_helpers import assert_consistent, assert_outbox_renders, new_customer

CONFIG = LoyaltyConfig(
    points_per_currency=Decimal("1"),
    tiers=(
        Tier("Member", 0, Decimal("1")),
        Tier("Silver", 500, Decimal("1.25")),
        Tier("Gold", 2000, Decimal("1.5")),
    ),
)


def test_tier_and_progress_are_pure_policy() -> None:
    assert tiers.tier_for(0, CONFIG).name == "Member"
    assert tiers.tier_for(499, CONFIG).name == "Member"
    assert tiers.tier_for(500, CONFIG).name == "Silver"
    assert tiers.tier_for(10_000, CONFIG).name == "Gold"
    p = tiers.progress(1250, CONFIG)
    assert (p.tier.name, p.next_tier and p.next_tier.name, p.missing, p.fraction) == (
        "Silver",
        "Gold",
        750,
        0.5,
    )
    top = tiers.progress(2500, CONFIG)
    assert top.next_tier is None and top.missing == 0
    assert tiers.bar(0.5) == "▰▰▰▰▰▱▱▱▱▱"


def test_purchase_points_floor_the_exact_product() -> None:
    silver = CONFIG.tiers[1]
    assert tiers.purchase_points(Decimal("10.99"), CONFIG.tiers[0], CONFIG) == 10
    assert tiers.purchase_points(Decimal("10.00"), silver, CONFIG) == 12  # 12.5
    # 0.1 × 3 in floats is 0.30000000000000004; decimals keep it exact.
    odd = LoyaltyConfig(points_per_currency=Decimal("0.1"))
    assert tiers.purchase_points(Decimal("30"), odd.tiers[0], odd) == 3


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("12.50", "12.50"),
        ("12,5", "12.5"),
        ("100000", "100000"),
        ("0", None),
        ("-3", None),
        ("abc", None),
        ("1.234", None),
        ("100000.01", None),
        ("NaN", None),
        ("1e3", "1E+3"),
    ],
)
def test_parse_amount(text: str, ok: str | None) -> None:
    if ok is None:
        with pytest.raises(PointsRefused):
            purchases.parse_amount(text, CONFIG)
    else:
        assert purchases.parse_amount(text, CONFIG) == Decimal(ok)


async def test_tier_is_computed_from_earned_not_balance(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        first = await purchases.record(
            session, kim, amount=Decimal("600"), reference="p1", now=now, config=CONFIG
        )
        assert first.points == 600 and first.tier_change == ("Member", "Silver")
        # Spending everything does not demote.
        await ledger.debit(session, customer_id=kim.id, points=600, kind="redeem", reference="r", now=now)
        status = await points.status(session, kim, now, CONFIG)
        assert status.balance == 0 and status.progress.tier.name == "Silver"
        # The Silver multiplier applies to the next purchase: floor(100 × 1.25).
        second = await purchases.record(
            session, kim, amount=Decimal("100"), reference="p2", now=now, config=CONFIG
        )
        assert second.points == 125
        # Refunds are not earnings.
        await ledger.credit(
            session, customer_id=kim.id, points=5000, kind="refund", reference="rf", now=now, config=CONFIG
        )
        assert (await points.status(session, kim, now, CONFIG)).progress.tier.name == "Silver"
        templates = list(await session.scalars(select(OutboxMessage.template).order_by(OutboxMessage.id)))
        assert templates == ["loyalty.purchase_recorded", "loyalty.tier_up", "loyalty.purchase_recorded"]
        await assert_outbox_renders(session, catalog)

    # Thirteen months on, the window no longer holds those earnings: back to Member, told once.
    later = now + timedelta(days=400)
    async with sessions.begin() as session:
        assert (await points.status(session, kim, later, CONFIG)).progress.tier.name == "Member"
        assert await points.refresh_tier(session, kim, later, CONFIG) == ("Silver", "Member")
        assert await points.refresh_tier(session, kim, later, CONFIG) is None
        await assert_consistent(session)


async def test_a_purchase_recorded_twice_counts_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    now = clock.now()
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        a = await purchases.record(
            session, kim, amount=Decimal("20"), reference="tg:1:5", now=now, config=CONFIG
        )
        b = await purchases.record(
            session, kim, amount=Decimal("20"), reference="tg:1:5", now=now, config=CONFIG
        )
        assert (a.duplicate, b.duplicate, b.points, b.balance) == (False, True, 20, 20)
        assert await ledger.balance(session, kim.id) == 20


async def test_award_and_deduct_bounds(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, catalog: Catalog
) -> None:
    now = clock.now()
    config = LoyaltyConfig(award_max=100)
    async with sessions.begin() as session:
        kim = await new_customer(session, 1, now)
        with pytest.raises(PointsRefused) as refused:
            await points.award(
                session, kim, points=101, reason="x", reference="a0", actor_id=7, now=now, config=config
            )
        assert refused.value.code == "loyalty.award_bounds"
        assert await points.award(
            session, kim, points=80, reason="sorry", reference="a1", actor_id=7, now=now, config=config
        )
        assert not await points.award(
            session, kim, points=80, reason="sorry", reference="a1", actor_id=7, now=now, config=config
        )
        with pytest.raises(PointsRefused) as refused:
            await points.deduct(session, kim, points=81, reason="typo", reference="d1", actor_id=7, now=now)
        assert refused.value.code == "loyalty.deduct_too_many" and refused.value.params == {"balance": 80}
        assert await points.deduct(
            session, kim, points=80, reason="typo", reference="d2", actor_id=7, now=now
        )
        assert await ledger.balance(session, kim.id) == 0
        await assert_consistent(session)
        await assert_outbox_renders(session, catalog)
