"""/setup <code> in a private chat: the first owner, from the code the bot printed in its log at start
(storage.people.setup decides, audits and limits attempts)."""

from __future__ import annotations

from telegram import Update

from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from storage.people import setup

CODE_MAX = 64  # a longer "code" is not one: refused as wrong without hashing a novel


async def command(update: Update, context: AppContext) -> None:
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    lang = language_for(update, context)
    code = command_args(message)
    if not code:
        await message.reply_text(context.t(lang, "setup.usage"))
        return
    name = display_name(user.first_name, user.last_name)
    async with context.unit_of_work() as session:
        outcome = await setup.claim(session, user.id, name, user.username, code[:CODE_MAX], context.now())
        context.after_commit(message.reply_text, context.t(lang, f"setup.{outcome}"))
