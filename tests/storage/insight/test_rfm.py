"""RFM: quintile cut points of the business's own buyers (ties kept together), the small-base fallback,
and the R × FM segment grid."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storage.core.config import InsightConfig
from storage.insight import rfm

CONFIG = InsightConfig()


def test_quintile_cuts_split_distinct_values_into_fifths() -> None:
    values = [float(v) for v in range(1, 101)]
    assert rfm.quintile_cuts(values) == (20.0, 40.0, 60.0, 80.0)
    cuts = rfm.cuts_for(values, values, values, CONFIG)
    counts = [0] * 6
    for v in values:
        counts[1 + rfm.below(v, cuts.frequency)] += 1
    assert counts[1:] == [20, 20, 20, 20, 20]


def test_quintile_cuts_use_the_nearest_rank() -> None:
    # 7 values: ranks ceil(7k/5) = 2, 3, 5, 6.
    assert rfm.quintile_cuts([7, 1, 6, 2, 5, 3, 4]) == (2, 3, 5, 6)


def test_ties_score_alike_whatever_their_order() -> None:
    values = [1.0] * 60 + [2.0] * 20 + [5.0] * 20  # most customers bought once
    cuts = rfm.quintile_cuts(values)
    assert cuts == (1.0, 1.0, 1.0, 2.0)
    assert {rfm.below(v, cuts) for v in values if v == 1.0} == {0}
    assert rfm.below(2.0, cuts) == 3 and rfm.below(5.0, cuts) == 4
    assert rfm.quintile_cuts(list(reversed(values))) == cuts


def test_recency_scores_fewer_days_higher() -> None:
    days = [float(v) for v in range(100)]
    cuts = rfm.cuts_for(days, days, days, CONFIG)
    assert rfm.scores(0, 0, 0, cuts)[0] == 5
    assert rfm.scores(19, 0, 0, cuts)[0] == 5
    assert rfm.scores(20, 0, 0, cuts)[0] == 4
    assert rfm.scores(99, 0, 0, cuts)[0] == 1
    assert rfm.scores(99, 99, 99, cuts) == (1, 5, 5)


def test_a_small_base_scores_by_the_fixed_thresholds() -> None:
    few = [float(v) for v in range(19)]
    cuts = rfm.cuts_for(few, few, few, CONFIG)
    assert not cuts.quintiles
    assert cuts.recency == (30, 60, 120, 240) and cuts.frequency == (1, 2, 3, 5)
    assert rfm.scores(10, 1, 49, cuts) == (5, 1, 1)
    assert rfm.scores(45, 2, 150, cuts) == (4, 2, 2)
    assert rfm.scores(400, 4, Decimal("1000.01").__float__(), cuts) == (1, 4, 5)
    assert rfm.cuts_for([1.0] * 20, [1.0] * 20, [1.0] * 20, CONFIG).quintiles


def test_cuts_survive_json() -> None:
    cuts = rfm.cuts_for([1.5, 2, 3, 4, 5] * 4, [1.0] * 20, [10.25] * 20, CONFIG)
    assert rfm.RfmCuts.from_json(cuts.as_json()) == cuts


@pytest.mark.parametrize(
    ("r", "f", "m", "segment"),
    [
        (5, 5, 5, rfm.CHAMPIONS),
        (5, 4, 3, rfm.CHAMPIONS),  # FM 3.5 rounds up to 4
        (5, 1, 1, rfm.NEW),
        (5, 2, 3, rfm.POTENTIAL),
        (4, 1, 1, rfm.PROMISING),
        (4, 5, 4, rfm.LOYAL),
        (3, 3, 3, rfm.ATTENTION),
        (3, 1, 2, rfm.ABOUT_TO_SLEEP),
        (2, 3, 4, rfm.AT_RISK),
        (1, 5, 5, rfm.CANT_LOSE),
        (2, 1, 2, rfm.HIBERNATING),
        (1, 1, 1, rfm.LOST),
    ],
)
def test_the_segment_grid(r: int, f: int, m: int, segment: str) -> None:
    assert rfm.segment(r, f, m) == segment


def test_every_cell_of_the_grid_is_a_segment_and_every_segment_has_a_cell() -> None:
    cells = [rfm.segment(r, f, m) for r in range(1, 6) for f in range(1, 6) for m in range(1, 6)]
    assert set(cells) == set(rfm.SEGMENTS)
