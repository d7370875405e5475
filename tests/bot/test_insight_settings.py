"""Customer insight settings: the pyramid's percentages (each level's own share), the small-base RFM
cut points, the model's thresholds and the nightly run's time."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.settings import Settings, SettingsError
from storage.core.config import InsightConfig


def _settings(**env: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", **env}, env_file=None)


def test_insight_defaults_and_overrides() -> None:
    assert _settings().config.insight == InsightConfig()
    insight = _settings(
        INSIGHT_PYRAMID_PERCENT="2,8,20",
        INSIGHT_SCORING_TIME="04:30",
        INSIGHT_MIN_BUYERS="50",
        INSIGHT_RFM_RECENCY_DAYS="7,14,30,90",
        INSIGHT_RFM_FREQUENCY="1,2,4,8",
        INSIGHT_RFM_MONETARY="10,20,40.5,80",
        INSIGHT_MIN_REPEAT_BUYERS="100",
        INSIGHT_DEFAULT_GAP_DAYS="30",
        INSIGHT_MONTHLY_DISCOUNT="0.02",
    ).config.insight
    assert insight.pyramid_shares == (Decimal("0.02"), Decimal("0.10"), Decimal("0.30"))
    assert (insight.hour, insight.minute, insight.min_buyers) == (4, 30, 50)
    assert insight.recency_days == (7, 14, 30, 90) and insight.frequency_counts == (1, 2, 4, 8)
    assert insight.monetary_amounts == (Decimal(10), Decimal(20), Decimal("40.5"), Decimal(80))
    assert (insight.min_repeat_buyers, insight.default_gap_days) == (100, 30)
    assert insight.monthly_discount == Decimal("0.02")


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("INSIGHT_PYRAMID_PERCENT", "1,4"),
        ("INSIGHT_PYRAMID_PERCENT", "50,40,20"),
        ("INSIGHT_RFM_RECENCY_DAYS", "90,30,60,120"),
        ("INSIGHT_RFM_MONETARY", "a,b,c,d"),
        ("INSIGHT_SCORING_TIME", "25:00"),
        ("INSIGHT_MONTHLY_DISCOUNT", "2"),
    ],
)
def test_bad_insight_settings_say_what_is_wrong(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        _settings(**{key: value})
