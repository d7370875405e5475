"""Survey and feedback settings from the environment, with clear errors."""

from __future__ import annotations

import pytest

from bot.settings import Settings, SettingsError
from storage.core.config import SurveyConfig


def test_defaults_and_overrides() -> None:
    assert Settings.from_env({"TELEGRAM_BOT_TOKEN": "t"}, env_file=None).config.surveys == SurveyConfig()
    env = {
        "TELEGRAM_BOT_TOKEN": "t",
        "SURVEY_THROTTLE_DAYS": "14",
        "SURVEY_EXPIRE_DAYS": "3",
        "SURVEY_REWARD_POINTS": "0",
        "FEEDBACK_FOLLOWUP_HOURS": "2",
        "NPS_DETRACTOR_MAX": "5",
        "CSAT_DETRACTOR_MAX": "3",
        "PURCHASE_SURVEY": "Service",
    }
    surveys = Settings.from_env(env, env_file=None).config.surveys
    assert surveys == SurveyConfig(14, 3, 0, 2, 5, 3, "service")


@pytest.mark.parametrize(
    ("key", "value"),
    [("SURVEY_EXPIRE_DAYS", "0"), ("NPS_DETRACTOR_MAX", "11"), ("SURVEY_THROTTLE_DAYS", "x")],
)
def test_bad_values_are_explained(key: str, value: str) -> None:
    with pytest.raises(SettingsError, match=key):
        Settings.from_env({"TELEGRAM_BOT_TOKEN": "t", key: value}, env_file=None)
