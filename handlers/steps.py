"""Routing a person's next message to the step the bot is waiting for (kept in the database). Each
step declares who may answer it (handlers.authority), checked before its handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ReplyKeyboardRemove, Update

from handlers.authority import Route, admit
from handlers.common import is_private, language_for
from handlers.context import AppContext
from storage.core import conversations
from storage.core.models import Conversation
from storage.people import customers

StepHandler = Callable[[Update, AppContext, AsyncSession, Conversation], Awaitable[None]]


class StepRouter:
    """Maps a conversation step to the capability that handles its input.

    Steps are named "area/step" ("profile/birthday"), so they never look like a text key. The pending
    step is looked up read-only: a message when nothing is pending (the common case: a customer chatting)
    takes no write lock and writes nothing. A write unit of work opens only for a step to run (or a
    stale one to forget), and the step handler runs inside it: it talks through context.after_commit.
    """

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)

    async def __call__(self, update: Update, context: AppContext) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        async with context.read_only() as session:
            pending = await conversations.current(session, chat.id, user.id)
            step = pending.step if pending is not None else None
            route = self.routes.get(step) if step is not None else None
            customer = await customers.get(session, user.id) if route is None and is_private(update) else None
        if step is None or route is None:
            if step is not None:  # a step from an older version: forget it rather than trap the user
                async with context.unit_of_work() as session:
                    await conversations.clear(session, chat.id, user.id)
            if is_private(update):
                text = context.t(language_for(update, context, customer), "common.unknown_input")
                await message.reply_text(text)
            return
        # Who may answer is checked outside any transaction (a staff step asks Telegram about membership).
        if not await admit(update, context, route.access, step):
            return
        async with context.unit_of_work() as session:
            pending = await conversations.current(session, chat.id, user.id)  # still the same step?
            if pending is not None and self.routes.get(pending.step) is route:
                await _run(route, update, context, session, pending)


async def _run(
    route: Route, update: Update, context: AppContext, session: AsyncSession, pending: Conversation
) -> None:
    handler: StepHandler = route.handler
    await handler(update, context, session, pending)


async def cancel(update: Update, context: AppContext) -> None:
    """/cancel in a private chat: stop whatever the bot is waiting for (the Telegram convention)."""
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    async with context.read_only() as session:  # the write lock only when there is something to stop
        pending = await conversations.current(session, chat.id, user.id)
        customer = await customers.get(session, user.id)
    if pending is not None:
        async with context.unit_of_work() as session:
            await conversations.clear(session, chat.id, user.id)
    key = "common.cancelled" if pending is not None else "common.nothing_to_cancel"
    await message.reply_text(
        context.t(language_for(update, context, customer), key), reply_markup=ReplyKeyboardRemove()
    )
