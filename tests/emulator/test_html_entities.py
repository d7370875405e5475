"""Telegram's HTML parse mode, and the subset of the reference the emulator is checked against."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from tests.emulator.html_entities import EntityParseError, parse_html, utf16_len
from tests.emulator.methods import HANDLERS
from tests.emulator.spec import load_spec
from tests.emulator.updates import UPDATE_HANDLERS


@pytest.mark.parametrize(
    ("source", "text", "entities"),
    [
        ("<b>a</b><strong>b</strong>", "ab", [("bold", 0, 1), ("bold", 1, 1)]),
        (
            "<i>a</i><em>b</em><u>c</u><ins>d</ins>",
            "abcd",
            [("italic", 0, 1), ("italic", 1, 1), ("underline", 2, 1), ("underline", 3, 1)],
        ),
        ("<s>a</s><strike>b</strike><del>c</del>", "abc", [("strikethrough", i, 1) for i in range(3)]),
        (
            '<span class="tg-spoiler">a</span><tg-spoiler>b</tg-spoiler>',
            "ab",
            [("spoiler", 0, 1), ("spoiler", 1, 1)],
        ),
        ("&lt;b&gt; &amp; &quot;q&quot; &#65;&#x42;", '<b> & "q" AB', []),
        ("😀<b>x</b>", "😀x", [("bold", 2, 1)]),
        ("<b>bold <i>both</i></b>", "bold both", [("bold", 0, 9), ("italic", 5, 4)]),
        ('<pre><code class="language-py">x</code></pre>', "x", [("pre", 0, 1)]),
        ("<code>c</code>", "c", [("code", 0, 1)]),
        ("<blockquote>q</blockquote>", "q", [("blockquote", 0, 1)]),
        ("<blockquote expandable>q</blockquote>", "q", [("expandable_blockquote", 0, 1)]),
        ("  <b>\n x \n</b>  ", "x", [("bold", 0, 1)]),
        ("<b></b>x", "x", []),
        ("5 > 3", "5 > 3", []),
    ],
)
def test_html_to_text_and_entities(source: str, text: str, entities: list[tuple[str, int, int]]) -> None:
    plain, found = parse_html(source)
    assert plain == text
    assert [(e["type"], e["offset"], e["length"]) for e in found] == entities


def test_links_languages_and_custom_emoji_keep_their_attributes() -> None:
    _, found = parse_html(
        '<a href="https://x.org/?a=1&amp;b=2">l</a><pre><code class="language-py">x</code></pre>'
    )
    assert found[0] == {"type": "text_link", "offset": 0, "length": 1, "url": "https://x.org/?a=1&b=2"}
    assert found[1]["language"] == "py"
    _, found = parse_html('<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>')
    assert found == [
        {"type": "custom_emoji", "offset": 0, "length": 2, "custom_emoji_id": "5368324170671202286"}
    ]


@pytest.mark.parametrize(
    ("source", "error"),
    [
        ("<x>a</x>", 'Unsupported start tag "x"'),
        ("Usage: /find <name | id>", 'Unsupported start tag "name"'),
        ("a < b", "bare"),
        ("Tom & Jerry", "bare"),
        ("&nbsp;", "entity"),
        ("<b>open", "Can't find end tag"),
        ("<b>a<i>b</b></i>", "Unmatched end tag"),
        ("</b>", "Unexpected end tag"),
        ("<span>x</span>", "tg-spoiler"),
    ],
)
def test_invalid_html_is_rejected(source: str, error: str) -> None:
    with pytest.raises(EntityParseError, match=error):
        parse_html(source)


def test_utf16_lengths() -> None:
    assert [utf16_len(s) for s in ("a", "é", "中", "😀", "👍🏽")] == [1, 1, 1, 2, 4]


def test_the_subset_has_every_method_the_emulator_answers() -> None:
    path = Path(__file__).resolve().parents[1] / "data" / "make_bot_api_subset.py"
    module_spec = importlib.util.spec_from_file_location("make_bot_api_subset", path)
    assert module_spec is not None and module_spec.loader is not None
    script = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(script)
    spec = load_spec()
    assert set(spec.methods) == set(script.METHODS) == set(HANDLERS) | set(UPDATE_HANDLERS)
    for name in ("Update", "Message", "CallbackQuery", "ChatMemberOwner", "ChatFullInfo", "WebhookInfo"):
        assert name in spec.types
    assert "ChatMemberAdministrator" in spec.types["ChatMember"]["subtypes"]
