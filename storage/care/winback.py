"""Win-back: customers drifting away. When a customer's lapse time comes (storage.loyalty.lapses
schedules it after every purchase) and the customer was valuable, staff get a follow-up task (kind
"winback", reminded by the follow-ups tick) and, if configured, the customer a "we miss you" message.
Once per lapse: the task's source_ref names the last purchase, and a new purchase starts a new lapse.

Valuable: spent at least `min_spend` in the 12 months up to the last purchase. A threshold, not a
top-X% rank: it is decided from the customer's own rows, stays stable as others buy, and staff can
read it ("spent 820 in a year") on the card.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import followups
from storage.care.models import FollowUp
from storage.core.claims import claim_due
from storage.core.config import Config
from storage.loyalty import ledger
from storage.loyalty.models import LoyaltyAccount, Purchase
from storage.loyalty.tiers import add_months
from storage.people import outbox
from storage.people.models import Customer


async def spend(session: AsyncSession, customer_id: int, since: datetime, until: datetime) -> Decimal:
    total = await session.scalar(
        select(func.coalesce(func.sum(Purchase.amount), 0)).where(
            Purchase.customer_id == customer_id, Purchase.created_at > since, Purchase.created_at <= until
        )
    )
    return Decimal(total or 0)


def task_ref(customer_id: int, purchase_id: int) -> str:
    return f"winback:{customer_id}:{purchase_id}"


async def handle_due(
    session: AsyncSession, now: datetime, config: Config, *, limit: int = 500
) -> tuple[int, int]:
    """Handle the lapses that have come (index range on winback_due_at); returns (rows read, tasks
    created): fewer read than `limit` means nothing more is due. Every row read leaves the schedule,
    valuable or not (without a purchase a customer's spend only falls).

    A new follow-up's card goes to the staff group as its first reminder (the follow-ups tick reminds once
    more while it stays open); without a staff group it waits in /followups."""
    rows = await claim_due(
        session,
        LoyaltyAccount.winback_due_at,
        LoyaltyAccount.customer_id,
        LoyaltyAccount.winback_purchase_id,
        until=now,
        limit=limit,
    )
    created = 0
    for customer_id, purchase_id in rows:
        last = await session.get(Purchase, purchase_id) if purchase_id is not None else None
        customer = await session.get(Customer, customer_id)
        if last is None or customer is None:
            continue
        spent = await spend(session, customer_id, add_months(last.created_at, -12), last.created_at)
        if spent < config.winback.min_spend:
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
        created += 1
        if config.winback.message and customer.unreachable_at is None:
            await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=ref,
                template="winback.message",
                params={"name": customer.first_name, "balance": await ledger.balance(session, customer_id)},
                now=now,
            )
        if config.staff_chat_id is not None:
            await _queue_card(session, follow_up, customer, days, spent, now, config)
    await session.flush()
    return len(rows), created


async def _queue_card(
    session: AsyncSession,
    follow_up: FollowUp,
    customer: Customer,
    days: int,
    spent: Decimal,
    now: datetime,
    config: Config,
) -> None:
    assert config.staff_chat_id is not None
    await outbox.enqueue(
        session,
        dedupe_key=followups.reminder_key(follow_up),
        chat_id=config.staff_chat_id,
        template="winback.card",
        language=config.default_language,
        params={
            "id": follow_up.id,
            "customer_id": customer.id,
            "name": customer.first_name,
            "username": f"@{customer.username}" if customer.username else "",
            "days": days,
            "spent": f"{spent:.2f}",
        },
        now=now,
        buttons=await followups.card_buttons(session, follow_up, now),
    )
    followups.reminded(follow_up, now, config.followups)
