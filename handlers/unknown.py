"""A command nobody took: a short answer with the closest command the sender may use ("did you mean
/points?"), to a customer in their private chat and to a current staff member in the staff group.
Silent anywhere else (other groups, non-staff in the staff group) and for commands addressed to
another bot (/cmd@otherbot)."""

from __future__ import annotations

import difflib

from telegram import Update

from handlers.authority import leading_command, staff_role
from handlers.common import language_for
from handlers.context import AppContext

CUTOFF = 0.6  # difflib's ratio: "/pints" → /points, "/xyz" → nothing


def closest(typed: str, known: list[str]) -> str | None:
    found = difflib.get_close_matches(typed, known, n=1, cutoff=CUTOFF)
    return found[0] if found else None


async def answer(update: Update, context: AppContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None:
        return
    typed, addressee = leading_command(message.text or "", message.entities)
    if typed is None or (addressee and addressee.lower() != (context.bot.username or "").lower()):
        return
    book = context.bot_data.commands
    if chat.type == "private" and chat.id == user.id:
        known = book.customer
    else:
        role, _ = await staff_role(update, context)
        if role is None:
            return
        known = book.for_role(role)
    lang = language_for(update, context)
    match = closest(typed, known)
    if match is None:
        await message.reply_text(context.t(lang, "setup.unknown_command", typed=typed))
    else:
        await message.reply_text(context.t(lang, "setup.did_you_mean", typed=typed, command=f"/{match}"))
