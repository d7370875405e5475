"""Routing a pressed database-backed button (callback_data "b:<token>") to the capability that
issued it, by the button's action; a stale or forged button gets a clear answer, never an exception."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import Update

from handlers.common import language_for
from handlers.context import AppContext
from storage import buttons, customers
from storage.buttons import ButtonRefused
from storage.models import Button

ButtonHandler = Callable[[Update, AppContext, Button], Awaitable[None]]
PATTERN = rf"^{buttons.PREFIX}"


class ButtonRouter:
    """Maps a button action ("rewards/confirm") to its handler; the handler opens its own unit of work."""

    def __init__(self, actions: Mapping[str, ButtonHandler]) -> None:
        self.actions = dict(actions)

    async def __call__(self, update: Update, context: AppContext) -> None:
        query = update.callback_query
        if query is None:
            return
        try:
            async with context.unit_of_work() as session:
                button = await buttons.resolve(session, query.data or "", query.from_user.id, context.now())
                customer = await customers.get(session, query.from_user.id)
        except ButtonRefused as refused:
            await query.answer(context.t(language_for(update, context), refused.code), show_alert=True)
            return
        handler = self.actions.get(button.action)
        if handler is None:  # an action from an older version
            await query.answer(
                context.t(language_for(update, context, customer), "button.stale"), show_alert=True
            )
            return
        await handler(update, context, button)
