"""Numbers, money, dates, times and plural forms as the reader's language writes them (Babel, CLDR).

Catalog texts ask for them (bot.i18n): `{amount:money}`, `{total:number}`, `{birthday:day}`,
`{when:date}`, `{when:datetime}`, a chart's dates `{start:day_month}` / `{start:month_year}`, and ICU's
plural `{points, plural, one {# point} other {# points}}`, where `#` is the count written as a number.
Values come as Python values or as the strings storage puts in outbox rows ("12.50", "2026-03-10",
"2026-03-10T14:05+08:00"); a value that is not a number or a date (a "—" for nothing) is shown as it is.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache
from typing import Any

from babel import Locale
from babel.dates import DateTimePattern, format_skeleton, match_skeleton
from babel.dates import parse_pattern as parse_date_pattern
from babel.numbers import NumberPattern, is_currency, parse_pattern

# CLDR locales per catalog language. "en_001" is English as written internationally (17 May,
# €1,234.50, US$ for dollars); plain "en" is US English (May 17, $ for any dollar).
LOCALES = {"en": "en_001", "zh": "zh_Hans_CN"}
PLURAL = re.compile(r"\{(\w+),\s*plural,")
FORM = re.compile(r"\s*([a-z]+)\s*\{")
# A year for month/day dates that has 29 February (a birthday without its year).
LEAP_YEAR = 2000
# A date with its year and short month ("10 Mar 2026", "2026年3月10日"); a time on the 24-hour clock
# whatever the language's habit (en's own short time is "2:05 pm"), as staff and follow-ups write them.
DATE_SKELETON, TIME_SKELETON = "yMMMd", "Hm"


@cache
def locale(language: str) -> Locale:
    return Locale.parse(LOCALES.get(language, language))


def plural_forms(language: str) -> frozenset[str]:
    """The CLDR plural categories the language tells apart: en {one, other}, zh {other}."""
    return locale(language).plural_form.tags | {"other"}


def plural_category(count: Any, language: str) -> str:
    return _category(str(abs(_number(count) or 0)), language)


@lru_cache(maxsize=4096)  # every render of a plural asks; CLDR's rule takes microseconds each time
def _category(count: str, language: str) -> str:
    """By the number's text: Decimal("1.0") == 1, but English says "1.0 points" and "1 point"."""
    return str(locale(language).plural_form(Decimal(count)))


@cache
def _pattern(text: str) -> NumberPattern:
    return parse_pattern(text)  # parsed once: babel's format_* functions parse theirs on every call


def _number(value: Any) -> Decimal | int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return value
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def number(value: Any, language: str) -> str:
    """A count or figure with the language's grouping: "12,345"; the decimals and a "+" it was given
    are kept ("1.0", "+5"); a value that is no number is shown as it is."""
    parsed = _number(value)
    if parsed is None:
        return str(value)
    places = -parsed.as_tuple().exponent if isinstance(parsed, Decimal) else 0
    pattern = "#,##0." + "0" * places if isinstance(places, int) and places > 0 else "#,##0"
    shown = _pattern(pattern).apply(parsed, locale(language))
    return "+" + shown if str(value).lstrip().startswith("+") else shown


def money(value: Any, language: str, currency: str | None) -> str:
    """An amount: "€1,234.50" with a currency; without one, a number with two decimals ("1,234.50")."""
    parsed = _number(value)
    if parsed is None:
        return str(value)
    where = locale(language)
    if currency is None:
        return _pattern("#,##0.00").apply(parsed, where)
    # babel.numbers.format_currency's own steps: the locale's pattern, the currency's minor units (¥: none)
    return where.currency_formats["standard"].apply(parsed, where, currency=currency, currency_digits=True)


def valid_currency(code: str) -> bool:
    return is_currency(code)


def day(month: int, day_of_month: int, year: int | None, language: str) -> str:
    """A birthday as people read it: "17 May 1990" / "17 May", "1990年5月17日" / "5月17日" (never
    "--05-17", ISO's form for a date without its year)."""
    when = date(year or LEAP_YEAR, month, day_of_month)
    return format_skeleton("yMMMMd" if year else "MMMMd", when, locale=locale(language))


def day_month(when: date, language: str) -> str:
    """A day on a chart's axis, short and without its year: "9 Jul", "7月9日"."""
    return format_skeleton("MMMd", when, locale=locale(language))


def month_year(when: date, language: str) -> str:
    """A month on a chart's axis: "Jul 2026", "2026年7月"."""
    return format_skeleton("yMMM", when, locale=locale(language))


def when(value: Any) -> date | None:
    """A date or an aware datetime from a value or its ISO text (an outbox row's); None for anything else.
    A datetime without its offset is refused: it names no moment, and the reader's clock is the caller's
    to choose (handlers.loyalty_text.local, or storage.core.when.local_iso for a row). Such a text in a row
    (one queued before rows carried offsets) is shown as it is."""
    if isinstance(value, str):
        text = value.strip()
        try:
            parsed = datetime.fromisoformat(text) if len(text) > 10 else date.fromisoformat(text)
        except ValueError:
            return None
        return None if isinstance(parsed, datetime) and parsed.utcoffset() is None else parsed
    if isinstance(value, datetime) and value.utcoffset() is None:
        raise ValueError(f"a datetime without its time zone: {value!r}")
    return value if isinstance(value, date) else None


@cache
def _date_pattern(skeleton: str, language: str) -> DateTimePattern:
    where = locale(language)
    best = match_skeleton(skeleton, where.datetime_skeletons) or skeleton
    return parse_date_pattern(where.datetime_skeletons[best])


def date_text(value: Any, language: str) -> str:
    """A day as people read it: "10 Mar 2026" / "2026年3月10日" (a datetime: its day on its own clock)."""
    day = when(value)
    return str(value) if day is None else _date_pattern(DATE_SKELETON, language).apply(day, locale(language))


def datetime_text(value: Any, language: str) -> str:
    """A moment on its own clock: "10 Mar 2026, 14:05" / "2026年3月10日 14:05"; a date alone: its day."""
    moment = when(value)
    if not isinstance(moment, datetime):
        return date_text(value, language)
    where = locale(language)
    day = _date_pattern(DATE_SKELETON, language).apply(moment, where)
    clock = _date_pattern(TIME_SKELETON, language).apply(moment, where)
    return str(where.datetime_formats["medium"]).replace("{1}", day).replace("{0}", clock)


@dataclass(frozen=True)
class Plural:
    """`{name, plural, one {…} other {…}}`: the form for the count `name`, each form a template."""

    name: str
    forms: dict[str, str]

    def render(self, params: dict[str, Any], language: str) -> str:
        count = params[self.name]
        form = self.forms.get(plural_category(count, language), self.forms["other"])
        return form.replace("#", number(count, language))


def split(template: str) -> list[str | Plural]:
    """The template as plain parts (str.format templates) and plural choices, in order."""
    parts: list[str | Plural] = []
    start = 0
    for match in PLURAL.finditer(template):
        if match.start() < start:  # inside a form already taken
            continue
        parts.append(template[start : match.start()])
        forms, start = _forms(template, match.end())
        parts.append(Plural(match.group(1), forms))
    parts.append(template[start:])
    return [p for p in parts if p != ""]


def _forms(template: str, at: int) -> tuple[dict[str, str], int]:
    """The forms from `at` to the plural's closing brace, and the position after it."""
    forms: dict[str, str] = {}
    while True:
        head = FORM.match(template, at)
        if head is None:
            end = template.index("}", at)  # a malformed plural fails loudly (the catalog test)
            if template[at:end].strip():
                raise ValueError(f"bad plural form near {template[at : at + 30]!r}")
            return forms, end + 1
        depth, at = 1, head.end()
        begin = at
        while depth:
            depth += {"{": 1, "}": -1}.get(template[at], 0)
            at += 1
        forms[head.group(1)] = template[begin : at - 1]
