"""/find <query>: customer cards for staff."""

from __future__ import annotations

from telegram import Update

from handlers.authority import current_role
from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.replies import pack
from handlers.staff.cards import customer_card
from storage.care import customer_cards
from storage.people.staff import can_see_personal_data


async def find(update: Update, context: AppContext) -> None:
    message = update.effective_message
    lang = language_for(update, context)
    query = command_args(message)
    if not query:
        await message.reply_text(context.t(lang, "staff.find_usage"))
        return
    role = current_role(context)
    async with context.read_only() as session:  # a read: no write lock, nothing written
        found = await customer_cards.search(session, query, by_phone=can_see_personal_data(role))
    if not found:
        await message.reply_text(context.t(lang, "staff.find_none", query=query))
        return
    cards = [customer_card(context, lang, customer, role) for customer in found]
    for text in pack(cards, "\n\n"):  # many cards with long histories take several messages
        await message.reply_text(text)
