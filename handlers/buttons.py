"""Routing a pressed database-backed button (callback_data "b:<token>") to the capability that
issued it, by the button's action; a stale or forged button gets a clear answer, never an exception.
Each action declares who may press it (handlers.authority), checked before its handler runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from telegram import Update

from handlers.authority import Route, admit
from handlers.common import language_for
from handlers.context import AppContext
from storage.core import buttons
from storage.core.buttons import ButtonRefused
from storage.core.models import Button
from storage.people import customers

ButtonHandler = Callable[[Update, AppContext, Button], Awaitable[None]]
PATTERN = rf"^{buttons.PREFIX}"


class ButtonRouter:
    """Maps a button action ("rewards/confirm") to its route; the handler opens its own unit of work."""

    def __init__(self, routes: Mapping[str, Route]) -> None:
        self.routes = dict(routes)

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
        route = self.routes.get(button.action)
        if route is None:  # an action from an older version
            await query.answer(
                context.t(language_for(update, context, customer), "button.stale"), show_alert=True
            )
            return
        if not await admit(update, context, route.access, button.action):  # admit has answered
            return
        handler: ButtonHandler = route.handler
        await handler(update, context, button)
