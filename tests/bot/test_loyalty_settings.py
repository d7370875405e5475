from __future__ import annotations

from decimal import Decimal

import pytest

from bot.settings import Settings, SettingsError
from storage.core.config import LoyaltyConfig


def _settings(**env: str) -> Settings:
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", **env}, env_file=None)


def test_loyalty_defaults_and_overrides() -> None:
    assert _settings().config.loyalty == LoyaltyConfig()
    loyalty = _settings(
        LOYALTY_POINTS_PER_CURRENCY="0.5",
        LOYALTY_TIERS="Bronze:0:1, Platinum:1000:2",
        LOYALTY_EXPIRY_MONTHS="never",
        LOYALTY_REFERRAL_BONUS="50",
        LOYALTY_AWARD_MAX="200",
        LOYALTY_VOUCHER_DAYS="30",
    ).config.loyalty
    assert loyalty.points_per_currency == Decimal("0.5")
    assert [(t.name, t.threshold, t.multiplier) for t in loyalty.tiers] == [
        ("Bronze", 0, Decimal("1")),
        ("Platinum", 1000, Decimal("2")),
    ]
    assert (loyalty.expiry_months, loyalty.referral_bonus, loyalty.award_max, loyalty.voucher_days) == (
        None,
        50,
        200,
        30,
    )


@pytest.mark.parametrize(
    "env",
    [
        {"LOYALTY_TIERS": "Silver:500:1.25"},
        {"LOYALTY_TIERS": "Member:0:1,Gold:x:2"},
        {"LOYALTY_TIERS": "Member:0:1,Gold:500:2,Silver:100:1"},
        {"LOYALTY_POINTS_PER_CURRENCY": "-1"},
        {"LOYALTY_EXPIRY_MONTHS": "soon"},
    ],
)
def test_bad_loyalty_settings_explain_themselves(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        _settings(**env)
