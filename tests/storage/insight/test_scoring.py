"""Scoring over a seeded history on SQLite and PostgreSQL: the nightly run in batches (resumable, a
monthly snapshot), the statistics kept with the run, a purchase re-scored within a tick, and when the
nightly run is due."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from jobs import scoring as scoring_job
from storage.core.clock import FakeClock
from storage.core.config import Config, InsightConfig, LoyaltyConfig
from storage.insight import clv, pyramid, rfm, scoring
from storage.insight.models import CustomerScore, InsightRun, ScoreHistory
from storage.loyalty import purchases
from storage.loyalty.models import LoyaltyAccount
from storage.people.models import Customer
from tests.storage.insight.seed import purchase, seed_history
from tests.storage.loyalty_helpers import new_customer

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIG = Config(staff_timezone="Asia/Shanghai", insight=InsightConfig(batch=7, batches_per_tick=100))


async def _scores(sessions: async_sessionmaker[AsyncSession]) -> dict[int, CustomerScore]:
    async with sessions.begin() as session:
        return {s.customer_id: s for s in await session.scalars(select(CustomerScore))}


async def _runs(sessions: async_sessionmaker[AsyncSession]) -> list[InsightRun]:
    async with sessions.begin() as session:
        return list(await session.scalars(select(InsightRun).order_by(InsightRun.id)))


async def test_a_run_scores_every_buyer_in_batches(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_history(sessions, NOW)
    clock = FakeClock(NOW)
    assert await scoring_job.tick(sessions, clock, CONFIG) == 30  # 31 customers, 30 buyers, 5 batches
    scores = await _scores(sessions)
    assert len(scores) == 30 and ids["never"] not in scores
    (run,) = await _runs(sessions)
    assert run.finished_at == NOW and run.scored == 30 and run.buyers == 30 and run.repeat_buyers == 24
    assert run.key == "2026-03-10" and run.cursor == max(ids.values())
    stats = scoring.Population.from_run(run)
    assert stats.cuts.quintiles and stats.model == clv.Model(None, None)  # 24 repeat buyers < 30

    champion = scores[ids["champion"]]
    assert (champion.purchases, champion.recency_days, champion.frequency) == (12, 2, 12)
    assert champion.monetary == Decimal("3600.00")
    assert (champion.r_score, champion.f_score, champion.m_score, champion.segment) == (
        5,
        5,
        5,
        rfm.CHAMPIONS,
    )
    assert champion.level == pyramid.KEY and champion.p_alive == 1.0  # within their 30-day rhythm
    # The heuristic: 90 days at one purchase every 30 days (their mean gap, 330 days / 11), and 12
    # months of them at 300 each, discounted 1% a month.
    assert champion.expected_purchases_90d == pytest.approx(3.0)
    month = 365.25 / 12
    expected = sum(month / 30 * 300 / 1.01**m for m in range(1, 13))
    assert float(champion.clv_12m) == pytest.approx(expected, abs=0.01)

    lost = scores[ids["lost"]]
    assert (lost.recency_days, lost.frequency, lost.monetary) == (400, 0, Decimal("0.00"))
    assert (lost.r_score, lost.f_score, lost.m_score, lost.segment, lost.level) == (
        1,
        1,
        1,
        rfm.LOST,
        pyramid.SMALL,
    )
    # One purchase: the default 60-day rhythm, 340 days overdue.
    assert lost.p_alive == pytest.approx(np.exp(-340 / 60))

    # Every score is what the pure rules give against the run's statistics.
    for score in scores.values():
        r, f, m = rfm.scores(score.recency_days, score.frequency, float(score.monetary), stats.cuts)
        assert (score.r_score, score.f_score, score.m_score) == (r, f, m)
        assert score.segment == rfm.segment(r, f, m)
        assert score.level == pyramid.level(float(score.monetary), stats.pyramid)
        assert score.run_id == run.id and score.scored_at == NOW
    # A pyramid of 30 buyers with spend: 1 key, 1 more major (ceil 1.5 = 2), 6 in the top 20%.
    levels = [s.level for s in scores.values() if s.monetary > 0]
    assert (levels.count(pyramid.KEY), levels.count(pyramid.MAJOR), levels.count(pyramid.REGULAR)) == (
        1,
        1,
        4,
    )

    # The month's snapshot: every buyer's segment and level on the first day of the staff-local month.
    async with sessions.begin() as session:
        history = {(h.customer_id, h.segment) for h in await session.scalars(select(ScoreHistory))}
        periods = set(await session.scalars(select(ScoreHistory.period).distinct()))
    assert history == {(cid, s.segment) for cid, s in scores.items()}
    assert periods == {NOW.date().replace(day=1)}


async def test_a_run_resumes_after_its_cursor(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_history(sessions, NOW)
    config = Config(insight=InsightConfig(batch=10, batches_per_tick=1))
    clock = FakeClock(NOW)
    scored = [await scoring_job.tick(sessions, clock, config) for _ in range(5)]
    # 31 customers in batches of 10 (a batch with the non-buyer scores 9); the 4th pass reads 1, ends.
    assert sum(scored) == 30 and scored[-1] == 0 and scored[3] == 1
    (run,) = await _runs(sessions)
    assert run.finished_at is not None and run.cursor == max(ids.values())
    assert len(await _scores(sessions)) == 30


async def test_a_purchase_is_rescored_within_a_tick(sessions: async_sessionmaker[AsyncSession]) -> None:
    ids = await seed_history(sessions, NOW)
    clock = FakeClock(NOW)
    await scoring_job.tick(sessions, clock, CONFIG)
    (run,) = await _runs(sessions)
    clock.advance(hours=1)
    async with sessions.begin() as session:
        lost = await session.get(Customer, ids["lost"])
        assert lost is not None
        await purchases.record(
            session, lost, amount=Decimal("500"), reference="back", now=clock.now(), config=LoyaltyConfig()
        )
        assert (
            await session.scalar(
                select(LoyaltyAccount.rescore_at).where(LoyaltyAccount.customer_id == lost.id)
            )
            == clock.now()
        )
    assert await scoring_job.tick(sessions, clock, CONFIG) == 1
    score = (await _scores(sessions))[ids["lost"]]
    stats = scoring.Population.from_run(run)
    assert (score.purchases, score.recency_days, score.frequency, score.monetary) == (
        2,
        0,
        1,
        Decimal("500.00"),
    )
    r, f, m = rfm.scores(0, 1, 500.0, stats.cuts)
    assert (score.r_score, score.f_score, score.m_score) == (r, f, m) and r == 5
    assert score.segment == rfm.segment(r, f, m) != rfm.LOST
    assert score.level == pyramid.level(500.0, stats.pyramid)
    assert score.run_id == run.id and score.scored_at == clock.now()
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).where(LoyaltyAccount.rescore_at.is_not(None))) == 0
    assert await scoring_job.tick(sessions, clock, CONFIG) == 0  # the mark was handled once


async def test_the_nightly_run_is_due_once_a_day_after_its_hour(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    await seed_history(sessions, NOW, others=3)
    # 09:00 UTC is 17:00 in Shanghai: the first run starts at once.
    clock = FakeClock(NOW)
    assert await scoring_job.tick(sessions, clock, CONFIG) == 5
    assert await scoring_job.tick(sessions, clock, CONFIG) == 0
    clock.set(datetime(2026, 3, 10, 18, 59, tzinfo=UTC))  # 02:59 on the 11th in Shanghai: not yet
    assert await scoring_job.tick(sessions, clock, CONFIG) == 0
    clock.set(datetime(2026, 3, 10, 19, 0, tzinfo=UTC))  # 03:00: tonight's run
    assert await scoring_job.tick(sessions, clock, CONFIG) == 5
    assert await scoring_job.tick(sessions, clock, CONFIG) == 0
    runs = await _runs(sessions)
    assert [r.key for r in runs] == ["2026-03-10", "2026-03-11"]
    # The month's snapshot is the first run's; the second run writes none.
    assert [r.snapshot for r in runs] == [datetime(2026, 3, 1).date(), None]


async def test_the_model_is_fitted_once_there_are_enough_repeat_buyers(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    rng = np.random.default_rng(7)
    async with sessions.begin() as session:
        for k in range(80):
            customer = await _customer(session, 5000 + k)
            gap = float(rng.integers(5, 60))
            first = float(rng.integers(0, 300))
            count = int(rng.integers(1, 12))
            for n in range(count):
                day = first + n * gap * float(rng.uniform(0.5, 1.5))
                if day < 364:
                    at = NOW - timedelta(days=364 - day)
                    await purchase(session, customer, at, f"{rng.integers(10, 90)}.00", f"m{k}:{n}")
    config = Config(insight=InsightConfig(min_repeat_buyers=30, batch=50))
    await scoring_job.tick(sessions, FakeClock(NOW), config)
    (run,) = await _runs(sessions)
    stats = scoring.Population.from_run(run)
    assert stats.model.bgnbd is not None and stats.model.spend is not None
    async with sessions.begin() as session:
        h = await scoring.histories(session, NOW)
    scores = await _scores(sessions)
    x, t_x, T = h.count - 1, h.first_age - h.last_age, h.first_age
    alive = clv.p_alive(stats.model.bgnbd, x, t_x, T)
    assert [scores[cid].p_alive for cid in h.customer_ids] == pytest.approx(alive.tolist())
    assert 0.0 < min(alive) < 0.99 and max(alive) == 1.0  # one-time buyers are alive for BG/NBD


async def _customer(session: AsyncSession, telegram_id: int) -> int:
    return (await new_customer(session, telegram_id, NOW)).id


async def test_each_months_first_run_writes_its_snapshot(sessions: async_sessionmaker[AsyncSession]) -> None:
    await seed_history(sessions, NOW, others=3)
    config = Config(staff_timezone="UTC")
    clock = FakeClock(datetime(2026, 3, 31, 4, 0, tzinfo=UTC))
    for day in (datetime(2026, 3, 31, 4, 0), datetime(2026, 4, 1, 4, 0), datetime(2026, 4, 2, 4, 0)):
        clock.set(day.replace(tzinfo=UTC))
        assert await scoring_job.tick(sessions, clock, config) == 5
    runs = await _runs(sessions)
    assert [(r.key, r.snapshot) for r in runs] == [
        ("2026-03-31", datetime(2026, 3, 1).date()),
        ("2026-04-01", datetime(2026, 4, 1).date()),
        ("2026-04-02", None),
    ]
    async with sessions.begin() as session:
        periods = (
            await session.execute(
                select(ScoreHistory.period, func.count())
                .group_by(ScoreHistory.period)
                .order_by(ScoreHistory.period)
            )
        ).all()
    assert [(p, n) for p, n in periods] == [
        (datetime(2026, 3, 1).date(), 5),
        (datetime(2026, 4, 1).date(), 5),
    ]
