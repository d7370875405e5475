"""When staff want a follow-up (pure): "2026-12-01 15:00", "tomorrow 15:00", "in 3d", "in 2h",
"明天 15:00", "3天后" … read in the staff group's time zone."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from storage.core.refusals import Refused

MAX_AHEAD = timedelta(days=366)


class WhenError(Refused):
    """`code` names the localized message (followups.when_invalid, when_past or when_too_far)."""


_DAY_WORDS = {"today": 0, "tomorrow": 1, "今天": 0, "明天": 1, "后天": 2}
_UNITS = {
    "m": "minutes", "min": "minutes", "mins": "minutes", "minute": "minutes", "minutes": "minutes",
    "h": "hours", "hr": "hours", "hrs": "hours", "hour": "hours", "hours": "hours",
    "d": "days", "day": "days", "days": "days",
    "w": "weeks", "week": "weeks", "weeks": "weeks",
    "分钟": "minutes", "小时": "hours", "天": "days", "周": "weeks", "星期": "weeks",
}  # fmt: skip
# [0-9], not \d: \d also matches other scripts' digits ("١", "߁").
_RELATIVE = re.compile(r"in\s*([0-9]{1,4})\s*([a-z]+)", re.IGNORECASE)
_RELATIVE_ZH = re.compile(r"([0-9]{1,4})\s*(分钟|小时|天|周|星期)\s*[后以]?后?")
_CLOCK = re.compile(r"([0-9]{1,2})[:：]([0-9]{2})")
_ABSOLUTE = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})(?:[ T]+([0-9]{1,2})[:：]([0-9]{2}))?")
_DAY_AND_CLOCK = re.compile(
    r"(today|tomorrow|今天|明天|后天)\s*(?:([0-9]{1,2})[:：]([0-9]{2}))?", re.IGNORECASE
)
DEFAULT_HOUR = 10  # a day without a time of day: the morning


def _clock(hour: str | None, minute: str | None) -> time:
    if hour is None:
        return time(DEFAULT_HOUR, 0)
    h, m = int(hour), int(minute or 0)
    if h > 23 or m > 59:
        raise WhenError("followups.when_invalid")
    return time(h, m)


def _local(day: date, at: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def _check_day(day: date, now: datetime) -> None:
    """Refuse a day far outside the allowed window before it meets a time zone: 0001-01-01 or
    9999-12-31 would overflow datetime there (a day of slack each side for the zone offset)."""
    if day < now.date() - timedelta(days=1):
        raise WhenError("followups.when_past")
    if day > (now + MAX_AHEAD).date() + timedelta(days=1):
        raise WhenError("followups.when_too_far")


def parse_when(text: str, now: datetime, timezone: str) -> datetime:
    """The UTC instant meant by `text` in `timezone`; refuses nonsense, the past and > a year ahead."""
    tz = ZoneInfo(timezone)
    text = " ".join(text.strip().split())
    when: datetime | None = None
    if m := _RELATIVE.fullmatch(text):
        unit = _UNITS.get(m[2].lower())
        if unit is None:
            raise WhenError("followups.when_invalid")
        when = now + timedelta(**{unit: int(m[1])})
    elif m := _RELATIVE_ZH.fullmatch(text):
        when = now + timedelta(**{_UNITS[m[2]]: int(m[1])})
    elif m := _ABSOLUTE.fullmatch(text):
        try:
            day = date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            raise WhenError("followups.when_invalid") from None
        _check_day(day, now)
        when = _local(day, _clock(m[4], m[5]), tz)
    elif m := _DAY_AND_CLOCK.fullmatch(text):
        today = now.astimezone(tz).date()
        when = _local(today + timedelta(days=_DAY_WORDS[m[1].lower()]), _clock(m[2], m[3]), tz)
    elif m := _CLOCK.fullmatch(text):  # "15:00": today at that time
        when = _local(now.astimezone(tz).date(), _clock(m[1], m[2]), tz)
    if when is None:
        raise WhenError("followups.when_invalid")
    if when <= now:
        raise WhenError("followups.when_past")
    if when - now > MAX_AHEAD:
        raise WhenError("followups.when_too_far")
    return when


def format_local(instant: datetime, timezone: str) -> str:
    return instant.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")
