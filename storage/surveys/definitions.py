"""Survey definitions: the built-in CSAT and NPS surveys, and custom surveys written by staff either
as short lines or as a JSON file, validated into one normal form with clear, localized errors.

A question is a dict: {"id", "type", "text", "optional", and "min"/"max" (rating) or "options" (choice)}.
Types: csat (1-5), nps (0-10), rating (min..max), choice (one of the options), text (free text).
Built-in questions have text None: their wording comes from the catalog in the customer's language.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from storage.core import inputs

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
    return question


def _finish(
    name: str, intro: Any, raw_questions: list[tuple[int, Any]], problems: list[Problem]
) -> Definition:
    checked = normalize_name(name) if isinstance(name, str) else None
    if checked is None:
        problems.insert(0, Problem("surveys.def_bad_name", {"name": str(name)}))
    if intro is not None and (not isinstance(intro, str) or len(intro) > MAX_TEXT):
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
        checked, "custom", intro.strip() if isinstance(intro, str) and intro.strip() else None, questions
    )


LINE = re.compile(r"(?P<type>[a-z]+)(?P<optional>\??)\s*(?P<rest>.*)", re.S)
SCALE = re.compile(r"(?P<low>[0-9]{1,2})\s*-\s*(?P<high>[0-9]{1,2})\s+(?P<text>.+)", re.S)


def parse_lines(name: str, body: str) -> Definition:
    """The short syntax, one question per line after "/survey new <name> custom":

    intro Tell us about your visit
    rating 1-5 How was the food?
    choice Which dish did you have? | Noodles | Rice | Soup
    text? Anything else?          ("?" after the type: the question may be skipped)
    """
    problems: list[Problem] = []
    intro: str | None = None
    raw_questions: list[tuple[int, Any]] = []
    for number, raw_line in enumerate(body.splitlines(), start=1):
        line = raw_line.strip()
        if not line:
            continue
        match = LINE.fullmatch(line)
        qtype = match["type"] if match else ""
        rest = match["rest"].strip() if match else ""
        optional = bool(match and match["optional"])
        if qtype == "intro":
            intro = rest
        elif qtype == "rating":
            scale = SCALE.fullmatch(rest)
            if scale is None:
                problems.append(Problem("surveys.def_rating_syntax", {}, number))
                continue
            raw_questions.append(
                (
                    number,
                    {
                        "type": "rating",
                        "text": scale["text"],
                        "min": int(scale["low"]),
                        "max": int(scale["high"]),
                        "optional": optional,
                    },
                )
            )
        elif qtype == "choice":
            text, *options = [part.strip() for part in rest.split("|")]
            raw_questions.append(
                (number, {"type": "choice", "text": text, "options": options, "optional": optional})
            )
        elif qtype == "text":
            raw_questions.append((number, {"type": "text", "text": rest, "optional": optional}))
        else:
            problems.append(Problem("surveys.def_unknown_line", {"word": line.split()[0][:20]}, number))
    return _finish(name, intro, raw_questions, problems)


def parse_json(data: bytes) -> Definition:
    """A JSON file: {"name": "...", "intro": "...", "questions": [{"type": ..., "text": ...}, ...]}."""
    try:
        document = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise DefinitionError([Problem("surveys.def_bad_json", {"error": str(error)[:200]})]) from None
    if not isinstance(document, dict):
        raise DefinitionError([Problem("surveys.def_bad_json", {"error": "not an object"})])
    questions = document.get("questions")
    if not isinstance(questions, list):
        raise DefinitionError([Problem("surveys.def_no_questions")])
    unknown = set(document) - {"name", "intro", "questions"}
    problems = [Problem("surveys.def_unknown_field", {"field": sorted(unknown)[0]})] if unknown else []
    return _finish(document.get("name", ""), document.get("intro"), [(0, q) for q in questions], problems)


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
