"""Settings renamed from "callback" to "follow-up": the old names still work, with a warning in the log."""

from __future__ import annotations

import logging

import pytest

from bot.settings import Settings, SettingsError


def _followups(env: dict[str, str]) -> tuple[float, int]:
    config = Settings.from_env({"TELEGRAM_BOT_TOKEN": "t", **env}, env_file=None).config
    return config.followups.overdue_hours, config.surveys.followup_hours


def test_new_names(caplog: pytest.LogCaptureFixture) -> None:
    assert _followups({"FOLLOWUP_OVERDUE_HOURS": "2.5", "FEEDBACK_FOLLOWUP_HOURS": "6"}) == (2.5, 6)
    assert _followups({}) == (4.0, 24)
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


def test_old_names_still_work_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.config_env")
    assert _followups({"CALLBACK_OVERDUE_HOURS": "3", "FEEDBACK_CALLBACK_HOURS": "12"}) == (3.0, 12)
    warned = " ".join(r.getMessage() for r in caplog.records if r.levelno == logging.WARNING)
    assert "CALLBACK_OVERDUE_HOURS is deprecated; call it FOLLOWUP_OVERDUE_HOURS" in warned
    assert "FEEDBACK_CALLBACK_HOURS is deprecated; call it FEEDBACK_FOLLOWUP_HOURS" in warned


def test_the_new_name_wins(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.config_env")
    assert _followups({"FOLLOWUP_OVERDUE_HOURS": "1", "CALLBACK_OVERDUE_HOURS": "9"})[0] == 1.0
    assert "CALLBACK_OVERDUE_HOURS is ignored" in caplog.text


def test_a_bad_old_value_is_explained_under_its_own_name() -> None:
    with pytest.raises(SettingsError, match="FEEDBACK_CALLBACK_HOURS"):
        _followups({"FEEDBACK_CALLBACK_HOURS": "0"})
