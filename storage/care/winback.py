"""Win-back: customers drifting away. Every recorded purchase reschedules the customer's lapse time
(loyalty_accounts.winback_due_at, indexed); when it comes and the customer was valuable, staff get a
follow-up (kind "winback", reminded by the follow-ups tick) and, if configured, the customer a
"we miss you" message. Once per lapse: the follow-up's source_ref names the last purchase, and a new
purchase starts a new lapse.

Lapsed: no purchase for longer than the usual interval between purchases × factor (the median gap of
the recent purchases, for customers with 3 or more), else longer than `days`.
Valuable: spent at least `min_spend` in the 12 months up to the last purchase. A threshold, not a
top-X% rank: it is decided from the customer's own rows, stays stable as others buy, and staff can
read it ("spent 820 in a year") on the card.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from statistics import median

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import followups
from storage.care.models import FollowUp
from storage.core.config import WinbackConfig
from storage.loyalty import ledger
from storage.loyalty.models import LoyaltyAccount, Purchase
from storage.loyalty.tiers import add_months
from storage.people import outbox
from storage.people.models import Customer

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


async def spend(session: AsyncSession, customer_id: int, since: datetime, until: datetime) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(Purchase.amount), 0)).where(
            Purchase.customer_id == customer_id, Purchase.created_at > since, Purchase.created_at <= until
        )
    )
    return Decimal(total or 0)


@dataclass(frozen=True)
class Lapse:
    follow_up: FollowUp
    customer: Customer
    days: int  # since the last purchase
    spent: Decimal  # in the 12 months up to it


def task_ref(customer_id: int, purchase_id: int) -> str:
    return f"winback:{customer_id}:{purchase_id}"


async def handle_due(
    session: AsyncSession, now: datetime, config: WinbackConfig, *, limit: int = 500
) -> tuple[int, list[Lapse]]:
    """Handle the lapses that have come (index range on winback_due_at); returns (rows read, the
    lapses that got a new follow-up):
    fewer read than `limit` means nothing more is due. Every row read leaves the schedule, valuable
    or not (without a purchase a customer's spend only falls)."""
    due = (
        select(LoyaltyAccount.customer_id, LoyaltyAccount.winback_purchase_id)
        .where(LoyaltyAccount.winback_due_at <= now)
        .order_by(LoyaltyAccount.winback_due_at)
        .limit(limit)
    )
    if session.bind.dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True)
    rows = (await session.execute(due)).all()
    if not rows:
        return 0, []
    await session.execute(
        update(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id.in_([r.customer_id for r in rows]))
        .values(winback_due_at=None)
    )
    created: list[Lapse] = []
    for customer_id, purchase_id in rows:
        last = await session.get(Purchase, purchase_id) if purchase_id is not None else None
        customer = await session.get(Customer, customer_id)
        if last is None or customer is None:
            continue
        spent = await spend(session, customer_id, add_months(last.created_at, -12), last.created_at)
        if spent < config.min_spend:
            continue
        ref = task_ref(customer_id, last.id)
        days = (now - last.created_at).days
        existing = await session.scalar(select(FollowUp.id).where(FollowUp.source_ref == ref))
        if existing is not None:
            continue
        follow_up = await followups.create(
            session,
            customer_id=customer_id,
            kind="winback",
            # Stored text (staff lists, the customer's card); the localized card is winback.card.
            reason=f"win-back: {days} days since the last purchase, {spent:.2f} spent in the year before",
            due_at=now,
            source_ref=ref,
        )
        created.append(Lapse(follow_up, customer, days, spent))
        if config.message and customer.unreachable_at is None:
            await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=ref,
                template="winback.message",
                params={"name": customer.first_name, "balance": await ledger.balance(session, customer_id)},
                now=now,
            )
    await session.flush()
    return len(rows), created
