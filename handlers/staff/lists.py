"""The ‹ › buttons of the staff group's lists (/callbacks, /staff, /reward list, /survey list,
/feedback, a customer's timeline): each press reads the list again; bot.app declares per list who may
press."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.common import language_for
from handlers.context import AppContext
from handlers.paging import Listing
from handlers.staff import catalog, feedback, find, followups, roles, surveys
from storage.core import inputs

Source = Callable[[Update, AppContext, AsyncSession], Awaitable[Listing]]
LISTS: dict[str, Source] = {
    followups.LIST: followups.listing,
    roles.LIST: roles.listing,
    catalog.LIST: catalog.listing,
    surveys.LIST: surveys.listing,
    feedback.LIST: feedback.listing,
}
# Lists of one thing, named "<prefix><id>" ("tl12": customer #12's timeline).
OF_ONE: dict[str, Callable[[int], Source]] = {find.TIMELINE: find.timeline_listing}
PATTERN = paging.PATTERN


def _source(name: str) -> Source | None:
    if name in LISTS:
        return LISTS[name]
    prefix = name.rstrip("0123456789")
    of_one = OF_ONE.get(prefix)
    key = inputs.int_or_none(name[len(prefix) :], low=1, high=inputs.MAX_ID)
    return of_one(key) if of_one is not None and key is not None else None


def pattern(name: str) -> str:
    """The page buttons of one list (bot.app declares who may press them)."""
    return rf"^{paging.PREFIX}{name}:"


async def on_page(update: Update, context: AppContext) -> None:
    query = update.callback_query
    if query is None:
        return
    lang = language_for(update, context)
    parsed = paging.parse(query.data or "")
    source = _source(parsed[0]) if parsed is not None else None
    if parsed is None or source is None:
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    name, page = parsed
    await query.answer()  # whatever the list holds now: answered at once, before it is read
    async with context.read_only() as session:
        listing = await source(update, context, session)
    await paging.show(query, context, name, listing, page)
