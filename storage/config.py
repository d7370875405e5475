"""Business configuration handed to storage operations and handlers (built by bot.settings)."""

from __future__ import annotations

from dataclasses import dataclass, field

LANGUAGES = ("en", "zh")


@dataclass(frozen=True)
class Config:
    default_timezone: str = "UTC"
    default_language: str = "en"
    staff_chat_id: int | None = None
    owner_ids: frozenset[int] = field(default_factory=frozenset)
    # Time zone the staff group thinks in (follow-up times such as "tomorrow 15:00").
    staff_timezone: str = "UTC"
