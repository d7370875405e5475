"""/erase <customer> for admins and owners: a customer's request to be forgotten, taken by staff (the
customer can do it themselves with /privacy). Asks for a confirmation by the same admin, then erases
(storage.privacy.erase) and audits."""

from __future__ import annotations

import html
from datetime import timedelta

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from handlers.replies import edit_text
from storage import privacy
from storage.core import audit, buttons
from storage.core.models import Button
from storage.people import customers

CONFIRM, CANCEL = "erase/confirm", "erase/cancel"
BUTTON_TTL = timedelta(hours=1)


async def command(update: Update, context: AppContext) -> None:
    """/erase <customer>"""
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    reference = command_args(message).strip()
    if not reference or " " in reference:
        await message.reply_text(context.t(lang, "privacy.staff_usage"))
        return
    async with context.unit_of_work() as session:
        customer = await customers.find(session, reference, by_phone=True)  # admins only
        if customer is None or customer.erased_at is not None:
            context.after_commit(
                message.reply_text, context.t(lang, "privacy.staff_unknown", reference=reference)
            )
            return
        owned = {"user_id": user.id, "now": context.now(), "ttl": BUTTON_TTL}
        confirm = await buttons.issue(session, CONFIRM, {"customer": customer.id}, **owned)
        cancel = await buttons.issue(session, CANCEL, {"customer": customer.id}, **owned)
    who = f"#{customer.id} {display_name(customer.first_name, customer.last_name)}"
    keyboard = InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    html.unescape(context.t(lang, "privacy.staff_confirm", customer=who)),
                    callback_data=confirm,
                ),
                InlineKeyboardButton(
                    html.unescape(context.t(lang, "privacy.staff_cancel")), callback_data=cancel
                ),
            ]
        ]
    )
    await message.reply_text(context.t(lang, "privacy.staff_question", customer=who), reply_markup=keyboard)


async def on_button(update: Update, context: AppContext, button: Button) -> None:
    """Erase or Cancel under the question; both are spent by the first press."""
    query, user = update.callback_query, update.effective_user
    lang = language_for(update, context)
    customer_id = int(button.payload["customer"])
    async with context.unit_of_work() as session:
        await buttons.consume(session, button)
        erased = None
        if button.action == CONFIRM:
            erased = await privacy.erase(session, customer_id, context.now())
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=query.message.chat.id if query.message else None,
                action="erase",
                outcome="ok" if erased else "already",
                target=str(customer_id),
                detail={"by": "staff", "vouchers_cancelled": erased.vouchers_cancelled if erased else 0},
            )
    await query.answer()
    if button.action == CANCEL:
        text = context.t(lang, "privacy.staff_cancelled")
    elif erased is None:
        text = context.t(lang, "privacy.staff_already", id=customer_id)
    else:
        text = context.t(lang, "privacy.staff_erased", id=customer_id, vouchers=erased.vouchers_cancelled)
    await edit_text(query.message, text, None)
