"""The figures of /stats customers: customers per segment and value level now, how many moved between
segments since the start of the period's snapshot (storage.insight.scoring writes one a month), and the
period's repeat-purchase rate, churn rate, average order value and purchase frequency. A fixed number
of queries, each an aggregate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.insight import pyramid, rfm
from storage.insight.models import CustomerScore, ScoreHistory
from storage.loyalty.models import Purchase


@dataclass(frozen=True)
class CustomerStats:
    segments: dict[str, int]  # every segment, in rfm.SEGMENTS order
    levels: dict[str, int]  # every level, from the top of the pyramid
    since: date | None  # the snapshot the moves are counted from (None: none written yet)
    before: dict[str, int]  # customers per segment in that snapshot
    moved: int  # customers whose segment changed since
    buyers: int  # customers who bought in the period
    repeat_rate: float | None  # of those, the share with more than one purchase ever
    churn_rate: float | None  # of the previous period's buyers, the share who did not buy again
    repeaters: int  # the buyers behind repeat_rate
    previous_buyers: int  # the previous period's buyers (churn_rate's whole)
    churned: int  # of those, how many did not buy again
    average_order: Decimal | None
    frequency: float | None  # purchases per buyer in the period


async def customer_stats(session: AsyncSession, start: datetime, end: datetime) -> CustomerStats:
    """For the period [start, end] (and the one of equal length before it, for churn)."""
    segments = dict.fromkeys(rfm.SEGMENTS, 0)
    levels = dict.fromkeys(pyramid.LEVELS, 0)
    for segment, level, count in await session.execute(
        select(CustomerScore.segment, CustomerScore.level, func.count()).group_by(
            CustomerScore.segment, CustomerScore.level
        )
    ):
        segments[segment] = segments.get(segment, 0) + count
        levels[level] = levels.get(level, 0) + count
    since = await session.scalar(select(func.max(ScoreHistory.period)))
    before = dict.fromkeys(rfm.SEGMENTS, 0)
    moved = 0
    if since is not None:
        for segment, count in await session.execute(
            select(ScoreHistory.segment, func.count())
            .where(ScoreHistory.period == since)
            .group_by(ScoreHistory.segment)
        ):
            before[segment] = count
        then = aliased(ScoreHistory)
        moved = int(
            await session.scalar(
                select(func.count())
                .select_from(CustomerScore)
                .join(then, (then.customer_id == CustomerScore.customer_id) & (then.period == since))
                .where(then.segment != CustomerScore.segment)
            )
            or 0
        )
    in_period = (Purchase.created_at >= start) & (Purchase.created_at <= end)
    buyers, orders, spend = (
        await session.execute(
            select(
                func.count(func.distinct(Purchase.customer_id)), func.count(), func.sum(Purchase.amount)
            ).where(in_period)
        )
    ).one()
    period_buyers = select(Purchase.customer_id).where(in_period).distinct().subquery()
    repeaters = await session.scalar(
        select(func.count()).select_from(
            select(Purchase.customer_id)
            .where(Purchase.customer_id.in_(select(period_buyers.c.customer_id)))
            .group_by(Purchase.customer_id)
            .having(func.count() > 1)
            .subquery()
        )
    )
    previous = (Purchase.created_at >= start - (end - start)) & (Purchase.created_at < start)
    earlier = select(Purchase.customer_id).where(previous).distinct().subquery()
    earlier_count = await session.scalar(select(func.count()).select_from(earlier))
    stayed = await session.scalar(
        select(func.count())
        .select_from(earlier)
        .where(earlier.c.customer_id.in_(select(period_buyers.c.customer_id)))
    )
    return CustomerStats(
        segments=segments,
        levels=levels,
        since=since,
        before=before,
        moved=moved,
        buyers=buyers,
        repeat_rate=(repeaters or 0) / buyers if buyers else None,
        churn_rate=1 - (stayed or 0) / earlier_count if earlier_count else None,
        repeaters=repeaters or 0,
        previous_buyers=earlier_count or 0,
        churned=(earlier_count or 0) - (stayed or 0),
        average_order=Decimal(spend) / orders if orders else None,
        frequency=orders / buyers if buyers else None,
    )
