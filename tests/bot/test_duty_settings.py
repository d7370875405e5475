"""Settings of the scheduled duties: expiry warnings, the post-purchase survey delay, win-back."""

from __future__ import annotations

from decimal import Decimal

import pytest

from bot.settings import Settings, SettingsError
from storage.core.config import WinbackConfig


def _config(**env: str):
    return Settings.from_env({"TELEGRAM_BOT_TOKEN": "t", **env}, env_file=None).config


def test_defaults_and_overrides() -> None:
    defaults = _config()
    assert defaults.winback == WinbackConfig()
    assert (defaults.loyalty.expiry_warning_days, defaults.surveys.after_purchase_hours) == (14, 24)
    config = _config(
        LOYALTY_EXPIRY_WARNING_DAYS="0",
        SURVEY_AFTER_PURCHASE_HOURS="0",
        WINBACK_FACTOR="1.5",
        WINBACK_DAYS="90",
        WINBACK_MIN_SPEND="0",
        WINBACK_MESSAGE="on",
    )
    assert (config.loyalty.expiry_warning_days, config.surveys.after_purchase_hours) == (0, 0)
    assert config.winback == WinbackConfig(Decimal("1.5"), 90, Decimal(0), True)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("LOYALTY_EXPIRY_WARNING_DAYS", "-1"),
        ("SURVEY_AFTER_PURCHASE_HOURS", "soon"),
        ("WINBACK_FACTOR", "0"),
        ("WINBACK_DAYS", "0"),
        ("WINBACK_MIN_SPEND", "-5"),
        ("WINBACK_MESSAGE", "maybe"),
    ],
)
def test_bad_values_are_explained(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        _config(**{key: value})
