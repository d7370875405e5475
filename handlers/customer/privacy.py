"""/privacy: what is stored about the customer, a copy of it all (a JSON document), and erasure after a
confirmation (storage.privacy). Each button is a database row owned by the customer."""

from __future__ import annotations

import html
import json
from datetime import timedelta
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.constants import ChatAction

from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.replies import chat_action, edit_text
from storage import privacy
from storage.core import audit, buttons
from storage.core.models import Button
from storage.people import consent
from storage.people.models import Customer

EXPORT, ERASE, CONFIRM = "privacy/export", "privacy/erase", "privacy/confirm"
WITHDRAW, WITHDRAW_CONFIRM = "privacy/withdraw", "privacy/withdraw_confirm"
BUTTON_TTL = timedelta(days=1)


def _button(context: AppContext, lang: str, key: str, data: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(html.unescape(context.t(lang, key)), callback_data=data)


def summary(context: AppContext, lang: str, data: dict[str, Any]) -> str:
    """What is stored, as counts a person can read (the document has the rest)."""
    profile = data["profile"]
    yes, no = context.t(lang, "privacy.yes"), context.t(lang, "privacy.no")
    return context.t(
        lang,
        "privacy.summary",
        birthday=yes if profile["birthday"] else no,
        phone=yes if profile["phone"] else no,
        ledger=len(data["points"]["ledger"]),
        purchases=len(data["purchases"]),
        vouchers=len(data["vouchers"]),
        answers=len(data["survey_answers"]),
        feedback=len(data["feedback"]),
        follow_ups=len(data["follow_ups"]),
        messages=len(data["messages_sent"]),
    )


async def show(update: Update, context: AppContext) -> None:
    """/privacy"""
    message = update.effective_message
    async with context.unit_of_work() as session:  # writes the two buttons
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        data = await privacy.export(session, customer.id)
        assert data is not None  # joined_customer found them: not erased
        owned = {"user_id": customer.telegram_id, "now": context.now(), "ttl": BUTTON_TTL}
        export = await buttons.issue(session, EXPORT, {"customer": customer.id}, **owned)
        erase = await buttons.issue(session, ERASE, {"customer": customer.id}, **owned)
        withdraw = None
        if consent.is_current(customer):
            withdraw = await buttons.issue(session, WITHDRAW, {"customer": customer.id}, **owned)
    lang = customer.language
    rows = [
        [_button(context, lang, "privacy.export", export)],
        [_button(context, lang, "privacy.erase", erase)],
    ]
    if withdraw is not None:
        rows.append([_button(context, lang, "consent.withdraw", withdraw)])
    else:  # withdrawn, or an earlier notice: the way back in
        rows.append([_button(context, lang, "consent.give_again", consent.REVIEW)])
    text = context.t(lang, "privacy.title") + "\n" + summary(context, lang, data)
    text += "\n" + consent_line(context, customer)
    await message.reply_text(text, reply_markup=InlineKeyboardMarkup(rows))


def consent_line(context: AppContext, customer: Customer) -> str:
    lang, zone = customer.language, customer.timezone
    if customer.consent_withdrawn_at is not None:
        return context.t(lang, "consent.line_withdrawn", date=local(customer.consent_withdrawn_at, zone))
    if consent.is_current(customer):
        return context.t(lang, "consent.line_current", date=local(customer.consent_at, zone))
    return context.t(lang, "consent.line_outdated")


async def on_withdraw(update: Update, context: AppContext, button: Button) -> None:
    """✋ Withdraw consent: ask once more, with what it means (and what it does not)."""
    await _ask_again(
        update, context, WITHDRAW_CONFIRM, "consent.withdraw_confirm", "consent.withdraw_question"
    )


async def on_withdraw_confirm(update: Update, context: AppContext, button: Button) -> None:
    """✋ Yes, withdraw: recorded once (a second press changes nothing), audited by storage."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        await buttons.consume(session, button)
        await consent.withdraw(session, customer, context.now())
        lang = customer.language
    await query.answer()
    await edit_text(query.message, context.t(lang, "consent.withdrawn"), None)


async def on_export(update: Update, context: AppContext, button: Button) -> None:
    """📦 Export: the whole record as a JSON document, read in one snapshot."""
    query = update.callback_query
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
        data = await privacy.export(session, customer.id) if customer is not None else None
    if customer is None or data is None:
        return
    await query.answer()
    await chat_action(context.bot, customer.telegram_id, ChatAction.UPLOAD_DOCUMENT)
    lang = customer.language
    document = json.dumps(data, ensure_ascii=False, indent=2).encode()
    await context.bot.send_document(
        customer.telegram_id,
        InputFile(document, filename=f"my-data-{customer.id}.json"),
        caption=context.t(lang, "privacy.export_caption"),
    )


async def on_erase(update: Update, context: AppContext, button: Button) -> None:
    """🗑 Delete: ask once more, with what it means."""
    await _ask_again(update, context, CONFIRM, "privacy.erase_confirm", "privacy.erase_question")


async def _ask_again(update: Update, context: AppContext, action: str, label: str, question: str) -> None:
    """The card asks `question` with one button (`label`) that does `action`, for this customer only."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        confirm = await buttons.issue(
            session,
            action,
            {"customer": customer.id},
            user_id=customer.telegram_id,
            now=context.now(),
            ttl=BUTTON_TTL,
        )
    lang = customer.language
    await query.answer()
    keyboard = InlineKeyboardMarkup([[_button(context, lang, label, confirm)]])
    await edit_text(query.message, context.t(lang, question), keyboard)


async def on_confirm(update: Update, context: AppContext, button: Button) -> None:
    """✅ Yes, delete: erase once (a second press finds nobody), then say what happened."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:  # erased already (a double press): joined_customer answers "join first"
            return
        lang = customer.language
        await buttons.consume(session, button)
        erased = await privacy.erase(session, customer.id, context.now())
        await audit.record(
            session,
            actor_id=update.effective_user.id,
            chat_id=query.message.chat.id if query.message else None,
            action="erase",
            target=str(customer.id),
            detail={"by": "customer", "vouchers_cancelled": erased.vouchers_cancelled if erased else 0},
        )
    await query.answer()
    await edit_text(query.message, context.t(lang, "privacy.erased"), None)
