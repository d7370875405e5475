"""The tables of the insight context."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Date, Float, ForeignKey, Index, Numeric, SmallInteger, String, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.core.models import Base


class CustomerScore(Base):
    """What one buyer is worth, as the last scoring left it (storage.insight.scoring). Customers who
    never bought have no row."""

    __tablename__ = "customer_scores"
    __table_args__ = (
        # Audiences by segment or level, read a page at a time in customer order.
        Index("ix_customer_scores_segment", "segment", "customer_id"),
        Index("ix_customer_scores_level", "level", "customer_id"),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    last_purchase_at: Mapped[datetime]
    purchases: Mapped[int]  # all of them
    recency_days: Mapped[int]  # whole days from the last purchase to scored_at
    frequency: Mapped[int]  # purchases in the 12 months up to scored_at
    monetary: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # spend in those 12 months
    r_score: Mapped[int] = mapped_column(SmallInteger)
    f_score: Mapped[int] = mapped_column(SmallInteger)
    m_score: Mapped[int] = mapped_column(SmallInteger)
    segment: Mapped[str] = mapped_column(String(16))  # storage.insight.rfm.SEGMENTS
    level: Mapped[str] = mapped_column(String(8))  # storage.insight.pyramid.LEVELS
    p_alive: Mapped[float] = mapped_column(Float)
    expected_purchases_90d: Mapped[float] = mapped_column(Float)
    clv_12m: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    scored_at: Mapped[datetime]
    run_id: Mapped[int | None]  # the run whose cut points and model scored it


class ScoreHistory(Base):
    """Each buyer's segment and level at the start of a period (a month in the staff time zone), written
    by the period's first nightly run: moves between segments are two periods compared."""

    __tablename__ = "score_history"

    period: Mapped[date] = mapped_column(Date, primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    segment: Mapped[str] = mapped_column(String(16))
    level: Mapped[str] = mapped_column(String(8))


class InsightRun(Base):
    """A scoring run over every customer: the population's statistics it computed once (RFM cut points,
    pyramid thresholds, the fitted model: `population`), and how far its batches got (`cursor`, a
    customer id), so a crash resumes and a customer re-scored after a purchase is measured against
    the same statistics."""

    __tablename__ = "insight_runs"
    __table_args__ = (
        # The scoring tick's range, in its order: runs with a batch due (finished ones are NULL).
        Index(
            "ix_insight_runs_due",
            "due_at",
            "id",
            sqlite_where=text("due_at IS NOT NULL"),
            postgresql_where=text("due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(32), unique=True)  # the staff-local date it ran for
    as_of: Mapped[datetime]  # the statistics' moment
    population: Mapped[dict[str, Any]] = mapped_column(JSON)
    buyers: Mapped[int]
    repeat_buyers: Mapped[int]
    # The period whose snapshot (score_history) this run writes; None: written by an earlier run.
    snapshot: Mapped[date | None] = mapped_column(Date)
    due_at: Mapped[datetime | None]  # when its next batch is due; None once finished
    cursor: Mapped[int] = mapped_column(default=0)
    scored: Mapped[int] = mapped_column(default=0)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
