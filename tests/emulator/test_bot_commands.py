"""bot_command entities are computed the way Telegram computes them for text people send."""

from __future__ import annotations

import pytest

from tests.emulator.bot_commands import command_entities


def spans(text: str) -> list[tuple[int, int]]:
    return [(e["offset"], e["length"]) for e in command_entities(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/start", [(0, 6)]),
        ("/award- 1 500 x", [(0, 6)]),
        ("/award,1", [(0, 6)]),
        ("/award.x", [(0, 6)]),
        ("/award\n1 500", [(0, 6)]),
        ("/Award@engage_bot 1", [(0, 17)]),
        ("/start@engage_test_bot", [(0, 22)]),
        ("hi /help", [(3, 5)]),
        ("(/help)", [(1, 5)]),
        ("/a /b", [(0, 2), (3, 2)]),
        ("/" + "x" * 64, [(0, 65)]),
    ],
)
def test_commands_end_at_the_first_character_outside_the_name(
    text: str, expected: list[tuple[int, int]]
) -> None:
    assert spans(text) == expected
    for entity in command_entities(text):
        assert entity["type"] == "bot_command"


@pytest.mark.parametrize(
    "text",
    [
        "/",
        "/ 1",
        "/-x",
        "a/b",
        "//start",
        "/a/b",
        "/award<b>",
        "/awardé",  # a letter outside [A-Za-z0-9_] right after the name: no command at all
        "/start@ab",  # a bot username is 3-32 characters
        "/start@",
        "/" + "x" * 65,  # longer than 64: no command, not a cut one
        "/start@" + "b" * 33,
        "x/start",
        "_/start",
    ],
)
def test_not_commands(text: str) -> None:
    assert command_entities(text) == []


def test_offsets_and_lengths_are_utf16_code_units() -> None:
    assert spans("😀 /go") == [(3, 3)]  # the emoji is two code units, the space one
    assert spans("é /go") == [(2, 3)]
