"""Birthdays (pure): the forms customers type, what counts as a real date of birth, and when a
birthday is greeted (the next local greeting time, 29 February in common years)."""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from storage.core.refusals import Refused

MIN_YEAR = 1900


class BirthdayError(Refused):
    """`code` names the localized message: birthday.invalid, birthday.future, birthday.too_old."""


@dataclass(frozen=True)
class Birthday:
    month: int
    day: int
    year: int | None = None

    def iso(self) -> str:
        return (
            f"{self.year:04d}-{self.month:02d}-{self.day:02d}"
            if self.year
            else f"--{self.month:02d}-{self.day:02d}"
        )

    @classmethod
    def from_iso(cls, text: str) -> Birthday:
        """The inverse of iso(): "1990-05-17" or "--05-17"."""
        year, month, day = text.rsplit("-", 2) if not text.startswith("--") else ("", *text[2:].split("-"))
        return cls(month=int(month), day=int(day), year=int(year) if year else None)


# [0-9], not \d: \d also matches other scripts' digits ("١", "߁").
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DOTTED = re.compile(r"([0-9]{1,2})\.([0-9]{1,2})\.([0-9]{4})")
_SLASHED = re.compile(r"([0-9]{1,2})/([0-9]{1,2})(?:/([0-9]{4}))?")
_CHINESE = re.compile(r"(?:([0-9]{4})\s*年\s*)?([0-9]{1,2})\s*月\s*([0-9]{1,2})\s*[日号]?")
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_MONTH = r"([a-z]{3,9})\.?"
_MONTH_FIRST = re.compile(rf"{_MONTH}\s+([0-9]{{1,2}})(?:st|nd|rd|th)?(?:,?\s+([0-9]{{4}}))?", re.IGNORECASE)
_DAY_FIRST = re.compile(
    rf"([0-9]{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+([0-9]{{4}}))?", re.IGNORECASE
)
_MONTH_NAMES = {
    **{name: n for n, name in enumerate(MONTHS, start=1)},
    **{
        name: n
        for n, name in enumerate(
            ("january", "february", "march", "april", "may", "june", "july", "august", "september",
             "october", "november", "december"),
            start=1,
        )
    },
    "sept": 9,
}  # fmt: skip


def _month(name: str) -> int:
    month = _MONTH_NAMES.get(name.lower())
    if month is None:
        raise BirthdayError("birthday.invalid")
    return month


def _slashed(first: int, second: int, language: str) -> tuple[int, int]:
    """(month, day) of "a/b". A number above 12 cannot be a month, so it decides; when both could be
    either, the customer's language does: Chinese writes the month first (5/6 = 5月6日), and English
    is read day first (6/5 = 6 May), since the British and most of the world write it so and a
    customer typing for an American reading would more often write the unambiguous 5/17."""
    if second > 12 or (first <= 12 and language == "zh"):
        return first, second
    return second, first


def _fields(text: str, language: str) -> tuple[int | None, int, int]:
    text = " ".join(text.split())
    if m := _ISO.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _DOTTED.fullmatch(text):
        return int(m[3]), int(m[2]), int(m[1])
    if m := _SLASHED.fullmatch(text):
        month, day = _slashed(int(m[1]), int(m[2]), language)
        return (int(m[3]) if m[3] else None), month, day
    if m := _CHINESE.fullmatch(text):
        return (int(m[1]) if m[1] else None), int(m[2]), int(m[3])
    if m := _MONTH_FIRST.fullmatch(text):
        return (int(m[3]) if m[3] else None), _month(m[1]), int(m[2])
    if m := _DAY_FIRST.fullmatch(text):
        return (int(m[3]) if m[3] else None), _month(m[2]), int(m[1])
    raise BirthdayError("birthday.invalid")


def parse_birthday(text: str, today: date, language: str = "en") -> Birthday:
    """Accepts 1990-05-17, 17.05.1990, 17/05/1990 and 05/17 (no year), May 17, 1990 / 17 May 1990 /
    17 May, 1990年5月17日 and 5月17日; 29 February is valid. "a/b" is read by the rule in _slashed
    (a number above 12 decides; else the `language` of the customer typing it)."""
    year, month, day = _fields(text[:40], language)
    try:
        # A leap year stands in when the year is unknown, so 02/29 is accepted.
        date(year or 2000, month, day)
    except ValueError:
        raise BirthdayError("birthday.invalid") from None
    if year is not None:
        if year < MIN_YEAR:
            raise BirthdayError("birthday.too_old")
        if date(year, month, day) > today:
            raise BirthdayError("birthday.future")
    return Birthday(month=month, day=day, year=year)


# --- When a birthday is greeted (pure) -------------------------------------------------------------


def greeting_date(month: int, day: int, year: int, leap_day_rule: str = "feb28") -> date:
    """The day a birthday is celebrated in `year`: 29 February moves to 28 February (or 1 March)
    in common years."""
    if (month, day) == (2, 29) and not calendar.isleap(year):
        return date(year, 3, 1) if leap_day_rule == "mar1" else date(year, 2, 28)
    return date(year, month, day)


def next_greeting_day(month: int, day: int, on_or_after: date, leap_day_rule: str = "feb28") -> date:
    """The first greeting day on or after a local date."""
    this_year = greeting_date(month, day, on_or_after.year, leap_day_rule)
    if this_year >= on_or_after:
        return this_year
    return greeting_date(month, day, on_or_after.year + 1, leap_day_rule)


def next_greeting_at(
    month: int,
    day: int,
    timezone: str,
    on_or_after: date,
    *,
    hour: int = 10,
    minute: int = 0,
    leap_day_rule: str = "feb28",
) -> datetime:
    """The UTC instant of the next greeting: local `hour:minute` in `timezone` on the next greeting day
    on or after the local date `on_or_after` (zoneinfo resolves a DST gap or fold)."""
    when = next_greeting_day(month, day, on_or_after, leap_day_rule)
    local = datetime(when.year, when.month, when.day, hour, minute, tzinfo=ZoneInfo(timezone))
    return local.astimezone(UTC)


def local_today(now: datetime, timezone: str) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()
