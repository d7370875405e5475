"""Message catalogs: bot/locales/<language>/<area>.toml, keys "<area>.<key>".

Parameters are HTML-escaped when a text is rendered, so whatever a user typed can go into a message
safely; pass `Markup(...)` for a parameter that is already HTML built from catalog texts. A parameter
named `html_*` is HTML too: stored by storage after checking it (a campaign's text,
storage.core.telegram_html), so an outbox row can carry it as plain JSON. A parameter
longer than its budget (PARAM_BUDGET characters unless the caller passes `budget=`, None for no cut) is cut
before escaping, so an echo of a long argument still fits Telegram's 4096-character limit and an entity
such as &amp; is never cut in half. Texts that must carry a whole customer message split it instead
(handlers.replies.send_split) and pass each part with a budget that fits.

Numbers, money, birthdays, dates and plurals are written as the reader's language writes them
(bot.formatting): a text asks for `{amount:money}`, `{total:number}`, `{birthday:day}`, `{when:date}`,
`{when:datetime}`, `{start:day_month}` (a chart's "9 Jul"), `{start:month_year}` ("Jul 2026") or
`{points, plural, one {# point} other {# points}}`; the caller passes plain values (a date, or an aware
datetime already on the reader's clock: handlers.loyalty_text.local). A parameter that is a per-language
value (storage.core.localized: {"*": default, "zh": …}) is read in the text's language.
"""

from __future__ import annotations

import html
import string
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from bot import formatting
from bot.formatting import Plural
from storage.core import localized

LOCALES = Path(__file__).parent / "locales"
PARAM_BUDGET = 1000
ELLIPSIS = "…"
HTML_PARAM = "html_"  # a parameter already checked as Telegram HTML where it was stored


class Markup(str):
    """A string that is already safe HTML."""


def _flatten(prefix: str, table: Mapping[str, Any], into: dict[str, str]) -> None:
    for key, value in table.items():
        name = f"{prefix}.{key}"
        if isinstance(value, Mapping):
            _flatten(name, value, into)
        else:
            into[name] = str(value)


def load(root: Path = LOCALES) -> dict[str, dict[str, str]]:
    catalogs: dict[str, dict[str, str]] = {}
    for language_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        texts: dict[str, str] = {}
        for file in sorted(language_dir.glob("*.toml")):
            with file.open("rb") as fh:
                _flatten(file.stem, tomllib.load(fh), texts)
        catalogs[language_dir.name] = texts
    return catalogs


def placeholders(template: str) -> set[str]:
    """The parameters a template names, plural counts and those inside plural forms included."""
    names: set[str] = set()
    for part in formatting.split(template):
        texts = part.forms.values() if isinstance(part, Plural) else [part]
        names |= {part.name} if isinstance(part, Plural) else set()
        for text in texts:
            names |= {name for _, name, _, _ in string.Formatter().parse(text) if name}
    return names


FORMATS = frozenset({"", "number", "money", "day", "date", "datetime", "day_month", "month_year"})


def format_specs(template: str) -> set[str]:
    """The formats a template asks for ("money", "date", …; "" for a plain parameter)."""
    specs: set[str] = set()
    for part in formatting.split(template):
        for text in part.forms.values() if isinstance(part, Plural) else [part]:
            specs |= {spec or "" for _, name, spec, _ in string.Formatter().parse(text) if name}
    return specs


def plurals(template: str) -> list[Plural]:
    return [part for part in formatting.split(template) if isinstance(part, Plural)]


class _Param:
    """A parameter as its text asks for it: escaped and cut by default, or a number, an amount, a day,
    a date or a moment."""

    __slots__ = ("budget", "currency", "language", "trusted", "value")

    def __init__(self, value: Any, language: str, currency: str | None, budget: int | None, trusted: bool):
        self.value, self.language, self.currency = value, language, currency
        self.budget, self.trusted = budget, trusted

    def __format__(self, spec: str) -> str:
        value, language = self.value, self.language
        if spec == "":
            return str(value) if self.trusted else html.escape(cut(str(value), self.budget), quote=False)
        if spec == "number":
            shown = formatting.number(value, language)
        elif spec == "money":
            shown = formatting.money(value, language, self.currency)
        elif spec == "day" and hasattr(value, "month"):
            shown = formatting.day(value.month, value.day, value.year, language)
        elif spec == "day":
            shown = str(value)  # "—": no birthday, or hidden from this reader
        elif spec == "day_month":
            shown = formatting.day_month(value, language)
        elif spec == "month_year":
            shown = formatting.month_year(value, language)
        elif spec == "date":
            shown = formatting.date_text(value, language)
        elif spec == "datetime":
            shown = formatting.datetime_text(value, language)
        else:
            raise ValueError(f"unknown format {spec!r}")
        return html.escape(cut(shown, self.budget), quote=False)


class Catalog:
    def __init__(
        self, catalogs: dict[str, dict[str, str]], default_language: str = "en", currency: str | None = None
    ) -> None:
        self.catalogs = catalogs
        self.default_language = default_language
        self.currency = currency  # ISO 4217 (CURRENCY); None: amounts without a currency sign
        self._split: dict[tuple[str, str], list[str | Plural]] = {}

    @classmethod
    def load(cls, default_language: str = "en", currency: str | None = None) -> Catalog:
        return cls(load(), default_language, currency)

    def has(self, key: str) -> bool:
        return all(key in texts for texts in self.catalogs.values())

    def __call__(
        self, language: str, key: str, /, *, budget: int | None = PARAM_BUDGET, **params: Any
    ) -> str:
        if language not in self.catalogs:
            language = self.default_language
        template = self.catalogs[language][key]  # a missing key is a bug the catalog test catches
        if not params:
            return template
        # A per-language value (storage.core.localized) is read in this message's language.
        params = {k: localized.resolve(v, language) for k, v in params.items()}
        parts = self._split.get((language, key))
        if parts is None:
            parts = self._split[(language, key)] = formatting.split(template)
        if len(parts) != 1 or isinstance(parts[0], Plural):
            template = "".join(p.render(params, language) if isinstance(p, Plural) else p for p in parts)
        safe = {k: _Param(v, language, self.currency, budget, _trusted(k, v)) for k, v in params.items()}
        return template.format_map(safe)


def _trusted(name: str, value: Any) -> bool:
    return isinstance(value, Markup) or name.startswith(HTML_PARAM)


def cut(text: str, budget: int | None) -> str:
    """`text`, or its first characters and "…" within `budget` characters (None: no limit)."""
    if budget is None or len(text) <= budget:
        return text
    return text[: max(budget - len(ELLIPSIS), 0)] + ELLIPSIS
