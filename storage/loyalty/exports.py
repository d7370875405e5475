"""The purchases and ledger exports (storage.core.exports): one CSV line per row, in id order."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import csvfiles
from storage.core.config import Config
from storage.core.exports import Page, local
from storage.loyalty.models import LedgerEntry, Purchase

PURCHASES, LEDGER = "purchases", "ledger"
PURCHASES_HEADER = ["id", "customer_id", "date", "amount", "points", "category", "reference", "note"]
LEDGER_HEADER = ["id", "customer_id", "date", "kind", "points", "remaining", "expires", "reference", "note"]


async def purchases_page(
    session: AsyncSession, after: int, limit: int, personal: bool, config: Config
) -> Page:
    rows = list(
        await session.scalars(select(Purchase).where(Purchase.id > after).order_by(Purchase.id).limit(limit))
    )
    tz = config.staff_timezone
    lines = [
        csvfiles.line(
            [
                p.id,
                p.customer_id,
                local(p.created_at, tz),
                f"{p.amount:.2f}",
                p.points,
                p.category,
                p.reference,
                p.note,
            ]
        )
        for p in rows
    ]
    return Page(lines, rows[-1].id if rows else after)


async def ledger_page(session: AsyncSession, after: int, limit: int, personal: bool, config: Config) -> Page:
    rows = list(
        await session.scalars(
            select(LedgerEntry).where(LedgerEntry.id > after).order_by(LedgerEntry.id).limit(limit)
        )
    )
    tz = config.staff_timezone
    lines = [
        csvfiles.line(
            [
                e.id,
                e.customer_id,
                local(e.created_at, tz),
                e.kind,
                e.points,
                e.remaining,
                local(e.expires_at, tz),
                e.reference,
                e.note,
            ]
        )
        for e in rows
    ]
    return Page(lines, rows[-1].id if rows else after)
