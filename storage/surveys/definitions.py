"""Survey definitions: the built-in CSAT and NPS surveys, and custom surveys written by staff either
as short lines or as a JSON file, validated into one normal form with clear, localized errors.

A question is a dict: {"id", "type", "text", "optional", and "min"/"max" (rating) or "options" (choice)},
with its other languages in "texts" ({"zh": "…"}) and "options_in" ({"zh": [...]}): the text and
options above are the default language's (storage.core.localized). Types: csat (1-5), nps (0-10),
rating (min..max), choice (one of the options), text (free text). Built-in questions have text None:
their wording comes from the catalog in the customer's language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from storage.core import inputs, localized
from storage.core.config import LANGUAGES

KINDS = ("csat", "nps", "custom")
CUSTOM_TYPES = ("rating", "choice", "text")
NAME = re.compile(r"[a-z0-9_-]{1,32}")
MAX_QUESTIONS = 10
MAX_TEXT = 300
MAX_OPTIONS = 8
MAX_OPTION = 40
RATING_LOW, RATING_HIGH = 0, 10
SCALES = {"csat": (1, 5), "nps": (0, 10)}


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a definition: a catalog key, its parameters, and the line (0: none)."""

    code: str
    params: dict[str, Any] = field(default_factory=dict)
    line: int = 0


class DefinitionError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        super().__init__("; ".join(p.code for p in problems))
        self.problems = problems


@dataclass(frozen=True)
class Definition:
    name: str
    kind: str
    intro: str | None
    questions: list[dict[str, Any]]
    intros: dict[str, str] | None = None  # the intro in other languages


def normalize_name(name: str) -> str | None:
    name = name.strip().lower()
    return name if NAME.fullmatch(name) else None


def builtin_questions(kind: str) -> list[dict[str, Any]]:
    """CSAT or NPS: the score, then an optional comment."""
    low, high = SCALES[kind]
    return [
        {"id": "score", "type": kind, "text": None, "min": low, "max": high, "optional": False},
        {"id": "comment", "type": "text", "text": None, "optional": True},
    ]


def builtin(name: str, kind: str) -> Definition:
    checked = normalize_name(name)
    problems = []
    if checked is None:
        problems.append(Problem("surveys.def_bad_name", {"name": name}))
    if kind not in ("csat", "nps"):
        problems.append(Problem("surveys.def_bad_kind", {"kind": kind}))
    if problems:
        raise DefinitionError(problems)
    assert checked is not None
    return Definition(checked, kind, None, builtin_questions(kind))


def _question(raw: Any, index: int, line: int, problems: list[Problem]) -> dict[str, Any] | None:
    number = index + 1
    if not isinstance(raw, dict):
        problems.append(Problem("surveys.def_not_object", {"number": number}, line))
        return None
    qtype = raw.get("type")
    text = raw.get("text")
    optional = raw.get("optional", qtype == "text")
    if qtype not in CUSTOM_TYPES:
        problems.append(Problem("surveys.def_bad_type", {"number": number, "type": str(qtype)}, line))
        return None
    if not isinstance(text, str) or not text.strip():
        problems.append(Problem("surveys.def_no_text", {"number": number}, line))
        return None
    if len(text) > MAX_TEXT:
        problems.append(Problem("surveys.def_text_long", {"number": number, "max": MAX_TEXT}, line))
        return None
    if not isinstance(optional, bool):
        problems.append(Problem("surveys.def_bad_optional", {"number": number}, line))
        return None
    question: dict[str, Any] = {"id": f"q{number}", "type": qtype, "text": text.strip(), "optional": optional}
    texts = _translations(raw, "text", number, line, problems)
    if texts is None:
        return None
    if texts:
        question["texts"] = texts
    if qtype == "rating":
        low, high = raw.get("min", 1), raw.get("max", 5)
        if (
            not isinstance(low, int)
            or not isinstance(high, int)
            or isinstance(low, bool)
            or isinstance(high, bool)
            or not RATING_LOW <= low < high <= RATING_HIGH
        ):
            problems.append(
                Problem(
                    "surveys.def_bad_scale", {"number": number, "low": RATING_LOW, "high": RATING_HIGH}, line
                )
            )
            return None
        question.update(min=low, max=high)
    elif qtype == "choice":
        options = raw.get("options")
        if not isinstance(options, list) or not 2 <= len(options) <= MAX_OPTIONS:
            problems.append(
                Problem("surveys.def_options_count", {"number": number, "max": MAX_OPTIONS}, line)
            )
            return None
        cleaned = [o.strip() for o in options if isinstance(o, str) and o.strip()]
        if len(cleaned) != len(options) or any(len(o) > MAX_OPTION for o in cleaned):
            problems.append(Problem("surveys.def_bad_option", {"number": number, "max": MAX_OPTION}, line))
            return None
        if len(set(cleaned)) != len(cleaned):
            problems.append(Problem("surveys.def_duplicate_option", {"number": number}, line))
            return None
        question["options"] = cleaned
        options_in = _translated_options(raw, len(cleaned), number, line, problems)
        if options_in is None:
            return None
        if options_in:
            question["options_in"] = options_in
    return question


def _translations(
    raw: dict[str, Any], field: str, number: int, line: int, problems: list[Problem]
) -> dict[str, str] | None:
    """`<field>_<lang>` values of a question (text_zh), checked like the text; None when one is bad."""
    found: dict[str, str] = {}
    for lang in LANGUAGES:
        value = raw.get(f"{field}_{lang}")
        if value is None:
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
            problems.append(Problem("surveys.def_bad_translation", {"number": number, "max": MAX_TEXT}, line))
            return None
        found[lang] = value.strip()
    return found


def _translated_options(
    raw: dict[str, Any], count: int, number: int, line: int, problems: list[Problem]
) -> dict[str, list[str]] | None:
    """`options_<lang>`: as many options as the default language's, each within bounds."""
    found: dict[str, list[str]] = {}
    for lang in LANGUAGES:
        options = raw.get(f"options_{lang}")
        if options is None:
            continue
        cleaned = (
            [o.strip() for o in options if isinstance(o, str) and o.strip()]
            if isinstance(options, list)
            else []
        )
        if len(cleaned) != count or any(len(o) > MAX_OPTION for o in cleaned):
            problems.append(
                Problem("surveys.def_bad_translated_options", {"number": number, "max": MAX_OPTION}, line)
            )
            return None
        found[lang] = cleaned
    return found


def _finish(
    name: str,
    intro: Any,
    raw_questions: list[tuple[int, Any]],
    problems: list[Problem],
    intros: dict[str, Any] | None = None,
) -> Definition:
    checked = normalize_name(name) if isinstance(name, str) else None
    if checked is None:
        problems.insert(0, Problem("surveys.def_bad_name", {"name": str(name)}))
    if intro is not None and (not isinstance(intro, str) or len(intro) > MAX_TEXT):
        problems.append(Problem("surveys.def_bad_intro", {"max": MAX_TEXT}))
    intros = {lang: text for lang, text in (intros or {}).items() if text is not None}
    if any(not isinstance(text, str) or len(text) > MAX_TEXT for text in intros.values()):
        problems.append(Problem("surveys.def_bad_intro", {"max": MAX_TEXT}))
    if not raw_questions and not problems:
        problems.append(Problem("surveys.def_no_questions"))
    if len(raw_questions) > MAX_QUESTIONS:
        problems.append(Problem("surveys.def_too_many", {"max": MAX_QUESTIONS}))
    questions = [q for i, (line, raw) in enumerate(raw_questions) if (q := _question(raw, i, line, problems))]
    if problems:
        raise DefinitionError(problems)
    assert checked is not None
    return Definition(
        checked,
        "custom",
        intro.strip() if isinstance(intro, str) and intro.strip() else None,
        questions,
        {lang: text.strip() for lang, text in intros.items() if text.strip()} or None,
    )


LINE = re.compile(r"(?P<type>[a-z]+)(?P<optional>\??)\s*(?P<rest>.*)", re.S)
SCALE = re.compile(r"(?P<low>[0-9]{1,2})\s*-\s*(?P<high>[0-9]{1,2})\s+(?P<text>.+)", re.S)


def parse_lines(name: str, body: str) -> Definition:
    """The short syntax, one question per line after "/survey new <name> custom":

    intro Tell us about your visit
    rating 1-5 How was the food?
    choice Which dish did you have? | Noodles | Rice | Soup
    text? Anything else?          ("?" after the type: the question may be skipped)
    zh 还有别的吗？                  (a language's line: the line above in that language;
                                  for a choice, its options too: zh 哪道菜？ | 面 | 饭 | 汤)
    """
    problems: list[Problem] = []
    intro: str | None = None
    intros: dict[str, Any] = {}
    raw_questions: list[tuple[int, Any]] = []
    last: dict[str, Any] | None = None  # what a language's line translates: a question, or the intro
    for number, raw_line in enumerate(body.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        match = LINE.fullmatch(line)
        qtype = match["type"] if match else ""
        rest = match["rest"].strip() if match else ""
        optional = bool(match and match["optional"])
        if qtype in LANGUAGES:
            if last is None:
                problems.append(Problem("surveys.def_translation_orphan", {"language": qtype}, number))
            elif last is intros:
                intros[qtype] = rest
            else:
                text, *options = [part.strip() for part in rest.split("|")]
                last[f"text_{qtype}"] = text
                if last.get("type") == "choice":
                    last[f"options_{qtype}"] = options
            continue
        last = None
        if qtype == "intro":
            intro, last = rest, intros
        elif qtype == "rating":
            scale = SCALE.fullmatch(rest)
            if scale is None:
                problems.append(Problem("surveys.def_rating_syntax", {}, number))
                continue
            last = {
                "type": "rating",
                "text": scale["text"],
                "min": int(scale["low"]),
                "max": int(scale["high"]),
                "optional": optional,
            }
        elif qtype == "choice":
            text, *options = [part.strip() for part in rest.split("|")]
            last = {"type": "choice", "text": text, "options": options, "optional": optional}
        elif qtype == "text":
            last = {"type": "text", "text": rest, "optional": optional}
        else:
            problems.append(Problem("surveys.def_unknown_line", {"word": line.split()[0][:20]}, number))
            continue
        if last is not intros:
            raw_questions.append((number, last))
    return _finish(name, intro, raw_questions, problems, intros)


def parse_json(data: bytes) -> Definition:
    """A JSON file: {"name": "...", "intro": "...", "questions": [{"type": ..., "text": ...}, ...]}; other
    languages as "intro_zh", and "text_zh" / "options_zh" in a question."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([Problem("surveys.def_bad_json", {"error": str(error)[:200]})]) from None
    if not isinstance(document, dict):
        raise DefinitionError([Problem("surveys.def_bad_json", {"error": "not an object"})])
    questions = document.get("questions")
    if not isinstance(questions, list):
        raise DefinitionError([Problem("surveys.def_no_questions")])
    intro_fields = {f"intro_{lang}": lang for lang in LANGUAGES}
    unknown = set(document) - {"name", "intro", "questions", *intro_fields}
    problems = [Problem("surveys.def_unknown_field", {"field": sorted(unknown)[0]})] if unknown else []
    intros = {lang: document[key] for key, lang in intro_fields.items() if key in document}
    return _finish(
        document.get("name", ""), document.get("intro"), [(0, q) for q in questions], problems, intros
    )


def parse_value(question: dict[str, Any], raw: str) -> int | None:
    """A button's value for a scored question, or None when it is not a valid answer."""
    value = inputs.int_or_none(raw, low=0, high=max(RATING_HIGH, MAX_OPTIONS))
    if value is None:
        return None
    if question["type"] == "choice":
        return value if value < len(question["options"]) else None
    if question["type"] in ("csat", "nps", "rating"):
        return value if question["min"] <= value <= question["max"] else None
    return None


def question_text(question: dict[str, Any]) -> localized.Localized | str:
    """A custom question's text as a text parameter: every language it was written in."""
    return localized.value(question["text"], question.get("texts"))


def option_labels(question: dict[str, Any]) -> list[localized.Localized | str]:
    """A choice's options as button labels, each in every language it was written in."""
    options_in: dict[str, list[str]] = question.get("options_in") or {}
    return [
        localized.value(option, {lang: texts[i] for lang, texts in options_in.items()})
        for i, option in enumerate(question["options"])
    ]
