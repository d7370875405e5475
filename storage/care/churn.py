"""Early churn warning (提前预警): a follow-up task for a customer worth keeping *before* they lapse.

Worth keeping: a value level in `levels` (key and major by default) or a 12-month CLV of at least
`min_clv`. The signals, read from the latest scores (storage.insight) and the desk:
- P(alive) below `p_alive` (the BG/NBD model says they may have gone);
- no purchase for `overdue_factor` times their usual gap (365 days over their purchases in 12 months);
- a detractor score in the last `detractor_days`;
- a complaint still open after `complaint_days`;
- unreachable (they blocked the bot).
One task per customer and episode: the episode is their last purchase, so a customer who buys again
can be warned about again, and several signals make one task that names them all (the task's
source_ref is unique). The win-back rule (storage.care.winback) still raises its own task once a
whole buying cycle has passed: it is the late signal, this one the early.

Run by the hourly `warnings` tick over the scored customers in id order, a batch per transaction,
each batch a fixed number of statements."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import FeedbackItem, FollowUp
from storage.core.config import Config, WarningConfig
from storage.core.upsert import insert_ignore_many
from storage.insight.models import CustomerScore
from storage.people.models import Customer

SIGNALS = ("p_alive", "overdue", "detractor", "complaint", "unreachable")


@dataclass(frozen=True)
class Batch:
    read: int
    created: int
    last: int  # the cursor: the last customer id read


def overdue(score: CustomerScore, config: WarningConfig) -> bool:
    """No purchase for `overdue_factor` times the customer's usual gap between purchases."""
    if score.frequency < 1:
        return False
    return score.recency_days > config.overdue_factor * 365 / score.frequency


def describe(signals: list[str], score: CustomerScore) -> str:
    gap = 365 // max(1, score.frequency)
    words = {
        "p_alive": f"P(alive) {score.p_alive:.0%}",
        "overdue": f"no purchase for {score.recency_days} days (usually every {gap})",
        "detractor": "a detractor score",
        "complaint": "a complaint still open",
        "unreachable": "blocked the bot",
    }
    return f"early warning ({score.level}, 12-month value {score.clv_12m:.2f}): " + "; ".join(
        words[s] for s in signals
    )


async def run(session: AsyncSession, now: datetime, config: Config, *, after: int, limit: int) -> Batch:
    """One batch of scored customers worth keeping, after customer id `after`."""
    warn = config.warnings
    worth: ColumnElement[bool] = CustomerScore.level.in_(warn.levels)
    if warn.min_clv is not None:
        worth = or_(worth, CustomerScore.clv_12m >= warn.min_clv)
    rows = (
        await session.execute(
            select(CustomerScore, Customer.unreachable_at, Customer.account_manager_id)
            .join(Customer, Customer.id == CustomerScore.customer_id)
            .where(CustomerScore.customer_id > after, worth, Customer.erased_at.is_(None))
            .order_by(CustomerScore.customer_id)
            .limit(limit)
        )
    ).all()
    if not rows:
        return Batch(0, 0, after)
    ids = [row[0].customer_id for row in rows]
    detractors = set(
        await session.scalars(
            select(FeedbackItem.customer_id).where(
                FeedbackItem.customer_id.in_(ids),
                FeedbackItem.kind == "detractor",
                FeedbackItem.created_at >= now - timedelta(days=warn.detractor_days),
            )
        )
    )
    complaints = set(
        await session.scalars(
            select(FeedbackItem.customer_id).where(
                FeedbackItem.customer_id.in_(ids),
                FeedbackItem.status != "resolved",
                FeedbackItem.created_at <= now - timedelta(days=warn.complaint_days),
            )
        )
    )
    tasks = []
    for score, unreachable_at, manager in rows:
        signals = [
            name
            for name, raised in (
                ("p_alive", score.p_alive < warn.p_alive),
                ("overdue", overdue(score, warn)),
                ("detractor", score.customer_id in detractors),
                ("complaint", score.customer_id in complaints),
                ("unreachable", unreachable_at is not None),
            )
            if raised
        ]
        if not signals:
            continue
        tasks.append(
            {
                "customer_id": score.customer_id,
                "kind": "warning",
                "reason": describe(signals, score),
                "due_at": now,
                "remind_at": now,
                "status": "open",
                "assignee_id": manager,  # their account manager (/owner), else the team
                "source_ref": f"warning:{score.customer_id}:{score.last_purchase_at:%Y%m%d%H%M}",
                "reminders": 0,
                "notify_customer": False,
                "created_at": now,
                "updated_at": now,
            }
        )
    created = await insert_ignore_many(session, FollowUp, tasks, ["source_ref"], returning=[FollowUp.id])
    return Batch(len(rows), len(created), ids[-1])
