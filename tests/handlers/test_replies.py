"""Splitting and packing texts to Telegram's limit, measured in UTF-16 code units."""

from __future__ import annotations

from handlers.replies import pack, split_text, units


def test_parts_join_back_and_break_before_a_line_or_a_space() -> None:
    text = ("第一行 words here\n" * 50 + "😀" * 300).strip()
    parts = split_text(text, 120, 200)
    assert "".join(parts) == text
    assert units(parts[0]) <= 120 and all(units(p) <= 200 for p in parts[1:])
    assert parts[1].startswith("\n")  # the break opens the next part (Telegram strips a trailing one)
    assert all(not p.endswith("\ud83d") for p in parts)  # never half an emoji
    assert split_text("x" * 10, 4) == ["xxxx", "xxxx", "xx"]


def test_blocks_are_packed_whole_within_the_limit() -> None:
    assert pack(["a" * 3, "b" * 3, "c" * 3], "\n", limit=7) == ["aaa\nbbb", "ccc"]
