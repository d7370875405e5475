"""The points ledger: append-only entries with a unique reference; the account balance is a cache
updated in the same transaction by a conditional UPDATE, so it never goes negative.

Every credit is a lot whose `remaining` is consumed first in, first out (soonest expiry first) by
debits, so the balance always equals the sum of the lots' `remaining`, and expiry removes exactly
the unspent remainder of a lot.

Locking: an operation that takes points locks the account row first (PostgreSQL: SELECT ... FOR
UPDATE; SQLite: the transaction already holds the write lock, BEGIN IMMEDIATE), so two debits of one
customer, or a debit and an expiry, never interleave.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, literal_column, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.config import LoyaltyConfig
from storage.core.db import changed_rows
from storage.core.upsert import insert_ignore
from storage.loyalty.models import LedgerEntry, LoyaltyAccount
from storage.loyalty.tiers import add_months

CREDIT_KINDS = frozenset({"earn", "award", "refund", "birthday", "referral", "survey"})
DEBIT_KINDS = frozenset({"redeem", "deduct", "expire"})
# What counts towards a tier: points earned, not points given back (refund) or spent.
TIER_KINDS = frozenset({"earn", "award", "birthday", "referral", "survey"})
# A lot with points left, written as ix_ledger_unspent_expiry's condition is (a literal 0, not a bound
# parameter: SQLite uses a partial index only for a query that states its condition).
UNSPENT = LedgerEntry.remaining > literal_column("0")


class InsufficientPoints(Exception):
    pass


@dataclass(frozen=True)
class ExpiringLot:
    customer_id: int
    lot_id: int
    points: int  # the unspent remainder that will expire
    expires_at: datetime


# Which credits expire after `expiry_months`, decided here for every kind so that no caller forgets:
# points a customer earned, was given or got back all follow the one rule the customer is told.
EXPIRES = {"earn": True, "award": True, "refund": True, "birthday": True, "referral": True, "survey": True}
assert set(EXPIRES) == CREDIT_KINDS


def lot_expiry(kind: str, now: datetime, config: LoyaltyConfig) -> datetime | None:
    """When a lot of this kind credited now expires (None: never)."""
    if not EXPIRES[kind] or not config.expiry_months:
        return None
    return add_months(now, config.expiry_months)


async def ensure_account(session: AsyncSession, customer_id: int, now: datetime) -> None:
    await insert_ignore(
        session,
        LoyaltyAccount,
        {"customer_id": customer_id, "balance": 0, "created_at": now, "updated_at": now},
        ["customer_id"],
    )


async def lock_account(session: AsyncSession, customer_id: int, now: datetime) -> LoyaltyAccount:
    """The account row, locked for the rest of the transaction (created if missing)."""
    await ensure_account(session, customer_id, now)
    stmt = (
        select(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id == customer_id)
        .execution_options(populate_existing=True)
        .with_for_update()
    )
    return (await session.scalars(stmt)).one()


async def balance(session: AsyncSession, customer_id: int) -> int:
    return (
        await session.scalar(select(LoyaltyAccount.balance).where(LoyaltyAccount.customer_id == customer_id))
        or 0
    )


async def balances(session: AsyncSession, customer_ids: Collection[int]) -> dict[int, int]:
    """Several customers' balances in one query (a customer without an account is absent: 0)."""
    rows = await session.execute(
        select(LoyaltyAccount.customer_id, LoyaltyAccount.balance).where(
            LoyaltyAccount.customer_id.in_(list(customer_ids))
        )
    )
    return {customer_id: balance for customer_id, balance in rows.all()}


async def has_reference(session: AsyncSession, reference: str) -> bool:
    return await session.scalar(select(LedgerEntry.id).where(LedgerEntry.reference == reference)) is not None


async def credit(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    reference: str,
    now: datetime,
    config: LoyaltyConfig,
    note: str | None = None,
    actor_id: int | None = None,
) -> bool:
    """Add points once per reference; False (and nothing changed) when the reference was used before.

    The entry is a lot: `remaining` starts at `points` and is consumed first in, first out; when it
    expires follows from its kind and the settings (lot_expiry).
    """
    if points <= 0 or kind not in CREDIT_KINDS:
        raise ValueError(f"a credit needs positive points and a credit kind, not {points} {kind!r}")
    expires_at = lot_expiry(kind, now, config)
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
            "warn_at": expires_at,
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


async def debit(
    session: AsyncSession,
    *,
    customer_id: int,
    points: int,
    kind: str,
    reference: str,
    now: datetime,
    note: str | None = None,
    actor_id: int | None = None,
) -> bool:
    """Take points once per reference, oldest lots first; False when the reference was used before.

    Raises InsufficientPoints (nothing changed) when the balance is smaller than `points`.
    """
    if points <= 0 or kind not in DEBIT_KINDS:
        raise ValueError(f"a debit needs positive points and a debit kind, not {points} {kind!r}")
    await lock_account(session, customer_id, now)
    if await has_reference(session, reference):
        return False
    taken = await changed_rows(
        session,
        update(LoyaltyAccount)
        .where(LoyaltyAccount.customer_id == customer_id, LoyaltyAccount.balance >= points)
        .values(balance=LoyaltyAccount.balance - points, updated_at=now),
    )
    if taken != 1:
        raise InsufficientPoints(f"customer {customer_id} has fewer than {points} points")
    await _consume_lots(session, customer_id, points)
    session.add(
        LedgerEntry(
            customer_id=customer_id,
            kind=kind,
            points=-points,
            reference=reference,
            note=note,
            actor_id=actor_id,
            created_at=now,
            remaining=0,
        )
    )
    await session.flush()
    return True


async def _consume_lots(session: AsyncSession, customer_id: int, points: int) -> None:
    """Take `points` from the lots' remainders: soonest expiry first, never-expiring last, then oldest."""
    lots = await session.execute(
        select(LedgerEntry.id, LedgerEntry.remaining)
        .where(LedgerEntry.customer_id == customer_id, LedgerEntry.remaining > 0)
        .order_by(LedgerEntry.expires_at.is_(None), LedgerEntry.expires_at, LedgerEntry.id)
    )
    left = points
    for lot_id, remaining in lots.all():
        if left <= 0:
            break
        take = min(left, remaining)
        await session.execute(
            update(LedgerEntry).where(LedgerEntry.id == lot_id).values(remaining=LedgerEntry.remaining - take)
        )
        left -= take


async def lots_expiring(
    session: AsyncSession,
    start: datetime,
    end: datetime,
    *,
    customer_id: int | None = None,
    customer_ids: Collection[int] | None = None,
) -> list[ExpiringLot]:
    """Lots with an unspent remainder that expire in [start, end), by customer then date: of one
    customer, of several, or of everyone.

    The amounts are today's remainders: spending before the date lowers them."""
    stmt = (
        select(LedgerEntry.customer_id, LedgerEntry.id, LedgerEntry.remaining, LedgerEntry.expires_at)
        .where(UNSPENT, LedgerEntry.expires_at >= start, LedgerEntry.expires_at < end)
        .order_by(LedgerEntry.customer_id, LedgerEntry.expires_at, LedgerEntry.id)
    )
    if customer_id is not None:
        stmt = stmt.where(LedgerEntry.customer_id == customer_id)
    if customer_ids is not None:
        stmt = stmt.where(LedgerEntry.customer_id.in_(list(customer_ids)))
    rows = await session.execute(stmt)
    return [ExpiringLot(c, i, r, e) for c, i, r, e in rows.all() if e is not None]


async def expire_due(session: AsyncSession, now: datetime, *, limit: int = 500) -> list[ExpiringLot]:
    """Expire every lot due by `now`: an `expire` entry for exactly its unspent remainder.

    A batch is the customers of the `limit` earliest due lots (an index range, ix_ledger_unspent_expiry),
    each with every lot of theirs that is due, in customer order (the order accounts are locked in).
    Fewer than `limit` lots returned means nothing more is due.

    Safe to repeat or to run on two instances: each lot is re-read under its account's lock and
    its entry's reference (expire:<lot id>) is unique. Returns what expired."""
    due = (
        select(LedgerEntry.customer_id)
        .where(UNSPENT, LedgerEntry.expires_at <= now)
        .order_by(LedgerEntry.expires_at)
        .limit(limit)
        .subquery()
    )
    customers = await session.scalars(select(due.c.customer_id).distinct().order_by(due.c.customer_id))
    expired: list[ExpiringLot] = []
    for customer_id in list(customers):
        await lock_account(session, customer_id, now)
        lots = await session.execute(
            select(LedgerEntry.id, LedgerEntry.remaining, LedgerEntry.expires_at)
            .where(
                LedgerEntry.customer_id == customer_id,
                LedgerEntry.remaining > 0,
                LedgerEntry.expires_at <= now,
            )
            .order_by(LedgerEntry.expires_at, LedgerEntry.id)
        )
        for lot_id, remaining, expires_at in lots.all():
            assert expires_at is not None  # `expires_at <= now` never matches NULL
            inserted = await insert_ignore(
                session,
                LedgerEntry,
                {
                    "customer_id": customer_id,
                    "kind": "expire",
                    "points": -remaining,
                    "reference": f"expire:{lot_id}",
                    "created_at": now,
                    "remaining": 0,
                },
                ["reference"],
            )
            if not inserted:
                continue
            await session.execute(update(LedgerEntry).where(LedgerEntry.id == lot_id).values(remaining=0))
            await session.execute(
                update(LoyaltyAccount)
                .where(LoyaltyAccount.customer_id == customer_id)
                .values(balance=LoyaltyAccount.balance - remaining, updated_at=now)
            )
            expired.append(ExpiringLot(customer_id, lot_id, remaining, expires_at))
    return expired


async def earned_since(session: AsyncSession, customer_id: int, since: datetime) -> int:
    """Points earned (not refunded, not spent) since `since`: what tiers count."""
    total = await session.scalar(
        select(func.coalesce(func.sum(LedgerEntry.points), 0)).where(
            LedgerEntry.customer_id == customer_id,
            LedgerEntry.kind.in_(TIER_KINDS),
            LedgerEntry.created_at > since,
        )
    )
    return int(total or 0)


async def earned_in_window(
    session: AsyncSession, customer_id: int, now: datetime, config: LoyaltyConfig
) -> int:
    return await earned_since(session, customer_id, add_months(now, -config.tier_window_months))


async def history(
    session: AsyncSession, customer_id: int, *, offset: int = 0, limit: int = 10
) -> tuple[list[LedgerEntry], bool]:
    """A page of entries, newest first, and whether older ones exist."""
    rows = list(
        await session.scalars(
            select(LedgerEntry)
            .where(LedgerEntry.customer_id == customer_id)
            .order_by(LedgerEntry.created_at.desc(), LedgerEntry.id.desc())
            .offset(offset)
            .limit(limit + 1)
        )
    )
    return rows[:limit], len(rows) > limit
