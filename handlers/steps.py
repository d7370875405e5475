"""Routing a person's next message to the step the bot is waiting for (kept in the database)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ReplyKeyboardRemove, Update

from handlers.common import is_private, language_for
from handlers.context import AppContext
from storage import conversations, customers
from storage.models import Conversation

StepHandler = Callable[[Update, AppContext, AsyncSession, Conversation], Awaitable[None]]


class StepRouter:
    """Maps a conversation step to the capability that handles its input.

    Steps are named "area/step" ("profile/birthday"), so they never look like a text key.
    """

    def __init__(self, steps: Mapping[str, StepHandler]) -> None:
        self.steps = dict(steps)

    async def __call__(self, update: Update, context: AppContext) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        async with context.unit_of_work() as session:
            pending = await conversations.current(session, chat.id, user.id)
            handler = self.steps.get(pending.step) if pending else None
            if handler is not None and pending is not None:
                await handler(update, context, session, pending)
                return
            if pending is not None:  # a step from an older version: forget it rather than trap the user
                await conversations.clear(session, chat.id, user.id)
            if is_private(update):
                customer = await customers.get(session, user.id)
                await message.reply_text(
                    context.t(language_for(update, context, customer), "common.unknown_input")
                )


async def cancel(update: Update, context: AppContext) -> None:
    """/cancel in a private chat: stop whatever the bot is waiting for (the Telegram convention)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    async with context.unit_of_work() as session:
        pending = await conversations.current(session, chat.id, user.id)
        customer = await customers.get(session, user.id)
        if pending is not None:
            await conversations.clear(session, chat.id, user.id)
    key = "common.cancelled" if pending is not None else "common.nothing_to_cancel"
    await message.reply_text(
        context.t(language_for(update, context, customer), key), reply_markup=ReplyKeyboardRemove()
    )
