"""Scoring every customer: the nightly run and the re-score after a purchase.

A run (insight_runs) first computes the population's statistics once, from every buyer's purchase
history (one GROUP BY over the purchases, read outside the write lock): the RFM cut points (rfm), the
pyramid thresholds (pyramid) and the fitted BG/NBD + Gamma-Gamma model (clv). They are kept with the
run. Then batches, one transaction each, score the next customers after the run's cursor in a fixed
number of statements whatever the batch's size: the customer ids, their purchases aggregated per
customer (GROUP BY over the batch's id range), the scores written in bulk (insert the new rows, update
the others by key), and in the first run of a month that month's snapshot (score_history). A crash
loses the batch in flight; the next tick resumes after the cursor.

After a purchase: storage.loyalty.purchases (below this context, so it cannot call it) marks the
customer (loyalty_accounts.rescore_at, in the purchase's own transaction); the scoring tick, every
few seconds, claims the marked customers (storage.core.claims) and scores them against the latest
run's statistics, the same cut points everybody was scored with. A mark rather than a call from the
handler: every path that adds purchases (/purchase, a CSV import) needs only the mark, the purchase's
transaction stays as short as before, and a mark survives a crash.

Times are in days. Each batch scores at its own `now` (recency, P(alive) as of that moment) against
its run's statistics. The Gamma-Gamma input is the customer's mean spend over all their purchases (the
paper's is over repeat purchases only: one GROUP BY cannot leave the first purchase out cheaply; the
difference shrinks as purchases accumulate).
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import case, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import claim_due, skip_locked
from storage.core.config import Config, InsightConfig
from storage.core.row_updates import update_rows
from storage.core.upsert import insert_ignore, insert_ignore_many
from storage.insight import clv, pyramid, rfm
from storage.insight.clv import Array
from storage.insight.models import CustomerScore, InsightRun, ScoreHistory
from storage.loyalty.models import LoyaltyAccount, Purchase
from storage.loyalty.tiers import add_months
from storage.people.models import Customer

DAY = 86_400.0
PARTITION = 5000  # population rows turned into arrays at a time (tens of milliseconds of Python)
YEAR_MONTHS = 12  # the window of frequency and monetary, and the CLV's horizon
SCORE_COLUMNS = (
    "last_purchase_at",
    "purchases",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "level",
    "p_alive",
    "expected_purchases_90d",
    "clv_12m",
    "scored_at",
    "run_id",
)


@dataclass(frozen=True)
class Histories:
    """Buyers' purchase histories, aggregated (one entry per customer, parallel arrays; times in days
    before `now`)."""

    customer_ids: list[int]
    last_at: list[datetime]
    count: Array  # all purchases
    first_age: Array  # days since the first purchase (T)
    last_age: Array  # days since the last (recency)
    total: Array  # all-time spend
    year_count: Array  # purchases in the 12 months up to now
    year_total: Array  # spend in those 12 months

    @property
    def recency_days(self) -> Array:
        return np.asarray(np.floor(self.last_age), dtype=np.float64)


async def histories(session: AsyncSession, now: datetime, customers: Any = None) -> Histories:
    """The purchases up to `now` per customer, in one GROUP BY; `customers` restricts them (a
    condition on Purchase.customer_id: a batch's). Without it (the population: every buyer) the rows
    are streamed and turned into arrays PARTITION at a time, so the event loop, which serves updates
    meanwhile, is never held for long (one pass over 100,000 buyers is about a second of Python)."""
    year = Purchase.created_at > add_months(now, -YEAR_MONTHS)
    query = (
        select(
            Purchase.customer_id,
            func.count(),
            func.min(Purchase.created_at),
            func.max(Purchase.created_at),
            func.sum(Purchase.amount),
            func.sum(case((year, 1), else_=0)),
            func.sum(case((year, Purchase.amount), else_=0)),
        )
        .where(Purchase.created_at <= now)
        .group_by(Purchase.customer_id)
        .order_by(Purchase.customer_id)
    )
    if customers is not None:
        return _histories((await session.execute(query.where(customers))).all(), now)
    parts = []
    async for rows in (await session.stream(query)).partitions(PARTITION):
        parts.append(_histories(rows, now))
        await asyncio.sleep(0)  # let the updates waiting meanwhile run
    return _concatenate(parts, now)


def _histories(rows: Sequence[Any], now: datetime) -> Histories:
    return Histories(
        customer_ids=[row[0] for row in rows],
        last_at=[row[3] for row in rows],
        count=np.array([row[1] for row in rows], dtype=np.float64),
        first_age=np.array([(now - row[2]).total_seconds() / DAY for row in rows], dtype=np.float64),
        last_age=np.array([(now - row[3]).total_seconds() / DAY for row in rows], dtype=np.float64),
        total=np.array([float(row[4]) for row in rows], dtype=np.float64),
        year_count=np.array([row[5] for row in rows], dtype=np.float64),
        year_total=np.array([float(row[6] or 0) for row in rows], dtype=np.float64),
    )


def _concatenate(parts: Sequence[Histories], now: datetime) -> Histories:
    if not parts:
        return _histories([], now)

    def joined(name: str) -> Array:
        return np.concatenate([getattr(part, name) for part in parts])

    return Histories(
        customer_ids=[cid for part in parts for cid in part.customer_ids],
        last_at=[at for part in parts for at in part.last_at],
        count=joined("count"),
        first_age=joined("first_age"),
        last_age=joined("last_age"),
        total=joined("total"),
        year_count=joined("year_count"),
        year_total=joined("year_total"),
    )


@dataclass(frozen=True)
class Population:
    """A run's statistics: what every customer is scored against until the next run."""

    cuts: rfm.RfmCuts
    pyramid: pyramid.Thresholds | None
    model: clv.Model
    buyers: int
    repeat_buyers: int

    def as_json(self) -> dict[str, Any]:
        return {
            "rfm": self.cuts.as_json(),
            "pyramid": None if self.pyramid is None else list(self.pyramid),
            "model": self.model.as_json(),
        }

    @classmethod
    def from_run(cls, run: InsightRun) -> Population:
        data = run.population
        levels = data.get("pyramid")
        return cls(
            rfm.RfmCuts.from_json(data["rfm"]),
            None if levels is None else (float(levels[0]), float(levels[1]), float(levels[2])),
            clv.Model.from_json(data["model"]),
            run.buyers,
            run.repeat_buyers,
        )


def population(buyers: Histories, config: InsightConfig) -> Population:
    """The statistics of these buyers (CPU only: about 5 s over 100,000 buyers in benchmarks.insight,
    most of it the BG/NBD fit, so callers run it in a thread, outside any transaction)."""
    x, t_x, T, mean_spend = _model_inputs(buyers)
    return Population(
        cuts=rfm.cuts_for(
            buyers.recency_days.tolist(), buyers.year_count.tolist(), buyers.year_total.tolist(), config
        ),
        pyramid=pyramid.thresholds(buyers.year_total.tolist(), config),
        model=clv.fit(x, t_x, T, mean_spend, config.min_repeat_buyers),
        buyers=len(buyers.customer_ids),
        repeat_buyers=int((x > 0).sum()),
    )


def empty_population(config: InsightConfig) -> Population:
    """Before the first run: fixed cut points, no pyramid, the heuristic."""
    return Population(rfm.fixed_cuts(config), None, clv.Model(None, None), 0, 0)


def _model_inputs(h: Histories) -> tuple[Array, Array, Array, Array]:
    """(x repeat purchases, t_x, T, mean spend): the model's view of each customer, in days."""
    return h.count - 1, h.first_age - h.last_age, h.first_age, h.total / h.count


def _money(value: float) -> Decimal:
    return Decimal(f"{value:.2f}") if math.isfinite(value) else Decimal(0)


def score_rows(
    h: Histories, stats: Population, now: datetime, config: InsightConfig, run_id: int | None
) -> list[dict[str, Any]]:
    """The customer_scores rows of these customers."""
    x, t_x, T, mean_spend = _model_inputs(h)
    values = clv.values(
        stats.model,
        x,
        t_x,
        T,
        mean_spend,
        monthly_discount=float(config.monthly_discount),
        default_gap_days=float(config.default_gap_days),
    )
    rows = []
    for i, customer_id in enumerate(h.customer_ids):
        recency, frequency, monetary = (
            float(h.recency_days[i]),
            float(h.year_count[i]),
            float(h.year_total[i]),
        )
        r, f, m = rfm.scores(recency, frequency, monetary, stats.cuts)
        rows.append(
            {
                "customer_id": customer_id,
                "last_purchase_at": h.last_at[i],
                "purchases": int(h.count[i]),
                "recency_days": int(recency),
                "frequency": int(frequency),
                "monetary": _money(monetary),
                "r_score": r,
                "f_score": f,
                "m_score": m,
                "segment": rfm.segment(r, f, m),
                "level": pyramid.level(monetary, stats.pyramid),
                "p_alive": float(values.p_alive[i]),
                "expected_purchases_90d": float(values.expected_90d[i]),
                "clv_12m": _money(float(values.clv_12m[i])),
                "scored_at": now,
                "run_id": run_id,
            }
        )
    return rows


async def _write(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> None:
    """Insert the new rows, update the others by key: two statements whatever the number of rows."""
    inserted = await insert_ignore_many(
        session, CustomerScore, rows, ["customer_id"], returning=[CustomerScore.customer_id]
    )
    new = {row[0] for row in inserted}
    await update_rows(
        session,
        CustomerScore.__table__,  # type: ignore[arg-type]
        SCORE_COLUMNS,
        [
            [row["customer_id"], *(row[c] for c in SCORE_COLUMNS)]
            for row in rows
            if row["customer_id"] not in new
        ],
    )


# --- the nightly run ------------------------------------------------------------------------------


def run_key(now: datetime, timezone: str) -> str:
    return now.astimezone(ZoneInfo(timezone)).date().isoformat()


def period_of(now: datetime, timezone: str) -> date:
    """The month a snapshot belongs to (its first day, staff-local)."""
    return now.astimezone(ZoneInfo(timezone)).date().replace(day=1)


async def due_run(session: AsyncSession, now: datetime, config: Config) -> str | None:
    """The key of the run to start now, if one is due: one a day once the staff-local time passes
    config.insight.hour:minute, and the first run ever at once. Two reads of the key's unique index."""
    key = run_key(now, config.staff_timezone)
    if (
        await session.scalar(
            select(InsightRun.id).where(InsightRun.key >= key).order_by(InsightRun.key).limit(1)
        )
        is not None
    ):
        return None  # tonight's ran (or is running)
    local = now.astimezone(ZoneInfo(config.staff_timezone))
    if local.time() >= time(config.insight.hour, config.insight.minute):
        return key
    earlier = await session.scalar(
        select(InsightRun.id).where(InsightRun.key < key).order_by(InsightRun.key).limit(1)
    )
    return key if earlier is None else None


async def start_run(
    session: AsyncSession, key: str, now: datetime, stats: Population, config: Config
) -> InsightRun | None:
    """Record a run with its statistics, once per key (None: another process started it). The month's
    first run writes the month's snapshot (an earlier run this month: a range of the key's index)."""
    period = period_of(now, config.staff_timezone)
    taken = await session.scalar(
        select(InsightRun.id)
        .where(InsightRun.key >= period.isoformat(), InsightRun.key < key)
        .order_by(InsightRun.key)
        .limit(1)
    )
    inserted = await insert_ignore(
        session,
        InsightRun,
        {
            "key": key,
            "as_of": now,
            "population": stats.as_json(),
            "buyers": stats.buyers,
            "repeat_buyers": stats.repeat_buyers,
            "snapshot": None if taken is not None else period,
            "due_at": now,
            "cursor": 0,
            "scored": 0,
            "started_at": now,
        },
        ["key"],
    )
    return await session.scalar(select(InsightRun).where(InsightRun.key == key)) if inserted else None


async def run_batch(session: AsyncSession, now: datetime, config: Config, *, limit: int) -> tuple[int, int]:
    """The next batch of the run whose batch is due: (customers read, buyers scored); fewer read than
    `limit` means the run is done (or there is none). The run's row is locked (SKIP LOCKED: another
    process skips it while a batch is in flight)."""
    run = await session.scalar(
        skip_locked(
            select(InsightRun)
            .where(InsightRun.due_at <= now)
            .order_by(InsightRun.due_at, InsightRun.id)
            .limit(1)
        )
    )
    if run is None:
        return 0, 0
    ids = list(
        await session.scalars(
            select(Customer.id).where(Customer.id > run.cursor).order_by(Customer.id).limit(limit)
        )
    )
    scored = 0
    if ids:
        h = await histories(session, now, Purchase.customer_id.between(ids[0], ids[-1]))
        rows = score_rows(h, Population.from_run(run), now, config.insight, run.id)
        await _write(session, rows)
        if run.snapshot is not None and rows:
            await insert_ignore_many(
                session,
                ScoreHistory,
                [
                    {
                        "period": run.snapshot,
                        "customer_id": r["customer_id"],
                        "segment": r["segment"],
                        "level": r["level"],
                    }
                    for r in rows
                ],
                ["period", "customer_id"],
            )
        run.cursor, run.scored, scored = ids[-1], run.scored + len(rows), len(rows)
    if len(ids) < limit:
        run.due_at, run.finished_at = None, now
    await session.flush()
    return len(ids), scored


# --- after a purchase -----------------------------------------------------------------------------


async def latest_population(
    session: AsyncSession, now: datetime, config: Config
) -> tuple[Population, int | None]:
    """The statistics of the latest run (in progress or not; keys are staff-local dates, so the
    latest is the greatest up to today's: a range of the key's index) and its id; before any run,
    the fixed ones."""
    run = await session.scalar(
        select(InsightRun)
        .where(InsightRun.key <= run_key(now, config.staff_timezone))
        .order_by(InsightRun.key.desc())
        .limit(1)
    )
    if run is None:
        return empty_population(config.insight), None
    return Population.from_run(run), run.id


async def score_customers(
    session: AsyncSession, customer_ids: Sequence[int], now: datetime, config: Config
) -> int:
    """Score these customers now against the latest run's statistics (three statements plus the
    write); returns how many had purchases to score."""
    if not customer_ids:
        return 0
    stats, run_id = await latest_population(session, now, config)
    h = await histories(session, now, Purchase.customer_id.in_(list(customer_ids)))
    rows = score_rows(h, stats, now, config.insight, run_id)
    await _write(session, rows)
    return len(rows)


async def score_customer(session: AsyncSession, customer_id: int, now: datetime, config: Config) -> bool:
    """One customer (see score_customers); False when they have no purchases."""
    return await score_customers(session, [customer_id], now, config) == 1


async def rescore_due(
    session: AsyncSession, now: datetime, config: Config, *, limit: int = 500
) -> tuple[int, int]:
    """Score the customers whose purchases changed (their marks claimed: an index range); (marks read,
    customers scored)."""
    rows = await claim_due(
        session, LoyaltyAccount.rescore_at, LoyaltyAccount.customer_id, until=now, limit=limit
    )
    if not rows:
        return 0, 0
    return len(rows), await score_customers(session, [row[0] for row in rows], now, config)
