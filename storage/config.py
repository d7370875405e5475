"""Business configuration handed to storage operations and handlers (built by bot.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("en", "zh")
LEAP_DAY_RULES = ("feb28", "mar1")


@dataclass(frozen=True)
class SenderConfig:
    """How fast the outbox sender may talk to Telegram, and how it retries."""

    rate_per_second: float = 25.0  # global; Telegram's bulk limit is about 30/s
    private_chat_interval: float = 1.0  # seconds between two messages to one private chat
    group_per_minute: int = 20  # messages to one group in any 60 s
    max_in_flight: int = 16  # sends started but not yet recorded: the duplicate bound after a kill
    batch: int = 100  # rows claimed per round
    max_attempts: int = 5  # TimedOut / network errors before a row fails for good
    claim_lease_seconds: float = 120.0  # a claim older than this belongs to a dead sender
    poll_seconds: float = 0.5  # idle wait when nothing is due


@dataclass(frozen=True)
class BirthdayConfig:
    hour: int = 10  # local wall-clock time of the greeting
    minute: int = 0
    # Where a 29 February birthday is greeted in a common year.
    leap_day_rule: str = "feb28"
    bonus_points: int = 50
    # Staff digest of today's birthdays, at this hour in the staff time zone.
    digest_hour: int = 9


@dataclass(frozen=True)
class CallbackConfig:
    # An open task whose reminder got no reaction is reminded once more after this long.
    overdue_hours: float = 4.0


@dataclass(frozen=True)
class Config:
    default_timezone: str = "UTC"
    default_language: str = "en"
    staff_chat_id: int | None = None
    owner_ids: frozenset[int] = field(default_factory=frozenset)
    # Time zone the staff group thinks in (follow-up times such as "tomorrow 15:00").
    staff_timezone: str = "UTC"
    sender: SenderConfig = field(default_factory=SenderConfig)
    birthdays: BirthdayConfig = field(default_factory=BirthdayConfig)
    callbacks: CallbackConfig = field(default_factory=CallbackConfig)
