"""Custom survey definitions: the short syntax and JSON files, with clear errors."""

from __future__ import annotations

import json

import pytest

from storage.surveys.definitions import DefinitionError, builtin, parse_json, parse_lines, parse_value


def test_builtin_csat_and_nps() -> None:
    csat = builtin("Service", "csat")
    assert csat.name == "service" and csat.kind == "csat"
    assert [q["type"] for q in csat.questions] == ["csat", "text"]
    assert (csat.questions[0]["min"], csat.questions[0]["max"]) == (1, 5)
    assert csat.questions[1]["optional"] is True
    nps = builtin("loyal", "nps")
    assert (nps.questions[0]["min"], nps.questions[0]["max"]) == (0, 10)
    with pytest.raises(DefinitionError) as error:
        builtin("bad name!", "stars")
    assert [p.code for p in error.value.problems] == ["surveys.def_bad_name", "surveys.def_bad_kind"]


def test_short_syntax() -> None:
    definition = parse_lines(
        "lunch",
        """
        intro Tell us about lunch
        rating 1-5 How was the food?
        choice Which dish? | Noodles | Rice | Soup
        text? Anything else?
        text Your table number
        """,
    )
    assert definition.intro == "Tell us about lunch"
    assert [(q["id"], q["type"], q["optional"]) for q in definition.questions] == [
        ("q1", "rating", False),
        ("q2", "choice", False),
        ("q3", "text", True),
        ("q4", "text", False),
    ]
    assert definition.questions[1]["options"] == ["Noodles", "Rice", "Soup"]


def test_short_syntax_errors_name_the_line() -> None:
    with pytest.raises(DefinitionError) as error:
        parse_lines("lunch", "rating five How?\nchoice Only one | A\nmaybe what\nrating 3-1 Backwards?")
    problems = [(p.code, p.line) for p in error.value.problems]
    assert problems == [
        ("surveys.def_rating_syntax", 1),
        ("surveys.def_unknown_line", 3),
        ("surveys.def_options_count", 2),
        ("surveys.def_bad_scale", 4),
    ]
    with pytest.raises(DefinitionError) as error:
        parse_lines("lunch", "   ")
    assert [p.code for p in error.value.problems] == ["surveys.def_no_questions"]


def test_json_definition_and_errors() -> None:
    document = {
        "name": "visit",
        "questions": [
            {"type": "rating", "text": "Cleanliness?", "min": 0, "max": 10},
            {"type": "choice", "text": "Come again?", "options": ["Yes", "No"], "optional": True},
            {"type": "text", "text": "Why?"},
        ],
    }
    definition = parse_json(json.dumps(document).encode())
    assert definition.name == "visit" and len(definition.questions) == 3
    assert definition.questions[2]["optional"] is True  # text questions may be skipped unless said otherwise

    with pytest.raises(DefinitionError) as error:
        parse_json(b"{not json")
    assert error.value.problems[0].code == "surveys.def_bad_json"
    bad = {"name": "x", "colour": 1, "questions": [{"type": "slider", "text": "?"}, {"type": "text"}]}
    with pytest.raises(DefinitionError) as error:
        parse_json(json.dumps(bad).encode())
    assert [p.code for p in error.value.problems] == [
        "surveys.def_unknown_field",
        "surveys.def_bad_type",
        "surveys.def_no_text",
    ]
    with pytest.raises(DefinitionError):
        parse_json(
            json.dumps({"name": "x", "questions": [{"type": "rating", "text": "?", "max": True}]}).encode()
        )


def test_parse_value_checks_the_scale() -> None:
    csat = builtin("s", "csat").questions[0]
    assert parse_value(csat, "5") == 5
    assert (
        parse_value(csat, "0") is None and parse_value(csat, "6") is None and parse_value(csat, "x") is None
    )
    choice = {"type": "choice", "options": ["a", "b"]}
    assert parse_value(choice, "1") == 1 and parse_value(choice, "2") is None
