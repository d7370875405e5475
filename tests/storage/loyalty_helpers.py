"""Small builders shared by the loyalty storage tests."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.i18n import Catalog
from storage.core.config import Config, LoyaltyConfig
from storage.loyalty import ledger
from storage.loyalty.models import LedgerEntry, LoyaltyAccount
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage


async def new_customer(session: AsyncSession, telegram_id: int, now: datetime, name: str = "Kim") -> Customer:
    return await customers.join(session, TelegramProfile(telegram_id, name), Config(), now)


async def give(
    session: AsyncSession,
    customer_id: int,
    points: int,
    now: datetime,
    reference: str,
    kind: str = "award",
    config: LoyaltyConfig | None = None,
) -> None:
    await ledger.credit(
        session,
        customer_id=customer_id,
        points=points,
        kind=kind,
        reference=reference,
        now=now,
        config=config or LoyaltyConfig(),
    )


async def assert_consistent(session: AsyncSession) -> None:
    """For every account: balance ≥ 0, balance = sum of entries = sum of lots' remainders."""
    accounts = (await session.execute(select(LoyaltyAccount.customer_id, LoyaltyAccount.balance))).all()
    for customer_id, balance in accounts:
        total = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
                LedgerEntry.customer_id == customer_id
            )
        )
        remaining = await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.remaining), 0)).where(
                LedgerEntry.customer_id == customer_id
            )
        )
        assert balance >= 0
        assert balance == total == remaining, (customer_id, balance, total, remaining)


async def assert_outbox_renders(session: AsyncSession, catalog: Catalog) -> None:
    """Every queued message renders in its language with the params stored for it."""
    for row in await session.scalars(select(OutboxMessage)):
        for language in catalog.catalogs:
            catalog(language, row.template, **row.params)
