"""The global error handler: log the update id and the exception, answer politely, never leak. An edit of
a message that is gone or unchanged is no failure the user should hear about: logged without a traceback."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import TelegramError

from handlers.common import language_for
from handlers.context import AppContext
from handlers.replies import is_quiet

log = logging.getLogger(__name__)


async def on_error(update: object, context: AppContext) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if context.error is not None and is_quiet(context.error):
        log.warning("update %s: %s", update_id, context.error)
        if isinstance(update, Update) and update.callback_query is not None:
            try:  # stop the button's spinner; it may have been answered already
                await update.callback_query.answer()
            except TelegramError:
                pass
        return
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    text = context.t(language_for(update, context), "common.error")
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.effective_message is not None:
            await update.effective_message.reply_text(text)
    except TelegramError:
        log.warning("could not tell the user about the failure of update %s", update_id)
