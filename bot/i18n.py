"""Message catalogs: bot/locales/<language>/<area>.toml, keys "<area>.<key>".

Parameters are HTML-escaped when a text is rendered, so whatever a user typed can go into a message
safely; pass `Markup(...)` for a parameter that is already HTML built from catalog texts. A parameter
named `html_*` is HTML too: stored by storage after checking it (a campaign's text,
storage.core.telegram_html), so an outbox row can carry it as plain JSON. A parameter
longer than its budget (PARAM_BUDGET characters unless the caller passes `budget=`, None for no cut) is cut
before escaping, so an echo of a long argument still fits Telegram's 4096-character limit and an entity
such as &amp; is never cut in half. Texts that must carry a whole customer message split it instead
(handlers.replies.send_split) and pass each part with a budget that fits. A parameter that is a
per-language value (storage.core.localized: {"*": default, "zh": …}) is read in the text's language.
"""

from __future__ import annotations

import html
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

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


class Catalog:
    def __init__(self, catalogs: dict[str, dict[str, str]], default_language: str = "en") -> None:
        self.catalogs = catalogs
        self.default_language = default_language

    @classmethod
    def load(cls, default_language: str = "en") -> Catalog:
        return cls(load(), default_language)

    def has(self, key: str) -> bool:
        return all(key in texts for texts in self.catalogs.values())

    def __call__(
        self, language: str, key: str, /, *, budget: int | None = PARAM_BUDGET, **params: Any
    ) -> str:
        texts = self.catalogs.get(language, self.catalogs[self.default_language])
        template = texts[key]  # a missing key is a bug the catalog test catches
        if not params:
            return template
        # A per-language value (storage.core.localized) is read in this message's language.
        safe = {
            k: v
            if isinstance(v, Markup) or k.startswith(HTML_PARAM)
            else html.escape(cut(str(localized.resolve(v, language)), budget), quote=False)
            for k, v in params.items()
        }
        return template.format_map(safe)


def _trusted(name: str, value: Any) -> bool:
    return isinstance(value, Markup) or name.startswith(HTML_PARAM)


def cut(text: str, budget: int | None) -> str:
    """`text`, or its first characters and "…" within `budget` characters (None: no limit)."""
    if budget is None or len(text) <= budget:
        return text
    return text[: max(budget - len(ELLIPSIS), 0)] + ELLIPSIS
