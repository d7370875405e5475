"""Live cards: of each kind (the profile card, the rewards catalog, /points, a step's prompt) the
newest message in a chat keeps working buttons. Sending a new card takes the buttons off the one
before it, and a press on an older card is answered "out of date" (and takes its buttons away).
Cards are edited in place as the person moves through them, so the message they look at stays the
newest. The newest card is noted in memory and written by the `seen` tick (storage.core.live_cards):
read paths stay read-only.

Everything here talks to Telegram outside any transaction; `retire`, called inside a caller's unit of
work, strips after its commit."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.error import BadRequest

from handlers.common import language_for
from handlers.context import AppContext
from handlers.replies import is_quiet
from storage.core import live_cards
from storage.people import customers

log = logging.getLogger(__name__)

PROFILE, REWARDS, POINTS, PROMPT = "profile", "rewards", "points", "prompt"


async def send(context: AppContext, chat_id: int, kind: str, text: str, **kwargs: Any) -> Message:
    """Send a card: the newest of its kind from now on (the previous one loses its buttons)."""
    sent = await context.bot.send_message(chat_id, text, **kwargs)
    await remember(context, chat_id, kind, sent.message_id)
    return sent


async def _newest(context: AppContext, session: AsyncSession | None, chat_id: int, kind: str) -> int | None:
    known = context.runtime.cards.get(chat_id, kind)
    if known is not None or session is None:
        return known
    return await live_cards.live_id(session, chat_id, kind)


async def remember(context: AppContext, chat_id: int, kind: str, message_id: int) -> None:
    """`message_id`, just sent, is the newest card of `kind`; the one before it loses its buttons."""
    old = context.runtime.cards.put(chat_id, kind, message_id)
    if old is None:  # not sent by this process since it started: the record says
        async with context.read_only() as session:
            old = await live_cards.live_id(session, chat_id, kind)
    if old is not None and old < message_id:
        await strip(context, chat_id, old)


async def retire(context: AppContext, session: AsyncSession, chat_id: int, kind: str) -> None:
    """Inside a unit of work: the step the newest card of `kind` asked for is over; that card loses
    its buttons once the unit commits."""
    old = await _newest(context, session, chat_id, kind)
    if old is not None:
        context.after_commit(strip, context, chat_id, old)


async def strip(context: AppContext, chat_id: int, message_id: int) -> None:
    """Take a message's inline buttons away; quiet when it is gone or has none left."""
    try:
        await context.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=None)
    except BadRequest as error:
        if not is_quiet(error):
            raise
        log.info("card %s in chat %s kept as it is: %s", message_id, chat_id, error)


Handler = Callable[..., Awaitable[None]]


def guarded(kind: str, handler: Handler) -> Handler:
    """A button handler that acts only on the newest card of `kind`: on an older one the press is
    answered "out of date" and the card loses its buttons. A command (no callback) passes through."""

    async def on_press(update: Update, context: AppContext, *args: Any) -> None:
        query = update.callback_query
        message = query.message if query is not None else None
        if query is None or message is None:
            await handler(update, context, *args)
            return
        chat_id, message_id = message.chat.id, message.message_id
        async with context.read_only() as session:
            newest = await _newest(context, session, chat_id, kind)
            stale = not live_cards.is_live(message_id, newest)
            customer = await customers.get(session, query.from_user.id) if stale else None
        if not stale:
            await handler(update, context, *args)
            return
        lang = language_for(update, context, customer)
        await query.answer(context.t(lang, "button.out_of_date"), show_alert=True)
        await strip(context, chat_id, message_id)

    on_press.__name__ = getattr(handler, "__name__", "on_press")
    on_press.__doc__ = handler.__doc__
    return on_press
