"""Refreshes a customer's last-seen time, at most every few minutes per person and process."""

from __future__ import annotations

from telegram import Update

from handlers.common import is_private
from handlers.context import AppContext
from storage.people import customers

_MAX_REMEMBERED = 100_000


async def touch(update: Update, context: AppContext) -> None:
    user = update.effective_user
    if user is None or not is_private(update):
        return
    now = context.now()
    recent = context.bot_data.last_seen
    seen = recent.get(user.id)
    if seen is not None and now - seen < customers.LAST_SEEN_EVERY:
        return  # no write on every update
    if len(recent) >= _MAX_REMEMBERED:
        recent.clear()
    recent[user.id] = now
    async with context.unit_of_work() as session:
        await customers.touch(session, user.id, now)
