"""The customer's "Solved? 👍 / 👎" under a resolved complaint (storage.care.complaints): 👍 thanks
them, 👎 reopens the item with new deadlines. The buttons are spent by the first press."""

from __future__ import annotations

from telegram import Update

from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.replies import answer_in_chat, edit_markup
from storage.care import complaints
from storage.care.complaints import VoteRefused

PATTERN = rf"^{complaints.VOTE_PREFIX}"


async def on_vote(update: Update, context: AppContext) -> None:
    query = update.callback_query
    parsed = complaints.parse_vote(query.data or "")
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        lang = customer.language
        try:
            if parsed is None:
                raise VoteRefused("button.stale")
            result = await complaints.vote(session, customer, *parsed, context.now())
        except VoteRefused as refused:  # nothing changed
            context.after_commit(query.answer, context.t(lang, refused.code), show_alert=True)
            return
    await query.answer()
    await edit_markup(query.message, None)
    await answer_in_chat(query, context.t(lang, f"complaints.vote_{result}"))
