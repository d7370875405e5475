"""Points operations staff and the programme perform on top of the ledger: awards, deductions, the
customer's status (balance, tier, what expires soon) and tier changes, each telling the customer
through the outbox in the same transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import LoyaltyConfig, Tier
from storage.core.refusals import Refused
from storage.loyalty import ledger, tiers
from storage.loyalty.models import LoyaltyAccount
from storage.loyalty.tiers import TierProgress
from storage.people import outbox
from storage.people.models import Customer

EXPIRY_NOTICE = timedelta(days=30)
# One award or deduction: far inside the ledger's INTEGER columns (PostgreSQL int4).
POINTS_MAX = 10_000_000
REASON_MAX = 500  # the reason staff give, shown to the customer


class PointsRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


@dataclass(frozen=True)
class Status:
    balance: int
    progress: TierProgress
    expiring: list[ledger.ExpiringLot]


async def status(session: AsyncSession, customer: Customer, now: datetime, config: LoyaltyConfig) -> Status:
    earned = await ledger.earned_in_window(session, customer.id, now, config)
    return Status(
        balance=await ledger.balance(session, customer.id),
        progress=tiers.progress(earned, config),
        expiring=await ledger.lots_expiring(session, now, now + EXPIRY_NOTICE, customer_id=customer.id),
    )


async def current_tier(session: AsyncSession, customer_id: int, now: datetime, config: LoyaltyConfig) -> Tier:
    """The tier /points shows: from the points earned in the rolling window."""
    return tiers.tier_for(await ledger.earned_in_window(session, customer_id, now, config), config)


def tier_of(
    now: Callable[[], datetime], config: LoyaltyConfig
) -> Callable[[AsyncSession, Customer], Awaitable[str | None]]:
    """A storage.greetings.TierOf hook: the customer's current tier name."""

    async def hook(session: AsyncSession, customer: Customer) -> str | None:
        return (await current_tier(session, customer.id, now(), config)).name

    return hook


async def refresh_tier(
    session: AsyncSession, customer: Customer, now: datetime, config: LoyaltyConfig
) -> tuple[str, str] | None:
    """Recompute the tier from earned points; on a change, store it and tell the customer once.

    Returns (old, new) tier names on a change."""
    account = await ledger.lock_account(session, customer.id, now)
    earned = await ledger.earned_in_window(session, customer.id, now, config)
    new = tiers.tier_for(earned, config)
    old = tiers.find_tier(account.tier, config) if account.tier else config.tiers[0]
    old = old or config.tiers[0]
    if new == old:
        if account.tier != new.name:  # a renamed or first-time record; not a change the customer sees
            await _store_tier(session, customer.id, new.name)
        return None
    await _store_tier(session, customer.id, new.name)
    up = tiers.rank(new.name, config) > tiers.rank(old.name, config)
    await outbox.enqueue_for_customer(
        session,
        customer,
        dedupe_key=f"tier:{customer.id}:{new.name}:{now.isoformat()}",
        template="loyalty.tier_up" if up else "loyalty.tier_down",
        params={"tier": new.label(), "multiplier": str(new.multiplier)},
        now=now,
    )
    return old.name, new.name


async def _store_tier(session: AsyncSession, customer_id: int, name: str) -> None:
    await session.execute(
        update(LoyaltyAccount).where(LoyaltyAccount.customer_id == customer_id).values(tier=name)
    )


async def award(
    session: AsyncSession,
    customer: Customer,
    *,
    points: int,
    reason: str,
    reference: str,
    actor_id: int,
    now: datetime,
    config: LoyaltyConfig,
) -> bool:
    """Give points (1..award_max); False when this reference was handled before."""
    if not 0 < points <= config.award_max:
        raise PointsRefused("loyalty.award_bounds", max=config.award_max)
    added = await ledger.credit(
        session,
        customer_id=customer.id,
        points=points,
        kind="award",
        reference=reference,
        now=now,
        note=reason,
        actor_id=actor_id,
        config=config,
    )
    if added:
        await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=f"notify:{reference}",
            template="loyalty.awarded",
            params={
                "points": points,
                "reason": reason,
                "balance": await ledger.balance(session, customer.id),
            },
            now=now,
        )
        await refresh_tier(session, customer, now, config)
    return added


async def deduct(
    session: AsyncSession,
    customer: Customer,
    *,
    points: int,
    reason: str,
    reference: str,
    actor_id: int,
    now: datetime,
) -> bool:
    """Take points back; never below zero (PointsRefused with the balance). False when repeated."""
    if points <= 0:
        raise PointsRefused("loyalty.points_positive")
    try:
        taken = await ledger.debit(
            session,
            customer_id=customer.id,
            points=points,
            kind="deduct",
            reference=reference,
            now=now,
            note=reason,
            actor_id=actor_id,
        )
    except ledger.InsufficientPoints:
        raise PointsRefused(
            "loyalty.deduct_too_many", balance=await ledger.balance(session, customer.id)
        ) from None
    if taken:
        await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=f"notify:{reference}",
            template="loyalty.deducted",
            params={
                "points": points,
                "reason": reason,
                "balance": await ledger.balance(session, customer.id),
            },
            now=now,
        )
    return taken
