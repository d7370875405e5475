"""/start, the privacy notice with Accept / Decline, and /help."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from handlers.common import joined_customer, language_for
from handlers.context import AppContext
from handlers.customer import profile
from handlers.replies import edit_text
from storage.core import inputs
from storage.loyalty import referrals
from storage.people import consent, customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer

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
    if customer is not None and consent.is_current(customer):
        await message.reply_text(context.t(lang, "onboarding.welcome_back", name=customer.first_name))
        return
    if customer is not None:  # withdrawn, or an earlier notice: the current one, to accept again
        await message.reply_text(notice_again(context, customer), reply_markup=renew_keyboard(context, lang))
        return
    payload = context.args[0] if context.args else ""
    await message.reply_text(
        context.t(lang, "onboarding.welcome", name=user.first_name)
        + "\n\n"
        + context.t(lang, "onboarding.privacy"),
        reply_markup=consent_keyboard(context, lang, payload),
    )


def notice_again(context: AppContext, customer: Customer) -> str:
    """The current notice, headed by why it is shown to someone who joined before."""
    lang = customer.language
    if customer.consent_withdrawn_at is not None:
        head = context.t(lang, "consent.withdrawn_head", name=customer.first_name)
    else:
        head = context.t(lang, "consent.changed_head", name=customer.first_name)
    return head + "\n\n" + context.t(lang, "onboarding.privacy")


def renew_keyboard(context: AppContext, lang: str) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(context.t(lang, "onboarding.accept"), callback_data=consent.RENEW)]]
    )


async def _on_renewal(update: Update, context: AppContext) -> None:
    """ "📄 Read the notice" under the message saying it changed (the notice, with Accept), or that
    Accept: the customer's consent made current, audited."""
    query = update.callback_query
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        lang = customer.language
        if query.data == consent.REVIEW:
            context.after_commit(query.answer)
            context.after_commit(
                edit_text, query.message, notice_again(context, customer), renew_keyboard(context, lang)
            )
            return
        if not await consent.accept(session, customer, context.now()):
            context.after_commit(query.answer, context.t(lang, "consent.already"))
            context.after_commit(edit_text, query.message, context.t(lang, "consent.already"), None)
            return
    await query.answer()
    await edit_text(query.message, context.t(lang, "consent.renewed", name=customer.first_name), None)


async def on_consent(update: Update, context: AppContext) -> None:
    query = update.callback_query
    if query.data in (consent.REVIEW, consent.RENEW):
        await _on_renewal(update, context)
        return
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
