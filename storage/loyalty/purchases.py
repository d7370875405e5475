"""Recording a purchase: points = floor(amount × rate × tier multiplier), the customer told, the
tier refreshed and a pending referral rewarded, all once per reference. It also schedules what a
purchase leads to later: its survey invitation (survey_due_at), the customer's win-back time, and
their re-scoring (rescore_at: storage.insight re-derives their value within seconds)."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import LoyaltyConfig, SurveyConfig, WinbackConfig
from storage.core.upsert import insert_ignore
from storage.loyalty import lapses, ledger, points, referrals, tiers
from storage.loyalty.models import LoyaltyAccount, Purchase
from storage.loyalty.points import PointsRefused
from storage.people import outbox
from storage.people.models import Customer

NOTE_MAX = 500  # a purchase's note, as staff type it
AMOUNT_CHARS = 20  # longer than any amount up to purchase_max with two decimals


@dataclass(frozen=True)
class Recorded:
    purchase: Purchase
    points: int
    balance: int
    duplicate: bool  # this reference was recorded before; nothing changed
    tier_change: tuple[str, str] | None = None


def parse_amount(text: str, config: LoyaltyConfig) -> Decimal:
    """ "12.50" or "12,50" → Decimal("12.50"); positive, at most two decimals, at most purchase_max."""
    cleaned = text.strip().replace(",", ".")
    if not cleaned.isascii() or len(cleaned) > AMOUNT_CHARS:  # Decimal reads "١٢" and any length
        raise PointsRefused("loyalty.amount_invalid", amount=text[:AMOUNT_CHARS])
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        raise PointsRefused("loyalty.amount_invalid", amount=text) from None
    if not amount.is_finite() or amount <= 0:
        raise PointsRefused("loyalty.amount_invalid", amount=text)
    if amount > config.purchase_max:
        raise PointsRefused("loyalty.amount_too_big", max=str(config.purchase_max))
    if amount != amount.quantize(Decimal("0.01")):
        raise PointsRefused("loyalty.amount_invalid", amount=text)
    return amount


async def record(
    session: AsyncSession,
    customer: Customer,
    *,
    amount: Decimal,
    reference: str,
    now: datetime,
    config: LoyaltyConfig,
    staff_id: int | None = None,
    note: str | None = None,
    surveys: SurveyConfig | None = None,
    winback_config: WinbackConfig | None = None,
    category: str | None = None,
    imported: bool = False,
) -> Recorded:
    """Record a purchase once per reference, with its points. An `imported` one (storage.loyalty
    imports, dated in the past) earns the same points but sends the customer nothing: no "purchase
    recorded" message and no survey invitation about a visit long gone."""
    surveys = surveys or SurveyConfig()
    survey_due = now + timedelta(hours=surveys.after_purchase_hours) if surveys.after_purchase_hours else None
    if imported:
        survey_due = None
    inserted = await insert_ignore(
        session,
        Purchase,
        {
            "customer_id": customer.id,
            "amount": amount,
            "points": 0,
            "note": note,
            "reference": reference,
            "staff_id": staff_id,
            "created_at": now,
            "survey_due_at": survey_due,
            "category": category,
        },
        ["reference"],
    )
    purchase = (
        await session.scalars(
            select(Purchase).where(Purchase.reference == reference).execution_options(populate_existing=True)
        )
    ).one()
    if not inserted:
        return Recorded(purchase, purchase.points, await ledger.balance(session, customer.id), True)
    earned = await ledger.earned_in_window(session, customer.id, now, config)
    earned_points = tiers.purchase_points(amount, tiers.tier_for(earned, config), config)
    purchase.points = earned_points
    if earned_points > 0:
        await ledger.credit(
            session,
            customer_id=customer.id,
            points=earned_points,
            kind="earn",
            reference=f"purchase:{reference}",
            now=now,
            note=note,
            actor_id=staff_id,
            config=config,
        )
    if not imported:
        await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=f"notify:purchase:{reference}",
            template="loyalty.purchase_recorded",
            params={
                "amount": f"{amount:.2f}",
                "points": earned_points,
                "balance": await ledger.balance(session, customer.id),
            },
            now=now,
        )
    change = await points.refresh_tier(session, customer, now, config)
    await referrals.reward_after_purchase(session, customer, now, config)
    await lapses.schedule(session, customer.id, now, winback_config or WinbackConfig())
    await mark_changed(session, [customer.id], now)
    await session.flush()
    return Recorded(purchase, earned_points, await ledger.balance(session, customer.id), False, change)


async def mark_changed(session: AsyncSession, customer_ids: Collection[int], now: datetime) -> None:
    """These customers' purchases changed: what is derived from them (their scores) is due again. One
    statement; an earlier mark not yet handled stays (it is due first). Their accounts must exist
    (ledger.ensure_account; recording a purchase makes it)."""
    await session.execute(
        update(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id.in_(list(customer_ids)))
        .values(rescore_at=func.coalesce(LoyaltyAccount.rescore_at, now))
    )
