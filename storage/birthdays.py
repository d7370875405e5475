"""Birthday parsing (pure): the forms customers type, and what counts as a real date of birth."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MIN_YEAR = 1900


class BirthdayError(ValueError):
    """`code` names the localized message: birthday.invalid, birthday.future, birthday.too_old."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


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


_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_DOTTED = re.compile(r"(\d{1,2})\.(\d{1,2})\.(\d{4})")
_MONTH_DAY = re.compile(r"(\d{1,2})/(\d{1,2})")
_CHINESE = re.compile(r"(?:(\d{4})\s*年\s*)?(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]")


def _fields(text: str) -> tuple[int | None, int, int]:
    text = text.strip()
    if m := _ISO.fullmatch(text):
        return int(m[1]), int(m[2]), int(m[3])
    if m := _DOTTED.fullmatch(text):
        return int(m[3]), int(m[2]), int(m[1])
    if m := _MONTH_DAY.fullmatch(text):
        return None, int(m[1]), int(m[2])
    if m := _CHINESE.fullmatch(text):
        return (int(m[1]) if m[1] else None), int(m[2]), int(m[3])
    raise BirthdayError("birthday.invalid")


def parse_birthday(text: str, today: date) -> Birthday:
    """Accepts 1990-05-17, 17.05.1990, 05/17 (no year) and 1990年5月17日; 29 February is valid."""
    year, month, day = _fields(text)
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
