"""When staff want a follow-up (pure): "2026-12-01 15:00", "tomorrow 15:00", "in 3d", "in 2h",
"friday 15:00", "明天 15:00", "3天后", "周五 15:00", "下周一 10:00" … read in the staff group's time zone."""

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
_CLOCK_PART = r"\s*(?:([0-9]{1,2})[:：]([0-9]{2}))?"
_WEEKDAY_EN = re.compile(rf"(next\s+)?([a-z]{{3,9}}){_CLOCK_PART}", re.IGNORECASE)
_WEEKDAY_ZH = re.compile(rf"(下个?|这个?|本)?(?:周|星期|礼拜)([一二三四五六日天]){_CLOCK_PART}")
_WEEK = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_EN_DAYS = {
    **{name: n for n, name in enumerate(_WEEK)},
    **{name: n for n, name in enumerate(("mon", "tue", "wed", "thu", "fri", "sat", "sun"))},
    "tues": 1, "weds": 2, "thur": 3, "thurs": 3,
}  # fmt: skip
_ZH_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
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


def _weekday(weekday: int, which: str, at: time, now: datetime, tz: ZoneInfo) -> datetime:
    """A weekday at a time, in the zone. `which`: "next" — the first such day still ahead ("friday
    15:00" on a Friday morning is today; on a Friday evening, next week); "after_today" — the first
    after today ("next friday"); "next_week" / "this_week" — that day of the calendar week (Monday
    first) after this one / of this one ("下周一", "这周五": the latter may have passed)."""
    today = now.astimezone(tz).date()
    monday = today - timedelta(days=today.weekday())
    if which == "next_week":
        return _local(monday + timedelta(days=7 + weekday), at, tz)
    if which == "this_week":
        return _local(monday + timedelta(days=weekday), at, tz)
    ahead = (weekday - today.weekday()) % 7
    if which == "after_today" and ahead == 0:
        ahead = 7
    when = _local(today + timedelta(days=ahead), at, tz)
    return when if when > now else _local(today + timedelta(days=ahead + 7), at, tz)


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
    elif (m := _WEEKDAY_EN.fullmatch(text)) and m[2].lower() in _EN_DAYS:
        when = _weekday(
            _EN_DAYS[m[2].lower()], "after_today" if m[1] else "next", _clock(m[3], m[4]), now, tz
        )
    elif m := _WEEKDAY_ZH.fullmatch(text):
        week = "next_week" if m[1] and m[1].startswith("下") else "this_week" if m[1] else "next"
        when = _weekday(_ZH_DAYS[m[2]], week, _clock(m[3], m[4]), now, tz)
    elif m := _CLOCK.fullmatch(text):  # "15:00": today at that time
        when = _local(now.astimezone(tz).date(), _clock(m[1], m[2]), tz)
    if when is None:
        raise WhenError("followups.when_invalid")
    if when <= now:
        raise WhenError("followups.when_past")
    if when - now > MAX_AHEAD:
        raise WhenError("followups.when_too_far")
    return when


def local_iso(instant: datetime, timezone: str) -> str:
    """The moment on that zone's clock with its offset, "2026-03-08T15:00-04:00": what an outbox row
    carries for a text's `{due:datetime}`, which the catalog writes for the reader (bot.formatting)."""
    return instant.astimezone(ZoneInfo(timezone)).isoformat(timespec="minutes")
