"""Points expiry as the customer sees it: a warning some days before unspent points expire (one
message per customer and expiry date, listing the amount), then the expiry itself (storage.ledger).

The schedule is data: every lot carries `warn_at` (its expiry) until its warning went out, so a
tick reads an index range of lots whose warning has come and nothing else.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import claim_due
from storage.core.config import LoyaltyConfig
from storage.loyalty import ledger
from storage.loyalty.models import LedgerEntry
from storage.people import outbox
from storage.people.models import Customer


def warning_key(customer_id: int, expires_on: date) -> str:
    return f"expiry-warning:{customer_id}:{expires_on.isoformat()}"


def _local_day(when: datetime, zone: ZoneInfo) -> tuple[date, datetime, datetime]:
    """The customer's local date of `when`, and that day's [start, end) in UTC."""
    day = when.astimezone(zone).date()
    start = datetime.combine(day, time(), zone)
    end = datetime.combine(day + timedelta(days=1), time(), zone)
    return day, start.astimezone(when.tzinfo), end.astimezone(when.tzinfo)


async def warn_due(
    session: AsyncSession, now: datetime, config: LoyaltyConfig, *, limit: int = 500
) -> tuple[int, int]:
    """Warn about lots expiring within config.expiry_warning_days; returns (lots read, warnings
    queued): fewer read than `limit` means nothing more is due.

    Each lot read leaves the schedule (warn_at = None) whether or not it is warned about: spent lots
    and lots already past their expiry need no warning. The amount is everything unspent that expires
    on that local date, so a second lot of the same day is in the same message. Idempotent: the
    dedupe key is per customer and expiry date. A batch reads in a fixed number of queries (the claim,
    the customers, their balances, their lots), then writes one outbox row per warning."""
    if config.expiry_warning_days <= 0:
        return 0, 0
    horizon = now + timedelta(days=config.expiry_warning_days)
    rows = await claim_due(
        session,
        LedgerEntry.warn_at,
        LedgerEntry.id,
        LedgerEntry.customer_id,
        LedgerEntry.remaining,
        LedgerEntry.expires_at,
        until=horizon,
        limit=limit,
    )
    if not rows:
        return 0, 0
    pending: dict[int, list[datetime]] = defaultdict(list)
    for _, customer_id, remaining, expires_at in rows:
        if remaining > 0 and expires_at is not None and expires_at > now:
            pending[customer_id].append(expires_at)
    if not pending:
        return len(rows), 0
    # What the warnings need, for every customer of the batch at once: the customers, their balances,
    # and their unspent lots up to the last local day any warning covers.
    customers = {
        customer.id: customer
        for customer in await session.scalars(select(Customer).where(Customer.id.in_(list(pending))))
    }
    days = {
        customer_id: sorted({_local_day(m, ZoneInfo(customers[customer_id].timezone)) for m in moments})
        for customer_id, moments in pending.items()
        if customer_id in customers and customers[customer_id].unreachable_at is None
    }
    if not days:
        return len(rows), 0
    balances = await ledger.balances(session, list(days))
    lots: dict[int, list[ledger.ExpiringLot]] = defaultdict(list)
    last_end = max(end for customer_days in days.values() for _, _, end in customer_days)
    for lot in await ledger.lots_expiring(session, now, last_end, customer_ids=list(days)):
        lots[lot.customer_id].append(lot)
    queued = 0
    for customer_id, customer_days in sorted(days.items()):
        for day, start, end in customer_days:
            amount = sum(lot.points for lot in lots[customer_id] if max(start, now) <= lot.expires_at < end)
            if amount <= 0:
                continue
            queued += await outbox.enqueue_for_customer(
                session,
                customers[customer_id],
                dedupe_key=warning_key(customer_id, day),
                template="expiry.warning",
                params={"points": amount, "date": day.isoformat(), "balance": balances.get(customer_id, 0)},
                now=now,
            )
    return len(rows), queued
