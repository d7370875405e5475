"""Is a staff-written text HTML that Telegram's parse_mode=HTML accepts, and does it fit a message?

Checked when the text is stored (a campaign's message), so it is refused with a clear reason then,
not by Telegram at send time for every customer. The rules are the Bot API's "HTML style": the tags
below, properly nested and closed; `<`, `>` and `&` otherwise only as entities (&lt; &gt; &amp; &quot;
or numeric). The length Telegram limits is that of the text after parsing, in UTF-16 code units.
"""

from __future__ import annotations

import re

from storage.core.refusals import Refused

TAGS = frozenset(
    {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre"}
    | {"blockquote", "tg-emoji"}
)
_VALUE = r"(?:\"[^\"<>]*\"|'[^'<>]*'|[^\s\"'=<>`]+)"
_ATTRS = rf"((?:\s+[a-zA-Z_:][-a-zA-Z0-9_:.]*(?:\s*=\s*{_VALUE})?)*)"
_START = re.compile(rf"<([a-zA-Z][a-zA-Z0-9-]*){_ATTRS}\s*>")
_END = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ENTITY = re.compile(r"&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|lt|gt|amp|quot);")
MESSAGE_MAX = 4096  # a text message, after entity parsing (UTF-16 code units)


class HtmlRefused(Refused):
    """`code`: html.bad_tag (tag), html.unclosed (tag), html.mismatch (tag), html.bare (char),
    html.too_long (length, max)."""


def visible_length(text: str) -> int:
    """The parsed text's length in UTF-16 code units; HtmlRefused when Telegram would refuse it."""
    stack: list[str] = []
    length = 0
    at = 0
    while at < len(text):
        char = text[at]
        if char == "<":
            end, start = _END.match(text, at), _START.match(text, at)
            if end is not None:
                name = end[1].lower()
                if not stack or stack[-1] != name:
                    raise HtmlRefused("html.mismatch", tag=name)
                stack.pop()
                at = end.end()
            elif start is not None:
                name = start[1].lower()
                if name not in TAGS or (name == "span" and "tg-spoiler" not in start[2]):
                    raise HtmlRefused("html.bad_tag", tag=name[:20])
                stack.append(name)
                at = start.end()
            else:
                raise HtmlRefused("html.bare", char="<")
            continue
        if char == "&":
            entity = _ENTITY.match(text, at)
            if entity is None:
                raise HtmlRefused("html.bare", char="&")
            length += 1
            at = entity.end()
            continue
        if char == ">":
            raise HtmlRefused("html.bare", char=">")
        length += 2 if ord(char) > 0xFFFF else 1
        at += 1
    if stack:
        raise HtmlRefused("html.unclosed", tag=stack[-1])
    return length


def check(text: str, limit: int = MESSAGE_MAX) -> None:
    """HtmlRefused unless `text` parses and its visible text fits `limit`."""
    length = visible_length(text)
    if not text.strip():
        raise HtmlRefused("html.empty")
    if length > limit:
        raise HtmlRefused("html.too_long", length=length, max=limit)
