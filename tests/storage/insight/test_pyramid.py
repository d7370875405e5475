"""The value pyramid: top 1% / next 4% / next 15% / the rest by 12-month spend, configurable."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storage.core.config import InsightConfig
from storage.insight import pyramid

CONFIG = InsightConfig()


def test_a_thousand_buyers_split_10_40_150_800() -> None:
    spends = [float(v) for v in range(1, 1001)]
    cuts = pyramid.thresholds(spends, CONFIG)
    assert cuts == (991.0, 951.0, 801.0)
    levels = [pyramid.level(s, cuts) for s in spends]
    assert [levels.count(name) for name in pyramid.LEVELS] == [10, 40, 150, 800]


def test_ties_at_a_threshold_share_the_higher_level() -> None:
    spends = [500.0] * 3 + [float(v) for v in range(1, 98)]
    cuts = pyramid.thresholds(spends, CONFIG)
    assert cuts is not None and cuts[0] == 500.0
    assert [pyramid.level(s, cuts) for s in spends[:3]] == [pyramid.KEY] * 3


def test_nothing_spent_is_small_and_a_few_buyers_still_have_a_key_customer() -> None:
    assert pyramid.thresholds([0.0, 0.0], CONFIG) is None
    assert pyramid.level(100.0, None) == pyramid.SMALL
    cuts = pyramid.thresholds([10.0, 20.0, 30.0, 0.0], CONFIG)
    assert cuts == (30.0, 30.0, 30.0)
    assert [pyramid.level(s, cuts) for s in (30.0, 20.0, 0.0)] == [pyramid.KEY, pyramid.SMALL, pyramid.SMALL]


def test_shares_are_configurable() -> None:
    config = InsightConfig(pyramid_shares=(Decimal("0.1"), Decimal("0.3"), Decimal("0.6")))
    spends = [float(v) for v in range(1, 11)]
    cuts = pyramid.thresholds(spends, config)
    assert cuts == (10.0, 8.0, 5.0)
    with pytest.raises(ValueError):
        InsightConfig(pyramid_shares=(Decimal("0.3"), Decimal("0.1"), Decimal("0.6")))
