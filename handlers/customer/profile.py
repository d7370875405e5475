"""The customer's profile: asking for each field (during onboarding or from /profile), /profile itself,
and /language."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
    Update,
)

from handlers import live
from handlers.common import display_name, joined_customer, language_for
from handlers.context import AppContext
from handlers.customer import member_card
from handlers.loyalty_text import local
from handlers.replies import answer_in_chat, edit_markup, edit_text
from storage.core import conversations
from storage.core.config import LANGUAGES
from storage.core.models import Conversation
from storage.loyalty import imports
from storage.people import birthdays, customers, preferences, timezones
from storage.people.birthdays import BirthdayError, parse_birthday
from storage.people.models import Customer

FIELDS = ("birthday", "phone", "timezone")
SKIP = "step:skip"
# "profile:rm:<field>" asks, "profile:rm!:<field>" removes, "profile:card" shows the card again.
REMOVE, REMOVE_SURE, CARD = "profile:rm:", "profile:rm!:", "profile:card"


def _step(field: str) -> str:
    return f"profile/{field}"


async def ask(
    context: AppContext, session: AsyncSession, customer: Customer, field: str, onboarding: bool
) -> None:
    """Remember that we are waiting for one field, and ask for it once the unit of work has committed."""
    chat_id, lang = customer.telegram_id, customer.language
    await conversations.expect(session, chat_id, chat_id, _step(field), {"onboarding": onboarding})
    skip = InlineKeyboardMarkup([[InlineKeyboardButton(context.t(lang, "profile.skip"), callback_data=SKIP)]])
    # A prompt with a Skip button is the live prompt (an earlier one loses its Skip); the phone's
    # keyboard is a reply keyboard, which goes away on its own.
    if field == "birthday":
        text = context.t(lang, "profile.ask_birthday")
        context.after_commit(live.send, context, chat_id, live.PROMPT, text, reply_markup=skip)
    elif field == "phone":
        keyboard = ReplyKeyboardMarkup(
            [
                [KeyboardButton(context.t(lang, "profile.share_phone"), request_contact=True)],
                [KeyboardButton(context.t(lang, "profile.skip"))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        await live.retire(context, session, chat_id, live.PROMPT)
        context.after_commit(
            context.bot.send_message, chat_id, context.t(lang, "profile.ask_phone"), reply_markup=keyboard
        )
    else:  # typed, or Telegram's "share location" (looked up, never kept: handlers.customer.timezone)
        keyboard = ReplyKeyboardMarkup(
            [
                [KeyboardButton(context.t(lang, "profile.share_location"), request_location=True)],
                [KeyboardButton(context.t(lang, "profile.skip"))],
            ],
            resize_keyboard=True,
            one_time_keyboard=True,
        )
        text = context.t(lang, "profile.ask_timezone", current=customer.timezone)
        context.after_commit(context.bot.send_message, chat_id, text, reply_markup=keyboard)


async def after_field(
    context: AppContext, session: AsyncSession, customer: Customer, field: str, onboarding: bool
) -> None:
    """Move on: the next field while onboarding, else show the profile again (after the commit)."""
    if onboarding and field != FIELDS[-1]:
        await ask(context, session, customer, FIELDS[FIELDS.index(field) + 1], onboarding=True)
        return
    await conversations.clear(session, customer.telegram_id, customer.telegram_id)
    await live.retire(context, session, customer.telegram_id, live.PROMPT)
    if onboarding:
        context.after_commit(
            context.bot.send_message, customer.telegram_id, context.t(customer.language, "profile.completed")
        )
    else:
        chosen = await preferences.of_customer(session, customer.id)
        context.after_commit(send_card, context, customer, chosen)


async def _customer(session: AsyncSession, update: Update) -> Customer | None:
    return await customers.get(session, update.effective_user.id) if update.effective_user else None


async def on_birthday(
    update: Update, context: AppContext, session: AsyncSession, pending: Conversation
) -> None:
    customer = await _customer(session, update)
    message = update.effective_message
    if customer is None or message is None:
        return
    try:
        birthday = parse_birthday(message.text or "", context.now().date(), customer.language)
    except BirthdayError as error:
        context.after_commit(
            message.reply_text,
            context.t(customer.language, error.code)
            + "\n\n"
            + context.t(customer.language, "profile.ask_birthday"),
        )
        return
    await customers.set_birthday(
        session, customer, birthday, now=context.now(), config=context.config.birthdays
    )
    saved = context.t(
        customer.language,
        "profile.birthday_saved",
        birthday=birthday,
    )
    context.after_commit(message.reply_text, saved)
    await after_field(context, session, customer, "birthday", pending.payload.get("onboarding", False))


def is_skip(text: str | None, context: AppContext) -> bool:
    return (text or "").strip() in {context.t(lang, "profile.skip") for lang in LANGUAGES} | {"/skip"}


async def on_phone(update: Update, context: AppContext, session: AsyncSession, pending: Conversation) -> None:
    customer = await _customer(session, update)
    message = update.effective_message
    if customer is None or message is None:
        return
    onboarding = pending.payload.get("onboarding", False)
    lang = customer.language
    if message.contact is not None:
        if message.contact.user_id != customer.telegram_id:
            context.after_commit(message.reply_text, context.t(lang, "profile.phone_not_yours"))
            return
        # Telegram gives a contact's number in international form, sometimes without its "+".
        number = "+" + message.contact.phone_number.lstrip("+")
        await customers.set_phone(session, customer, number, context.config.default_region)
        # A member imported before they joined, with this phone: now linked, their purchases booked.
        await imports.link(session, customer, context.now(), context.config)
        context.after_commit(
            message.reply_text, context.t(lang, "profile.phone_saved"), reply_markup=ReplyKeyboardRemove()
        )
    elif is_skip(message.text, context):
        context.after_commit(
            message.reply_text, context.t(lang, "profile.skipped"), reply_markup=ReplyKeyboardRemove()
        )
    else:
        context.after_commit(message.reply_text, context.t(lang, "profile.phone_use_button"))
        return
    await after_field(context, session, customer, "phone", onboarding)


# The time zone's step is handlers.customer.timezone's (it confirms what it understood with buttons).
STEPS = {_step("birthday"): on_birthday, _step("phone"): on_phone}


async def on_skip(update: Update, context: AppContext) -> None:
    """The Skip button (or /skip): move past whichever profile field is being asked; everything it says
    is said after the commit."""
    query, user = update.callback_query, update.effective_user
    if user is None:
        return
    async with context.unit_of_work() as session:
        customer = await customers.get(session, user.id)
        pending = await conversations.current(session, user.id, user.id)
        lang = language_for(update, context, customer)
        field = pending.step.removeprefix("profile/") if pending else ""
        if customer is None or pending is None or field not in FIELDS:
            if query:
                context.after_commit(query.answer, context.t(lang, "profile.nothing_to_skip"))
            elif update.effective_message:
                context.after_commit(
                    update.effective_message.reply_text, context.t(lang, "profile.nothing_to_skip")
                )
            return
        if query:
            context.after_commit(query.answer)
            context.after_commit(edit_markup, query.message, None)
        if field in ("phone", "timezone"):  # take the share-contact or share-location keyboard away
            context.after_commit(
                context.bot.send_message,
                customer.telegram_id,
                context.t(lang, "profile.skipped"),
                reply_markup=ReplyKeyboardRemove(),
            )
        await after_field(context, session, customer, field, pending.payload.get("onboarding", False))


def _birthday_text(customer: Customer, lang: str, context: AppContext) -> str | birthdays.Birthday:
    if customer.birthday is None:
        return context.t(lang, "profile.not_set")
    return customer.birthday


def _on_off(context: AppContext, lang: str, enabled: bool) -> str:
    return context.t(lang, "preferences.on" if enabled else "preferences.off")


def card_text(context: AppContext, customer: Customer, chosen: dict[str, bool]) -> str:
    lang = customer.language
    wanted = "\n".join(
        context.t(
            lang,
            "preferences.line",
            kind=context.t(lang, f"preferences.kind_{kind}"),
            state=_on_off(context, lang, enabled),
        )
        for kind, enabled in chosen.items()
    )
    return (
        context.t(
            lang,
            "profile.card",
            name=display_name(customer.first_name, customer.last_name),
            username=f"@{customer.username}" if customer.username else context.t(lang, "profile.not_set"),
            language=context.t(lang, f"common.language_{customer.language}"),
            birthday=_birthday_text(customer, lang, context),
            phone=customer.phone or context.t(lang, "profile.not_set"),
            timezone=timezones.describe(customer.timezone, lang, context.now()),
            joined=local(customer.consent_at, customer.timezone),
            code=customer.member_code or context.t(lang, "profile.not_set"),
        )
        + "\n\n"
        + context.t(lang, "preferences.title")
        + "\n"
        + wanted
    )


def card_keyboard(context: AppContext, customer: Customer, chosen: dict[str, bool]) -> InlineKeyboardMarkup:
    lang = customer.language

    def button(field: str) -> InlineKeyboardButton:
        return InlineKeyboardButton(
            context.t(lang, f"profile.edit_{field}"), callback_data=f"profile:{field}"
        )

    def toggle(kind: str, enabled: bool) -> InlineKeyboardButton:
        label = context.t(lang, "preferences.toggle_off" if enabled else "preferences.toggle_on")
        return InlineKeyboardButton(
            label.format(kind=context.t(lang, f"preferences.kind_{kind}")),
            callback_data=preferences.toggle_data(kind, not enabled),
        )

    # What is set can be removed (handlers.customer.profile_remove asks first).
    removable = [f for f in ("birthday", "phone") if _is_set(customer, f)]
    remove = [
        InlineKeyboardButton(context.t(lang, f"profile.remove_{f}"), callback_data=f"{REMOVE}{f}")
        for f in removable
    ]
    return InlineKeyboardMarkup(
        [
            [button("birthday"), button("phone")],
            [button("timezone"), button("language")],
            *([remove] if remove else []),
            *([toggle(kind, enabled)] for kind, enabled in chosen.items()),
        ]
    )


def _is_set(customer: Customer, field: str) -> bool:
    return customer.phone is not None if field == "phone" else customer.birthday is not None


async def send_card(context: AppContext, customer: Customer, chosen: dict[str, bool]) -> None:
    """The card as a new message: the live profile card from now on (the previous one loses its buttons)."""
    await live.send(
        context,
        customer.telegram_id,
        live.PROFILE,
        card_text(context, customer, chosen),
        reply_markup=card_keyboard(context, customer, chosen),
    )


async def show(update: Update, context: AppContext) -> None:
    """/profile"""
    user = update.effective_user
    if user is None:
        return
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
        chosen = await preferences.of_customer(session, customer.id) if customer else {}
    if customer is not None:
        await send_card(context, customer, chosen)
        await member_card.send_qr(update.effective_message, context, customer)


async def on_preference(update: Update, context: AppContext) -> None:
    """A toggle on the profile card ("pf:<kind>:on|off"): the presser's own choice, then the card
    again, edited in place. Pressed twice, the second press changes nothing."""
    query = update.callback_query
    parsed = preferences.parse_toggle(query.data or "")
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        if parsed is None:
            context.after_commit(query.answer, context.t(customer.language, "button.stale"), show_alert=True)
            return
        kind, enabled = parsed
        await preferences.choose(session, customer.id, kind, enabled, context.now())
        chosen = await preferences.of_customer(session, customer.id)
    lang = customer.language
    await query.answer(
        context.t(
            lang,
            "preferences.changed",
            kind=context.t(lang, f"preferences.kind_{kind}"),
            state=_on_off(context, lang, enabled),
        )
    )
    await edit_text(
        query.message,
        card_text(context, customer, chosen),
        reply_markup=card_keyboard(context, customer, chosen),
    )


async def on_edit(update: Update, context: AppContext) -> None:
    """A button on the profile card: ask for that one field."""
    query = update.callback_query
    field = (query.data or "").removeprefix("profile:")
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        context.after_commit(query.answer)
        if field == "language":
            context.after_commit(
                answer_in_chat,
                query,
                context.t(customer.language, "profile.choose_language"),
                reply_markup=language_keyboard(context),
            )
        elif field in FIELDS:
            await ask(context, session, customer, field, onboarding=False)


def language_keyboard(context: AppContext) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(context.t(lang, f"common.language_{lang}"), callback_data=f"lang:{lang}")
                for lang in LANGUAGES
            ]
        ]
    )


async def choose_language(update: Update, context: AppContext) -> None:
    """/language"""
    async with context.read_only() as session:
        customer = await joined_customer(update, context, session)
    if customer is None:
        return
    await update.effective_message.reply_text(
        context.t(customer.language, "profile.choose_language"), reply_markup=language_keyboard(context)
    )


async def on_language(update: Update, context: AppContext) -> None:
    query = update.callback_query
    language = (query.data or "").removeprefix("lang:")
    async with context.unit_of_work() as session:
        customer = await customers.get(session, query.from_user.id)
        if customer is None or language not in LANGUAGES:
            join_first = context.t(language_for(update, context, customer), "common.join_first")
            context.after_commit(query.answer, join_first, show_alert=True)
            return
        await customers.set_language(session, customer, language)
        context.after_commit(query.answer)
        context.after_commit(edit_text, query.message, context.t(language, "profile.language_set"))
