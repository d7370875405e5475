"""A purchase history to score: a clear champion, a clearly lost customer, a spread of others, and a
customer who never bought."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.loyalty.models import Purchase
from tests.storage.loyalty_helpers import new_customer


async def purchase(session: AsyncSession, customer_id: int, at: datetime, amount: str, ref: str) -> None:
    await session.execute(
        insert(Purchase).values(
            customer_id=customer_id, amount=Decimal(amount), reference=ref, created_at=at, points=0
        )
    )


async def seed_history(
    sessions: async_sessionmaker[AsyncSession], now: datetime, others: int = 28
) -> dict[str, int]:
    """Customer ids by role: "champion" (12 purchases of 300 over the last year, the last 2 days ago),
    "lost" (one purchase of 20, 400 days ago), "never" (no purchase), and `others` customers: the
    k-th with k % 5 + 1 purchases of 10·k, 12 days apart, the last 7·k days ago."""
    ids: dict[str, int] = {}
    async with sessions.begin() as session:
        champion = await new_customer(session, 1001, now, "Champ")
        lost = await new_customer(session, 1002, now, "Lost")
        never = await new_customer(session, 1003, now, "Never")
        ids.update(champion=champion.id, lost=lost.id, never=never.id)
        for n in range(12):
            await purchase(session, champion.id, now - timedelta(days=2 + 30 * n), "300.00", f"c{n}")
        await purchase(session, lost.id, now - timedelta(days=400), "20.00", "l0")
        for k in range(1, others + 1):
            customer = await new_customer(session, 2000 + k, now, f"O{k}")
            ids[f"other{k}"] = customer.id
            for n in range(k % 5 + 1):
                await purchase(
                    session, customer.id, now - timedelta(days=7 * k + 12 * n), f"{10 * k}.00", f"o{k}:{n}"
                )
    return ids
