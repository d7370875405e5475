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

    Steps are named "area/step" ("profile/birthday"), so they never look like a text key.
    """

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)

    async def __call__(self, update: Update, context: AppContext) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        if message is None or user is None or chat is None:
            return
        async with context.unit_of_work() as session:
            pending = await conversations.current(session, chat.id, user.id)
            route = self.routes.get(pending.step) if pending else None
            if route is not None and pending is not None and route.access.kind != "staff":
                if await admit(update, context, route.access, pending.step):  # no network: a chat check
                    await _run(route, update, context, session, pending)
                return
            if route is None:
                await self._nothing_pending(update, context, session, pending)
                return
        # A staff step: membership is asked of Telegram outside any transaction, then the step runs.
        if not await admit(update, context, route.access, pending.step):
            return
        async with context.unit_of_work() as session:
            pending = await conversations.current(session, chat.id, user.id)
            if pending is not None and self.routes.get(pending.step) is route:
                await _run(route, update, context, session, pending)

    async def _nothing_pending(
        self, update: Update, context: AppContext, session: AsyncSession, pending: Conversation | None
    ) -> None:
        message, user, chat = update.effective_message, update.effective_user, update.effective_chat
        assert message is not None and user is not None and chat is not None
        if pending is not None:  # a step from an older version: forget it rather than trap the user
            await conversations.clear(session, chat.id, user.id)
        if is_private(update):
            customer = await customers.get(session, user.id)
            await message.reply_text(
                context.t(language_for(update, context, customer), "common.unknown_input")
            )


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
    async with context.unit_of_work() as session:
        pending = await conversations.current(session, chat.id, user.id)
        customer = await customers.get(session, user.id)
        if pending is not None:
            await conversations.clear(session, chat.id, user.id)
    key = "common.cancelled" if pending is not None else "common.nothing_to_cancel"
    await message.reply_text(
        context.t(language_for(update, context, customer), key), reply_markup=ReplyKeyboardRemove()
    )
