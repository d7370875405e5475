"""A customer's purchase rhythm: when, after their last purchase, they count as lapsed.

Every recorded purchase reschedules the customer's lapse time (loyalty_accounts.winback_due_at,
indexed): no purchase for longer than the usual interval between purchases × factor (the median gap
of the recent purchases, for customers with 3 or more), else longer than `days`. What happens when
the time comes is care's business (storage.care.winback)."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import WinbackConfig
from storage.loyalty import ledger
from storage.loyalty.models import LoyaltyAccount, Purchase

RECENT = 10  # purchases the usual interval is taken from
MIN_HISTORY = 3  # purchases needed before the interval counts
MIN_LAPSE = timedelta(days=7)  # two purchases on one day do not make a lapse of minutes


def lapse_after(created: list[datetime], config: WinbackConfig) -> timedelta:
    """How long after the last of these purchases (oldest first) the customer counts as lapsed."""
    if len(created) < MIN_HISTORY:
        return timedelta(days=config.days)
    gaps = [(b - a).total_seconds() for a, b in pairwise(created)]
    return max(MIN_LAPSE, timedelta(seconds=float(Decimal(str(median(gaps))) * config.factor)))


async def schedule(session: AsyncSession, customer_id: int, now: datetime, config: WinbackConfig) -> datetime:
    """After a purchase: the customer's next lapse time, from their purchase history."""
    recent = (
        await session.execute(
            select(Purchase.id, Purchase.created_at)
            .where(Purchase.customer_id == customer_id)
            .order_by(Purchase.created_at.desc(), Purchase.id.desc())
            .limit(RECENT)
        )
    ).all()
    last_id, last_at = recent[0]
    due = last_at + lapse_after([created for _, created in reversed(recent)], config)
    await ledger.ensure_account(session, customer_id, now)
    await session.execute(
        update(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id == customer_id)
        .values(winback_due_at=due, winback_purchase_id=last_id)
    )
    return due
