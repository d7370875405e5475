"""Last seen: noted in memory on every private update, written in one statement per flush (a tick and
shutdown), so no update waits for a write just because it arrived (a crash loses at most one tick of
last-seen times, which only say roughly when someone was around)."""

from __future__ import annotations

from telegram import Update

from handlers.common import is_private
from handlers.context import AppContext, Runtime
from storage.core import live_cards
from storage.people import customers


async def touch(update: Update, context: AppContext) -> None:
    user = update.effective_user
    if user is not None and is_private(update):
        context.runtime.seen.note(user.id, context.now())


async def flush(runtime: Runtime) -> None:
    """Last-seen times and the newest cards (handlers.live) noted since the last flush, in one transaction."""
    seen, cards = runtime.seen.take(), runtime.cards.take()
    if not seen and not cards:
        return
    try:
        async with runtime.sessions.begin() as session:
            await customers.record_seen(session, seen)
            await live_cards.record(session, cards, runtime.clock.now())
    except BaseException:
        runtime.seen.pending = {**seen, **runtime.seen.pending}  # kept for the next flush
        runtime.cards.pending = {**cards, **runtime.cards.pending}
        raise
