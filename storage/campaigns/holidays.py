"""The dates of a yearly campaign: a Gregorian month-day ("12-25") or a day of the Chinese lunar calendar
("lunar 8-15", or a named festival: spring-festival = lunar 1-1, lantern 1-15, dragon-boat 5-5,
mid-autumn 8-15), turned into a Gregorian date for each year by lunar_python (6tail's calendar library:
its tables cover 1900-2100 and follow the official calendar; no hand-made table here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from lunar_python import Lunar

from storage.core.refusals import Refused

# Named lunar festivals: (lunar month, lunar day).
FESTIVALS: dict[str, tuple[int, int]] = {
    "spring-festival": (1, 1),
    "lantern": (1, 15),
    "dragon-boat": (5, 5),
    "mid-autumn": (8, 15),
}
SPEC_MAX = 24
_MONTH_DAY = re.compile(r"(\d{1,2})-(\d{1,2})")
FIRST_YEAR, LAST_YEAR = 1901, 2099  # within the library's tables, with a year either side


class HolidayRefused(Refused):
    """`code`: recurring.bad_yearly (the date is not one this module reads)."""


@dataclass(frozen=True)
class Holiday:
    """A yearly date as stored (`spec`, normalised) and read."""

    spec: str
    lunar: bool
    month: int
    day: int

    @property
    def festival(self) -> str | None:
        """The festival's name for a named lunar date ("spring-festival"), else None."""
        if not self.lunar:
            return None
        return next((name for name, md in FESTIVALS.items() if md == (self.month, self.day)), None)

    def in_year(self, year: int) -> date | None:
        """The Gregorian date of this year's occurrence: a lunar date is taken in the lunar year that
        starts in `year` (lunar 12-x can fall in the next January); None for a Gregorian 02-29 in a common
        year (no occurrence that year)."""
        if not self.lunar:
            try:
                return date(year, self.month, self.day)
            except ValueError:
                return None
        day = self.day
        while True:
            try:
                solar = Lunar.fromYmd(year, self.month, day).getSolar()
            except Exception:
                if day <= 29:
                    raise
                day -= 1  # "lunar 12-30" in a 29-day month: its last day
                continue
            return date(solar.getYear(), solar.getMonth(), solar.getDay())

    def next_on_or_after(self, today: date) -> date:
        """The first occurrence on or after `today`."""
        found = [
            d
            for year in (today.year - 1, today.year, today.year + 1)
            if (d := self.in_year(year)) is not None and d >= today
        ]
        if found:
            return min(found)
        # Only a Gregorian 02-29 gets here: the next leap year's.
        year = today.year + 1
        while (d := self.in_year(year)) is None:
            year += 1
        return d


def parse(text: str) -> Holiday:
    """ "12-25", "lunar 8-15" or a festival's name; HolidayRefused recurring.bad_yearly otherwise."""
    raw = " ".join(text.lower().split())
    if raw in FESTIVALS:
        month, day = FESTIVALS[raw]
        return Holiday(f"lunar {month}-{day}", True, month, day)
    lunar = raw.startswith("lunar ")
    found = _MONTH_DAY.fullmatch(raw.removeprefix("lunar ").strip())
    if found is None or len(raw) > SPEC_MAX:
        raise HolidayRefused("recurring.bad_yearly", date=text[:SPEC_MAX])
    month, day = int(found.group(1)), int(found.group(2))
    if lunar:
        valid = 1 <= month <= 12 and 1 <= day <= 30
    else:
        try:
            date(2000, month, day)  # a leap year: 02-29 is a valid yearly date
            valid = True
        except ValueError:
            valid = False
    if not valid:
        raise HolidayRefused("recurring.bad_yearly", date=text[:SPEC_MAX])
    return Holiday(f"{'lunar ' if lunar else ''}{month}-{day}", lunar, month, day)
