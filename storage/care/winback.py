"""Win-back: customers drifting away. When a customer's lapse time comes (storage.loyalty.lapses
schedules it after every purchase) and the customer was valuable, staff get a follow-up task (kind
"winback", reminded by the follow-ups tick) and, if configured, the customer a "we miss you" message.
Once per lapse: the task's source_ref names the last purchase, and a new purchase starts a new lapse.

Valuable: spent at least `min_spend` in the 12 months up to the last purchase. A threshold, not a
top-X% rank: it is decided from the customer's own rows, stays stable as others buy, and staff can
read it ("spent 820 in a year") on the card.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import String, cast, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import followups
from storage.care.models import FollowUp
from storage.core.claims import claim_due
from storage.core.config import Config
from storage.loyalty.models import LoyaltyAccount, Purchase
from storage.loyalty.tiers import add_months
from storage.people import contact_budget, outbox, preferences
from storage.people.models import Customer

YEAR = 12  # months of spending that make a customer valuable, up to the last purchase


def task_ref(customer_id: int, purchase_id: int) -> str:
    return f"winback:{customer_id}:{purchase_id}"


@dataclass(frozen=True)
class Lapse:
    """A due lapse with what deciding it needs: the customer, their last purchase, their balance, and
    whether its task exists already."""

    customer: Customer
    purchase_id: int
    last_purchase_at: datetime
    balance: int
    has_task: bool


async def _lapses(session: AsyncSession, purchase_ids: list[int]) -> dict[int, Lapse]:
    """The due lapses by purchase id, in one query: purchase, customer, account, and the task (task_ref,
    written in SQL) looked up per row in its unique index — a subquery, not a join, which PostgreSQL
    may hash over every follow-up."""
    ref = literal("winback:") + cast(Customer.id, String) + ":" + cast(Purchase.id, String)
    task = select(FollowUp.id).where(FollowUp.source_ref == ref).scalar_subquery()
    rows = await session.execute(
        select(Customer, Purchase.id, Purchase.created_at, LoyaltyAccount.balance, task)
        .join(Purchase, Purchase.customer_id == Customer.id)
        .join(LoyaltyAccount, LoyaltyAccount.customer_id == Customer.id)
        .where(Purchase.id.in_(purchase_ids))
    )
    return {
        purchase_id: Lapse(customer, purchase_id, created_at, balance, task_id is not None)
        for customer, purchase_id, created_at, balance, task_id in rows.all()
    }


async def _spends(session: AsyncSession, lapses: Iterable[Lapse]) -> dict[int, Decimal]:
    """Each lapsed customer's spend in the year up to their last purchase, by customer id (0 when none),
    in one query: the customers' purchases within the widest of those windows, summed within each
    customer's own."""
    windows = {
        lapse.customer.id: (add_months(lapse.last_purchase_at, -YEAR), lapse.last_purchase_at)
        for lapse in lapses
    }
    spent: dict[int, Decimal] = defaultdict(Decimal)
    if not windows:
        return spent
    rows = await session.execute(
        select(Purchase.customer_id, Purchase.created_at, Purchase.amount).where(
            Purchase.customer_id.in_(list(windows)),
            Purchase.created_at > min(since for since, _ in windows.values()),
            Purchase.created_at <= max(until for _, until in windows.values()),
        )
    )
    for customer_id, created_at, amount in rows.all():
        since, until = windows[customer_id]
        if since < created_at <= until:
            spent[customer_id] += amount
    return spent


async def handle_due(
    session: AsyncSession, now: datetime, config: Config, *, limit: int = 500
) -> tuple[int, int]:
    """Handle the lapses that have come (index range on winback_due_at); returns (rows read, tasks
    created): fewer read than `limit` means nothing more is due. Every row read leaves the schedule,
    valuable or not (without a purchase a customer's spend only falls).

    A batch reads in three queries whatever number of rows is due (the claim, the lapses, the spends);
    then each new task is written. A new follow-up's card goes to the staff group as its first
    reminder (the follow-ups tick reminds once more while it stays open); without a staff group it
    waits in /followups."""
    rows = await claim_due(
        session,
        LoyaltyAccount.winback_due_at,
        LoyaltyAccount.customer_id,
        LoyaltyAccount.winback_purchase_id,
        until=now,
        limit=limit,
    )
    if not rows:
        return 0, 0
    lapses = await _lapses(session, [purchase_id for _, purchase_id in rows if purchase_id is not None])
    due = [
        lapse
        for customer_id, purchase_id in rows
        if (lapse := lapses.get(purchase_id or 0)) is not None and lapse.customer.id == customer_id
    ]
    spent = await _spends(session, (lapse for lapse in due if not lapse.has_task))
    # The "we miss you" message is promotional: the customer's offers preference and the contact
    # budget decide (one screening for the batch); the staff task is made either way.
    screened = await contact_budget.screen(
        session,
        [lapse.customer.id for lapse in due if config.winback.message and not lapse.has_task],
        preferences.OFFERS,
        now,
        config.contact,
    )
    created = 0
    for lapse in due:
        customer, amount = lapse.customer, spent.get(lapse.customer.id, Decimal(0))
        if lapse.has_task or amount < config.winback.min_spend:
            continue
        ref = task_ref(customer.id, lapse.purchase_id)
        days = (now - lapse.last_purchase_at).days
        follow_up = await followups.create(
            session,
            customer_id=customer.id,
            kind="winback",
            # Stored text (staff lists, the customer's card); the localized card is winback.card.
            reason=f"win-back: {days} days since the last purchase, {amount:.2f} spent in the year before",
            due_at=now,
            source_ref=ref,
        )
        created += 1
        if customer.id in screened.due and customer.unreachable_at is None:
            await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=ref,
                template="winback.message",
                params={"name": customer.first_name, "balance": lapse.balance},
                now=now,
                not_before=screened.due[customer.id],
                buttons=[preferences.STOP_OFFERS_ROW],
            )
        if config.staff_chat_id is not None:
            await _queue_card(session, follow_up, customer, days, amount, now, config)
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
