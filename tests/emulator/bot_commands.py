"""bot_command entities as Telegram finds them in what a person writes (tdlib's match_bot_commands).

A command is "/" and 1-64 characters of [A-Za-z0-9_], optionally "@" and 3-32 more (a bot username). The
entity ends at the first character outside those sets, but it is dropped altogether when:
- the "/" follows a word character (a letter, a digit, "_") or one of "/<>" ("a/b" is no command);
- the name is empty or longer than 64, or a "@username" part is shorter than 3 or longer than 32;
- the character right after it is a word character or one of "/<>" (so "/awardé" and "/a/b" are none).
Commands anywhere in the text count ("hi /help", "(/help)"), not only at offset 0. Offsets and lengths are
in UTF-16 code units, as in every MessageEntity.
"""

from __future__ import annotations

import string
from typing import Any

from tests.emulator.html_entities import utf16_len

_NAME_CHARS = frozenset(string.ascii_letters + string.digits + "_")
_FENCES = "/<>"


def _is_word(char: str) -> bool:
    """tdlib's is_word_character: Unicode letters and numbers, and "_"."""
    return char == "_" or char.isalnum()


def _blocks(char: str | None) -> bool:
    return char is not None and (_is_word(char) or char in _FENCES)


def _run(text: str, start: int) -> int:
    """The end of the [A-Za-z0-9_] run starting at start."""
    end = start
    while end < len(text) and text[end] in _NAME_CHARS:
        end += 1
    return end


def _match_at(text: str, slash: int) -> tuple[int, int | None]:
    """(where scanning resumes, where the command ends or None) for a "/" at index slash."""
    end = _run(text, slash + 1)
    if not 1 <= end - slash - 1 <= 64:
        return max(end, slash + 1), None
    if end < len(text) and text[end] == "@":
        mention_end = _run(text, end + 1)
        if not 3 <= mention_end - end - 1 <= 32:
            return mention_end, None
        end = mention_end
    following = text[end] if end < len(text) else None
    return end, (None if _blocks(following) else end)


def command_entities(text: str) -> list[dict[str, Any]]:
    """Every bot_command entity Telegram would attach to text (or a caption) sent by a person."""
    entities: list[dict[str, Any]] = []
    slash = text.find("/")
    while slash != -1:
        if slash > 0 and _blocks(text[slash - 1]):
            slash = text.find("/", slash + 1)
            continue
        resume, end = _match_at(text, slash)
        if end is not None:
            entities.append(
                {
                    "type": "bot_command",
                    "offset": utf16_len(text[:slash]),
                    "length": utf16_len(text[slash:end]),
                }
            )
        slash = text.find("/", resume)
    return entities
