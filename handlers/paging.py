"""Lists that page in place: a list's lines are cut into pages that fit Telegram (at most PER_PAGE lines
and 4096 characters), shown with "Page 2/5" and ‹ › buttons. A button carries only "pg:<list>:<page>"
(a few bytes); the owner of the list reads it from the database again on every press and the message
is edited, so a stale page shows current data."""

from __future__ import annotations

from dataclasses import dataclass

from telegram import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from handlers.context import AppContext
from handlers.replies import LIMIT, edit_text, units
from storage.core import inputs

PREFIX = "pg:"
PATTERN = rf"^{PREFIX}"
PER_PAGE = 20
MAX_PAGE = 1000  # a page number beyond this is forged
MAX_ROWS = PER_PAGE * 50  # rows a list reads (50 pages)


@dataclass(frozen=True)
class Listing:
    """What a list shows now: HTML lines under a title (may be empty); `empty` when there are none."""

    lang: str
    title: str
    lines: list[str]
    empty: str


def parse(data: str) -> tuple[str, int] | None:
    """("cb", 2) from "pg:cb:2"; None for anything else (forged or from an older version)."""
    name, _, raw = data.removeprefix(PREFIX).partition(":")
    page = inputs.int_or_none(raw, low=1, high=MAX_PAGE)
    if not data.startswith(PREFIX) or not name or page is None:
        return None
    return name, page


def pages(listing: Listing, room: int) -> list[list[str]]:
    """The lines in pages of at most PER_PAGE lines and `room` units (a longer line gets a page alone)."""
    result: list[list[str]] = []
    used = 0
    for line in listing.lines:
        size = units(line) + 1
        if not result or len(result[-1]) >= PER_PAGE or used + size > room:
            result.append([])
            used = 0
        result[-1].append(line)
        used += size
    return result


def render(
    context: AppContext, name: str, listing: Listing, page: int
) -> tuple[str, InlineKeyboardMarkup | None]:
    """Page `page` (the last one when the list has shrunk), with its footer and buttons."""
    if not listing.lines:
        return listing.empty, None
    lang = listing.lang
    footer_room = units(context.t(lang, "common.page", page=MAX_PAGE, pages=MAX_PAGE))
    split = pages(listing, LIMIT - units(listing.title) - footer_room - 2)
    page = min(page, len(split))
    body = "\n".join(split[page - 1])
    text = f"{listing.title}\n{body}" if listing.title else body
    if len(split) == 1:
        return text, None
    buttons = []
    if page > 1:
        label = context.t(lang, "common.page_previous")
        buttons.append(InlineKeyboardButton(label, callback_data=f"{PREFIX}{name}:{page - 1}"))
    if page < len(split):
        label = context.t(lang, "common.page_next")
        buttons.append(InlineKeyboardButton(label, callback_data=f"{PREFIX}{name}:{page + 1}"))
    footer = context.t(lang, "common.page", page=page, pages=len(split))
    return f"{text}\n{footer}", InlineKeyboardMarkup([buttons])


async def reply(message: Message, context: AppContext, name: str, listing: Listing) -> None:
    """The first page, as a reply to the command."""
    text, markup = render(context, name, listing, 1)
    await message.reply_text(text, reply_markup=markup)


async def show(query: CallbackQuery, context: AppContext, name: str, listing: Listing, page: int) -> None:
    """Page `page` in place of the pressed one (quiet when that message is gone or unchanged); the
    caller has answered the press already (before reading the list)."""
    text, markup = render(context, name, listing, page)
    await edit_text(query.message, text, markup)
