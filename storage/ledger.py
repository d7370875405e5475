"""The points ledger: append-only entries with a unique reference; the account balance is a cache
updated in the same transaction by a conditional UPDATE, so it never goes negative."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import LedgerEntry, LoyaltyAccount
from storage.upsert import insert_ignore

CREDIT_KINDS = frozenset({"earn", "award", "refund", "birthday", "referral", "survey"})


class InsufficientPoints(Exception):
    pass


async def ensure_account(session: AsyncSession, customer_id: int, now: datetime) -> None:
    await insert_ignore(
        session,
        LoyaltyAccount,
        {"customer_id": customer_id, "balance": 0, "created_at": now, "updated_at": now},
        ["customer_id"],
    )


async def balance(session: AsyncSession, customer_id: int) -> int:
    return (
        await session.scalar(select(LoyaltyAccount.balance).where(LoyaltyAccount.customer_id == customer_id))
        or 0
    )


async def credit(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    reference: str,
    now: datetime,
    note: str | None = None,
    actor_id: int | None = None,
    expires_at: datetime | None = None,
) -> bool:
    """Add points once per reference; False (and nothing changed) when the reference was used before.

    The entry is a lot: `remaining` starts at `points` and is consumed first in, first out.
    """
    if points <= 0 or kind not in CREDIT_KINDS:
        raise ValueError(f"a credit needs positive points and a credit kind, not {points} {kind!r}")
    await ensure_account(session, customer_id, now)
    inserted = await insert_ignore(
        session,
        LedgerEntry,
        {
            "customer_id": customer_id,
            "kind": kind,
            "points": points,
            "reference": reference,
            "note": note,
            "actor_id": actor_id,
            "created_at": now,
            "expires_at": expires_at,
            "remaining": points,
        },
        ["reference"],
    )
    if inserted:
        await session.execute(
            update(LoyaltyAccount)
            .where(LoyaltyAccount.customer_id == customer_id)
            .values(balance=LoyaltyAccount.balance + points, updated_at=now)
        )
    return inserted
