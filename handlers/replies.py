"""Messages that fit Telegram: long texts split into parts (nothing a customer wrote is dropped), lists
packed into messages, and edits of a pressed button's message that stay quiet when the message is gone,
inaccessible or unchanged."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import (
    Bot,
    CallbackQuery,
    InlineKeyboardMarkup,
    MaybeInaccessibleMessage,
    Message,
    ReplyParameters,
)
from telegram.constants import ChatAction
from telegram.error import BadRequest, TelegramError

log = logging.getLogger(__name__)

LIMIT = 4096  # Telegram's text limit, in UTF-16 code units after entity parsing
# BadRequests that mean "there is nothing to edit (any more)", not a bug (Telegram's descriptions).
QUIET = (
    "message to edit not found",
    "message is not modified",
    "message can't be edited",
    "message_id_invalid",
)

# (part, its number from 1, how many parts) → the message's HTML; the part goes in as a parameter
Render = Callable[[str, int, int], str]


def units(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def is_quiet(error: BaseException) -> bool:
    return isinstance(error, BadRequest) and any(q in error.message.lower() for q in QUIET)


def _cut_at(text: str, room: int) -> int:
    """Where to end a part of at most `room` units: before a line break, else before a space, else at
    the last whole character that fits. The break opens the next part, inside its message, because
    Telegram strips whitespace at the end of a message."""
    end, used = 0, 0
    for ch in text:
        used += units(ch)
        if used > room:
            break
        end += 1
    if end >= len(text):
        return end
    for sep in ("\n", " "):
        at = text.rfind(sep, 0, end)
        if at > 0 and at >= end // 2:  # in the second half, or the part would be needlessly short
            return at
    return max(end, 1)


def split_text(text: str, first_room: int, room: int | None = None) -> list[str]:
    """`text` in parts: the first of at most `first_room` units, the others of at most `room`; joined
    they are `text` again."""
    parts: list[str] = []
    rest = text
    while rest:
        end = _cut_at(rest, first_room if not parts else room or first_room)
        parts.append(rest[:end])
        rest = rest[end:]
    return parts or [""]


def pack(blocks: list[str], separator: str = "\n", limit: int = LIMIT) -> list[str]:
    """Blocks of HTML joined into as few messages as fit `limit` (HTML length bounds the visible one);
    a block is never split, so an entity stays whole."""
    messages: list[str] = []
    for block in blocks:
        if messages and units(messages[-1]) + units(separator) + units(block) <= limit:
            messages[-1] += separator + block
        else:
            messages.append(block)
    return messages


async def send_split(
    bot: Bot,
    chat_id: int,
    text: str,
    first: Render,
    rest: Render | None = None,
    *,
    reply_to: int | None = None,
    **kwargs: Any,
) -> list[Message]:
    """Send `text` whole, in as many messages as it takes: `first` renders the first part, `rest` (or
    `first`) the others; `reply_to` makes every part a reply to that message; `kwargs` go with the first."""
    rest = rest or first
    # Rendering an empty part measures the frame; its HTML length bounds what Telegram counts.
    first_room = LIMIT - units(first("", 99, 99))
    room = LIMIT - units(rest("", 99, 99))
    parts = split_text(text, first_room, room)
    sent: list[Message] = []
    for number, part in enumerate(parts, start=1):
        render = first if number == 1 else rest
        extra = kwargs if number == 1 else {}
        sent.append(
            await bot.send_message(
                chat_id,
                render(part, number, len(parts)),
                reply_parameters=_reply(reply_to),
                **extra,
            )
        )
    return sent


def _reply(message_id: int | None) -> ReplyParameters | None:
    return None if message_id is None else ReplyParameters(message_id, allow_sending_without_reply=True)


async def edit_text(
    message: MaybeInaccessibleMessage | None, text: str, reply_markup: InlineKeyboardMarkup | None = None
) -> bool:
    """Edit a bot message's text; False (logged) when it is gone, can't be edited, or already shows this.
    By chat and id, so a message the bot can no longer read (inaccessible) is still tried."""
    if message is None:
        return False
    edit = message.get_bot().edit_message_text(
        text, chat_id=message.chat.id, message_id=message.message_id, reply_markup=reply_markup
    )
    return await _quietly(edit, message)


async def edit_markup(
    message: MaybeInaccessibleMessage | None, reply_markup: InlineKeyboardMarkup | None
) -> bool:
    """Change (or with None remove) a bot message's buttons; quiet as edit_text."""
    if message is None:
        return False
    edit = message.get_bot().edit_message_reply_markup(
        chat_id=message.chat.id, message_id=message.message_id, reply_markup=reply_markup
    )
    return await _quietly(edit, message)


async def _quietly(edit: Awaitable[object], message: MaybeInaccessibleMessage) -> bool:
    """Await an edit; a BadRequest that means "nothing (left) to edit" is logged and gives False."""
    try:
        await edit
    except BadRequest as error:
        if not is_quiet(error):
            raise
        log.info("message %s in chat %s not edited: %s", message.message_id, message.chat.id, error)
        return False
    return True


async def answer_in_chat(query: CallbackQuery, text: str, **kwargs: Any) -> Message:
    """A new message where the button was pressed: a reply to its message when that is accessible,
    else a plain message in the same chat (an inaccessible message still names its chat; python-telegram-bot
    gives it as an InaccessibleMessage, or as a Message dated 0 inside a callback query)."""
    if isinstance(query.message, Message) and query.message.is_accessible:
        return await query.message.reply_text(text, **kwargs)
    chat_id = query.message.chat.id if query.message is not None else query.from_user.id
    return await query.get_bot().send_message(chat_id, text, **kwargs)


async def chat_action(bot: Bot, chat_id: int, action: ChatAction) -> None:
    """Show "typing…", "sending a photo…" while something slow is made. Telegram shows it for up to
    5 s or until the next message; it only decorates the wait, so a failure is logged, never raised."""
    try:
        await bot.send_chat_action(chat_id, action)
    except TelegramError as error:
        log.info("chat action %s in chat %s not shown: %s", action, chat_id, error)
