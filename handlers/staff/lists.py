"""The ‹ › buttons of the staff group's lists (/callbacks, /staff, /reward list, /survey list,
/feedback): each press reads the list again; bot.app declares per list who may press."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.common import language_for
from handlers.context import AppContext
from handlers.paging import Listing
from handlers.staff import catalog, feedback, followups, roles, surveys

Source = Callable[[Update, AppContext, AsyncSession], Awaitable[Listing]]
LISTS: dict[str, Source] = {
    followups.LIST: followups.listing,
    roles.LIST: roles.listing,
    catalog.LIST: catalog.listing,
    surveys.LIST: surveys.listing,
    feedback.LIST: feedback.listing,
}
PATTERN = paging.PATTERN


def pattern(name: str) -> str:
    """The page buttons of one list (bot.app declares who may press them)."""
    return rf"^{paging.PREFIX}{name}:"


async def on_page(update: Update, context: AppContext) -> None:
    query = update.callback_query
    if query is None:
        return
    lang = language_for(update, context)
    parsed = paging.parse(query.data or "")
    source = LISTS.get(parsed[0]) if parsed is not None else None
    if parsed is None or source is None:
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    name, page = parsed
    await query.answer()  # whatever the list holds now: answered at once, before it is read
    async with context.read_only() as session:
        listing = await source(update, context, session)
    await paging.show(query, context, name, listing, page)
