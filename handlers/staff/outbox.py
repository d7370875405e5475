"""/outbox: how far the sender is with what is queued (large waves: queued, sent, failed, ETA)."""

from __future__ import annotations

from datetime import timedelta

from telegram import Update

from handlers.common import language_for
from handlers.context import AppContext
from storage.people import outbox


async def progress(update: Update, context: AppContext) -> None:
    lang = language_for(update, context)
    async with context.read_only() as session:
        p = await outbox.progress(session, context.now())
    eta = timedelta(seconds=round(p.eta_seconds(context.config.sender.rate_per_second)))
    await update.effective_message.reply_text(
        context.t(
            lang,
            "staff.outbox_progress",
            due=p.queued_due,
            later=p.queued_later,
            paused=p.paused,
            sending=p.sending,
            sent_hour=p.sent_last_hour,
            sent_minute=p.sent_last_minute,
            failed=p.failed_last_day,
            skipped=p.skipped_last_day,
            eta=str(eta),
        )
    )
