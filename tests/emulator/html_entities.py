"""Telegram's HTML parse_mode: text with tags and entities → plain text + MessageEntity list.

Supported as in the Bot API reference: b/strong, i/em, u/ins, s/strike/del, span class="tg-spoiler",
tg-spoiler, a href, code, pre (with <code class="language-x"> inside), blockquote [expandable], tg-emoji;
named entities &lt; &gt; &amp; &quot; and numeric ones. Offsets and lengths are in UTF-16 code units. An
unknown tag, an unclosed or mismatched tag, or a bare `<`/`&` raises EntityParseError (Telegram answers
"Bad Request: can't parse entities: ..."). Leading and trailing whitespace is trimmed, as Telegram does.
"""

from __future__ import annotations

import re
from typing import Any

_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{0,31});")
_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+)"
_NAME = r"[a-zA-Z_:][-a-zA-Z0-9_:.]*"
_ATTR = re.compile(rf"({_NAME})(?:\s*=\s*({_VALUE}))?")
_START = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+{_NAME}(?:\s*=\s*{_VALUE})?)*)\s*/?>")
_TAG_NAME = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)")
_END = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_SIMPLE = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
}
_SUPPORTED = {*_SIMPLE, "span", "a", "code", "pre", "blockquote", "tg-emoji"}


class EntityParseError(ValueError):
    pass


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _unescape(value: str) -> str:
    return _ENTITY.sub(lambda m: _entity_char(m.group(1)) or m.group(0), value)


def _entity_char(body: str) -> str | None:
    if body.startswith(("#x", "#X")):
        code = int(body[2:], 16)
    elif body.startswith("#"):
        code = int(body[1:])
    else:
        return _NAMED.get(body)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    out: list[str] = []
    pos16 = 0  # UTF-16 length of the text produced so far
    stack: list[dict[str, Any]] = []  # open tags: name, attrs, offset
    entities: list[dict[str, Any]] = []
    i = 0

    def byte_offset(index: int) -> int:
        return len(source[:index].encode("utf-8"))

    while i < len(source):
        ch = source[i]
        if ch == "&":
            m = _ENTITY.match(source, i)
            char = _entity_char(m.group(1)) if m else None
            if char is None:
                raise EntityParseError(
                    f'Unsupported HTML entity or a bare "&" at byte offset {byte_offset(i)} (write &amp;)'
                )
            out.append(char)
            pos16 += utf16_len(char)
            i = m.end()
        elif ch == "<" and source.startswith("</", i):
            m = _END.match(source, i)
            if m is None:
                raise EntityParseError(f"Unclosed end tag at byte offset {byte_offset(i)}")
            name = m.group(1).lower()
            if not stack:
                raise EntityParseError(f'Unexpected end tag "</{name}>" at byte offset {byte_offset(i)}')
            top = stack.pop()
            if top["name"] != name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset(i)}, expected "</{top["name"]}>", '
                    f'found "</{name}>"'
                )
            entity = _close(top, pos16 - top["offset"], stack)
            if entity is not None and entity["length"] > 0:
                entities.append(entity)
            i = m.end()
        elif ch == "<":
            m = _START.match(source, i)
            named = _TAG_NAME.match(source, i)
            name = named.group(1).lower() if named else ""
            if named and name not in _SUPPORTED:
                raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
            if m is None:
                raise EntityParseError(f'Unclosed start tag or a bare "<" at byte offset {byte_offset(i)}')
            attrs = {a.lower(): _unescape((v or "").strip("\"'")) for a, v in _ATTR.findall(m.group(2))}
            if name == "span" and attrs.get("class") != "tg-spoiler":
                raise EntityParseError(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {byte_offset(i)}'
                )
            if name == "tg-emoji" and not attrs.get("emoji-id"):
                raise EntityParseError(
                    f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {byte_offset(i)}'
                )
            stack.append({"name": name, "attrs": attrs, "offset": pos16})
            i = m.end()
        else:
            out.append(ch)
            pos16 += utf16_len(ch)
            i += 1
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1]["name"]}"')
    return trim("".join(out), entities)


def _close(tag: dict[str, Any], length: int, stack: list[dict[str, Any]]) -> dict[str, Any] | None:
    name, attrs, offset = tag["name"], tag["attrs"], tag["offset"]
    base = {"offset": offset, "length": length}
    if name in _SIMPLE:
        return {"type": _SIMPLE[name], **base}
    if name == "span":
        return {"type": "spoiler", **base}
    if name == "a":
        href = attrs.get("href")
        return {"type": "text_link", **base, "url": href} if href else None
    if name == "code":
        if stack and stack[-1]["name"] == "pre":
            cls = attrs.get("class", "")
            if cls.startswith("language-"):
                stack[-1]["attrs"]["language"] = cls.removeprefix("language-")
            return None
        return {"type": "code", **base}
    if name == "pre":
        language = attrs.get("language")
        return {"type": "pre", **base, **({"language": language} if language else {})}
    if name == "blockquote":
        kind = "expandable_blockquote" if "expandable" in attrs else "blockquote"
        return {"type": kind, **base}
    if name == "tg-emoji":
        return {"type": "custom_emoji", **base, "custom_emoji_id": attrs["emoji-id"]}
    return None


def trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace like Telegram, moving and clipping entities; sort them."""
    stripped = text.strip()
    if not stripped:
        return "", []
    left = utf16_len(text[: len(text) - len(text.lstrip())])
    end = left + utf16_len(stripped)
    kept = []
    for e in entities:
        start, stop = max(e["offset"], left), min(e["offset"] + e["length"], end)
        if stop > start:
            kept.append({**e, "offset": start - left, "length": stop - start})
    kept.sort(key=lambda e: (e["offset"], -e["length"]))
    return stripped, kept
