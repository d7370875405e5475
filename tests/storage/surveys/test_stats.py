"""NPS and CSAT arithmetic on known data, including no responses; the trend per day, week or month."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.surveys import stats
from storage.surveys.stats import Score


def test_nps_on_known_data() -> None:
    # 4 promoters (9, 10), 3 passives (7, 8), 3 detractors (0-6): (4 - 3) / 10 = +10
    assert stats.nps([10, 9, 9, 10, 7, 8, 8, 6, 0, 3]) == pytest.approx(10.0)
    assert stats.nps([10, 10]) == 100.0
    assert stats.nps([0, 6]) == -100.0
    assert stats.nps([7, 8]) == 0.0
    assert stats.nps([]) is None


def test_csat_on_known_data() -> None:
    assert stats.csat([5, 4, 3, 2]) == 50.0
    assert stats.csat([1, 2, 3]) == 0.0
    assert stats.csat([5, 5, 4]) == 100.0
    assert stats.csat([]) is None


def test_response_rate_and_counts() -> None:
    assert stats.response_rate(8, 2) == 25.0
    assert stats.response_rate(0, 0) is None
    assert stats.counts([5, 5, 1, 9], stats.CSAT_SCALE) == {1: 1, 2: 0, 3: 0, 4: 0, 5: 2}


def test_summary_and_weekly_trend() -> None:
    def at(day: int) -> datetime:
        return datetime(2026, 3, day, 12, tzinfo=UTC)

    scores = [
        Score("csat", 5, at(2)),  # week of Monday 2 March
        Score("csat", 1, at(4)),
        Score("nps", 10, at(3)),
        Score("nps", 3, at(17)),  # week of 16 March; the week of 9 March has none
    ]
    summary = stats.summarize(10, 4, scores, at(1), at(20))
    assert summary.response_rate == 40.0
    assert summary.csat == 50.0 and summary.nps == 0.0
    assert (
        summary.nps_counts[10] == 1 and summary.nps_counts[3] == 1 and sum(summary.nps_counts.values()) == 2
    )
    weekly = stats.trend(scores, at(1).date(), at(20).date(), "week")
    assert [(p.start.day, p.csat, p.nps, p.csat_n, p.nps_n) for p in weekly] == [
        (23, None, None, 0, 0),  # Monday 23 February: the week 1 March falls in
        (2, 50.0, 100.0, 2, 1),
        (9, None, None, 0, 0),
        (16, None, -100.0, 0, 1),
    ]
    empty = stats.summarize(0, 0, [], at(1), at(20))
    assert (empty.response_rate, empty.csat, empty.nps) == (None, None, None)
    assert all(p.csat is None and p.nps is None for p in empty.trend)


@pytest.mark.parametrize(
    ("period", "bucket"),
    [
        ("1d", "day"), ("7d", "day"), ("4w", "day"), ("31d", "day"),  # up to a month: days
        ("32d", "week"), ("12w", "week"), ("6m", "week"), ("183d", "week"),  # up to half a year: weeks
        ("184d", "month"), ("7m", "month"), ("12m", "month"), ("1y", "month"), ("10y", "month"),
    ],
)  # fmt: skip
def test_the_trend_steps_by_day_week_or_month_as_the_period_asks(period: str, bucket: str) -> None:
    length = stats.parse_period(period)
    assert length is not None and stats.bucket_for(length) == bucket
    end = datetime(2026, 7, 9, 15, tzinfo=UTC)
    trend = stats.summarize(0, 0, [], end - length, end).trend
    # Never more points than fit a chart: 32 days, 28 weeks, 121 months over ten years.
    assert len(trend) <= {"day": 32, "week": 28, "month": 121}[bucket]
    assert trend[-1].start == stats.bucket_start(end.date(), bucket)  # the last point is today's


def test_a_daily_trend_on_known_data() -> None:
    end = datetime(2026, 7, 9, 15, tzinfo=UTC)
    scores = [
        Score("csat", 5, datetime(2026, 7, 2, 16, tzinfo=UTC)),  # 7 days ago, after the period began
        Score("csat", 2, datetime(2026, 7, 8, 9, tzinfo=UTC)),
        Score("csat", 4, datetime(2026, 7, 8, 23, tzinfo=UTC)),
        Score("nps", 9, datetime(2026, 7, 9, 8, tzinfo=UTC)),
    ]
    summary = stats.summarize(4, 4, scores, end - timedelta(days=7), end)
    assert summary.bucket == "day"
    assert [p.start for p in summary.trend] == [date(2026, 7, d) for d in range(2, 10)]  # 2 to 9 July
    points = {p.start.day: (p.csat, p.nps, p.csat_n, p.nps_n) for p in summary.trend}
    assert points[2] == (100.0, None, 1, 0)
    assert points[8] == (50.0, None, 2, 0)
    assert points[9] == (None, 100.0, 0, 1)
    assert all(points[d] == (None, None, 0, 0) for d in (3, 4, 5, 6, 7))


def test_answers_count_on_the_staff_date() -> None:
    """23:00 UTC on 8 July is already 9 July in Shanghai: that answer moves to the next day."""
    end = datetime(2026, 7, 9, 15, tzinfo=UTC)
    late = [Score("csat", 4, datetime(2026, 7, 8, 23, tzinfo=UTC))]
    by_day = {
        zone: {
            p.start.day: p.csat_n
            for p in stats.summarize(1, 1, late, end - timedelta(days=3), end, zone).trend
        }
        for zone in (UTC, ZoneInfo("Asia/Shanghai"))
    }
    assert by_day[UTC][8] == 1 and by_day[UTC][9] == 0
    assert by_day[ZoneInfo("Asia/Shanghai")][8] == 0 and by_day[ZoneInfo("Asia/Shanghai")][9] == 1


def test_a_monthly_trend_on_known_data() -> None:
    """12 months from 14 July 2025 to 9 July 2026: 13 calendar months, the first and the last partial;
    an answer on 31 January counts in January, on 1 March in March (across the short February)."""
    end = datetime(2026, 7, 9, 15, tzinfo=UTC)
    scores = [
        Score("nps", 10, datetime(2026, 1, 31, 12, tzinfo=UTC)),
        Score("nps", 0, datetime(2026, 3, 1, 0, 30, tzinfo=UTC)),
        Score("csat", 5, datetime(2025, 12, 31, 23, tzinfo=UTC)),
    ]
    summary = stats.summarize(3, 3, scores, end - timedelta(days=360), end)
    assert summary.bucket == "month"
    starts = [p.start for p in summary.trend]
    assert starts[0] == date(2025, 7, 1) and starts[-1] == date(2026, 7, 1) and len(starts) == 13
    assert all(s.day == 1 for s in starts)
    points = {(p.start.year, p.start.month): (p.csat, p.nps) for p in summary.trend}
    assert points[(2025, 12)] == (100.0, None)
    assert points[(2026, 1)] == (None, 100.0)
    assert points[(2026, 2)] == (None, None)
    assert points[(2026, 3)] == (None, -100.0)
