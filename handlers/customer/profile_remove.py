"""Removing a phone or a birthday from /profile: "🗑 Birthday" on the card asks on the card itself
(Remove / Keep it), Remove forgets it (storage.people.customers.remove_*) and the card shows what is
left, edited in place. The customer's own data: no staff, no audit (as for setting it)."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.customer import profile
from handlers.replies import edit_text
from storage.people import customers, preferences

FIELDS = ("birthday", "phone")


async def on_button(update: Update, context: AppContext) -> None:
    """profile:rm:<field> (ask), profile:rm!:<field> (remove), profile:card (keep: the card again)."""
    query = update.callback_query
    data = query.data or ""
    sure = data.startswith(profile.REMOVE_SURE)
    field = data.removeprefix(profile.REMOVE_SURE if sure else profile.REMOVE)
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        lang = customer.language
        if data != profile.CARD and field not in FIELDS:  # forged
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            return
        removed = False
        if sure:
            remove = customers.remove_phone if field == "phone" else customers.remove_birthday
            removed = await remove(session, customer)
        chosen = await preferences.of_customer(session, customer.id)
    if data == profile.CARD or sure:
        note = context.t(lang, f"profile.removed_{field}") if removed else None
        await query.answer(note)
        card = profile.card_text(context, customer, chosen)
        await edit_text(query.message, card, profile.card_keyboard(context, customer, chosen))
        return
    await query.answer()
    question = context.t(lang, f"profile.remove_{field}_question")
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t(lang, "profile.remove_yes"), callback_data=f"{profile.REMOVE_SURE}{field}"
                ),
                InlineKeyboardButton(context.t(lang, "profile.remove_keep"), callback_data=profile.CARD),
            ]
        ]
    )
    await edit_text(query.message, profile.card_text(context, customer, chosen) + "\n\n" + question, keyboard)
