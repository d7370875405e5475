"""NPS and CSAT arithmetic on known data, including no responses."""

from __future__ import annotations

from datetime import UTC, datetime

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
    weeks = [(p.week.day, p.csat, p.nps, p.csat_n, p.nps_n) for p in summary.trend]
    assert weeks == [
        (23, None, None, 0, 0),  # Monday 23 February: the week 1 March falls in
        (2, 50.0, 100.0, 2, 1),
        (9, None, None, 0, 0),
        (16, None, -100.0, 0, 1),
    ]
    empty = stats.summarize(0, 0, [], at(1), at(20))
    assert (empty.response_rate, empty.csat, empty.nps) == (None, None, None)
    assert all(p.csat is None and p.nps is None for p in empty.trend)
