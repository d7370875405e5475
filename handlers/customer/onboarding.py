"""/start, the privacy notice with Accept / Decline, and /help."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import language_for
from handlers.context import AppContext
from handlers.customer import profile
from handlers.replies import edit_text
from storage.core import inputs
from storage.loyalty import referrals
from storage.people import customers
from storage.people.customers import TelegramProfile

ACCEPT, DECLINE = "consent:yes", "consent:no"


def consent_keyboard(context: AppContext, lang: str, start_payload: str) -> InlineKeyboardMarkup:
    # The /start payload (a referral code) rides on the Accept button: nothing is stored before consent.
    # Anything else is dropped, so the button's data stays short and valid.
    payload = referrals.plausible_payload(start_payload)
    accept = f"{ACCEPT}:{payload}" if payload else ACCEPT
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t(lang, "onboarding.accept"), callback_data=inputs.fit_bytes(accept)
                ),
                InlineKeyboardButton(context.t(lang, "onboarding.decline"), callback_data=DECLINE),
            ]
        ]
    )


async def start(update: Update, context: AppContext) -> None:
    """/start [payload]"""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.read_only() as session:
        customer = await customers.get(session, user.id)
    lang = language_for(update, context, customer)
    if customer is not None:
        await message.reply_text(context.t(lang, "onboarding.welcome_back", name=customer.first_name))
        return
    payload = context.args[0] if context.args else ""
    await message.reply_text(
        context.t(lang, "onboarding.welcome", name=user.first_name)
        + "\n\n"
        + context.t(lang, "onboarding.privacy"),
        reply_markup=consent_keyboard(context, lang, payload),
    )


async def on_consent(update: Update, context: AppContext) -> None:
    query = update.callback_query
    user = query.from_user
    accepted = (query.data or "").startswith(ACCEPT)
    if not accepted:
        await query.answer()
        await edit_text(query.message, context.t(language_for(update, context), "onboarding.declined"))
        return
    async with context.unit_of_work() as session:
        existing = await customers.get(session, user.id)
        if existing is not None:  # a second press, or a duplicate update: already joined
            context.after_commit(query.answer, context.t(existing.language, "onboarding.already_joined"))
            return
        customer = await customers.join(
            session,
            TelegramProfile(user.id, user.first_name, user.last_name, user.username, user.language_code),
            context.config,
            context.now(),
        )
        # "consent:yes:<payload>": a referral link's code links the newcomer to whoever invited them.
        payload = (query.data or "")[len(ACCEPT) + 1 :]
        if payload:
            await referrals.link_on_join(session, customer, payload, context.now())
        # Said once the customer is stored: the button's spinner stops, the notice says welcome, and
        # the first profile question follows (profile.ask queues it).
        context.after_commit(query.answer)
        accepted_text = context.t(customer.language, "onboarding.accepted", name=customer.first_name)
        context.after_commit(edit_text, query.message, accepted_text)
        await profile.ask(context, session, customer, profile.FIELDS[0], onboarding=True)


async def help_command(update: Update, context: AppContext) -> None:
    """/help"""
    async with context.read_only() as session:
        customer = await customers.get(session, update.effective_user.id)
    await update.effective_message.reply_text(
        context.t(language_for(update, context, customer), "onboarding.help")
    )
