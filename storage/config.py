"""Business configuration handed to storage operations and handlers (built by bot.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class SurveyConfig:
    # A customer is invited to at most one survey per window (any survey).
    throttle_days: int = 30
    # An invitation's buttons answer "this survey has closed" after this long.
    expire_days: int = 7
    # Points for a completed survey, once per survey per customer (0: no reward).
    reward_points: int = 20
    # A "Call back" on a feedback card creates a task due within this many hours.
    callback_hours: int = 24
    # Scores at or below these put a card in the staff group.
    nps_detractor_max: int = 6
    csat_detractor_max: int = 2
    # The survey sent after a purchase (by name); empty: the most recently activated CSAT survey.
    purchase_survey: str = ""


@dataclass(frozen=True)
class Config:
    default_timezone: str = "UTC"
    default_language: str = "en"
    staff_chat_id: int | None = None
    owner_ids: frozenset[int] = field(default_factory=frozenset)
    # Time zone the staff group thinks in (follow-up times such as "tomorrow 15:00").
    staff_timezone: str = "UTC"
    surveys: SurveyConfig = field(default_factory=SurveyConfig)
