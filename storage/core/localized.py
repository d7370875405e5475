"""Per-language values that staff or settings write (tier names, reward titles, custom survey
questions): the value in the default language stays in its own column, the others beside it as
{language: text}. A value handed to a text is a `Localized` dict, resolved in the reader's language
when the text is rendered (bot.i18n.Catalog, so the outbox carries it too), falling back to the
default."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from storage.core.config import LANGUAGES

DEFAULT = "*"  # the key of the default-language value inside a Localized dict
Localized = dict[str, str]


def value(default: str, translations: Mapping[str, str] | None) -> Localized | str:
    """What a text parameter carries: the default alone when nothing is translated."""
    others = {lang: text for lang, text in (translations or {}).items() if text}
    return {DEFAULT: default, **others} if others else default


def pick(default: str, translations: Mapping[str, str] | None, language: str) -> str:
    """The value in `language`, else the default."""
    return (translations or {}).get(language) or default


def resolve(param: Any, language: str) -> Any:
    """A parameter as `language` reads it: a Localized dict becomes its text; anything else is itself."""
    if isinstance(param, dict) and DEFAULT in param:
        return param.get(language) or param[DEFAULT]
    return param


def split_field(key: str) -> tuple[str, str | None]:
    """ "title_zh" → ("title", "zh"); "title" → ("title", None); an unknown suffix stays in the name."""
    base, sep, lang = key.rpartition("_")
    if sep and base and lang in LANGUAGES:
        return base, lang
    return key, None


def merged(old: Mapping[str, str] | None, new: Mapping[str, str]) -> dict[str, str] | None:
    """Translations after an edit: an empty value removes that language; None when none is left."""
    out = {**(old or {}), **new}
    kept = {lang: text for lang, text in out.items() if text}
    return kept or None
