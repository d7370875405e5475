"""The time zone step of the profile (onboarding and /profile): a city, an abbreviation or an offset typed
(storage.people.timezones), or a location shared with Telegram's button. An IANA name or a location is
saved at once; anything else is confirmed with buttons ("Europe/Berlin · 14:05", other meanings, "choose
another"). A shared location is only looked up (offline) and never stored or logged."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, ReplyKeyboardRemove, Update

from handlers.common import joined_customer
from handlers.context import AppContext
from handlers.customer import profile
from handlers.replies import edit_markup
from storage.core import conversations
from storage.core.models import Conversation
from storage.people import customers, timezones
from storage.people.models import Customer
from storage.people.timezones import Resolution

STEP = "profile/timezone"
CHOOSE = "tz:"  # "tz:<IANA name>": this one; "tz:?": ask again
AGAIN = f"{CHOOSE}?"


def label(context: AppContext, zone: str, lang: str) -> str:
    """ "Europe/Berlin (柏林) — now 14:05"."""
    now = context.now()
    return context.t(
        lang,
        "profile.timezone_label",
        timezone=timezones.describe(zone, lang, now),
        time=timezones.local_time(zone, now),
    )


async def on_timezone(
    update: Update, context: AppContext, session: AsyncSession, pending: Conversation
) -> None:
    customer = await customers.get(session, update.effective_user.id) if update.effective_user else None
    message = update.effective_message
    if customer is None or message is None:
        return
    lang, onboarding = customer.language, pending.payload.get("onboarding", False)
    if message.location is not None:
        where = message.location  # used for this lookup only: never stored, never logged
        resolution = await asyncio.to_thread(timezones.from_location, where.latitude, where.longitude)
        if resolution is None:
            context.after_commit(message.reply_text, context.t(lang, "profile.timezone_no_place"))
            return
    elif profile.is_skip(message.text, context):
        context.after_commit(
            message.reply_text, context.t(lang, "profile.skipped"), reply_markup=ReplyKeyboardRemove()
        )
        await profile.after_field(context, session, customer, "timezone", onboarding)
        return
    else:
        text = message.text or ""
        # The first lookup of a process may still be reading the city data (bot.app warms it): a thread.
        found = await asyncio.to_thread(timezones.resolve, text, lang, context.now())
        if found is None:
            unknown = context.t(lang, "profile.timezone_unknown", text=text[:64])
            context.after_commit(message.reply_text, unknown)
            return
        resolution = found
    if resolution.certain:
        await save(context, session, customer, resolution.zones[0], onboarding)
    else:
        _confirm(context, customer, message.text or "", resolution)


def _confirm(context: AppContext, customer: Customer, text: str, resolution: Resolution) -> None:
    """Ask before saving: the likeliest zone, the other meanings, and "choose another"."""
    lang = customer.language
    first = resolution.choices[0]
    if resolution.kind == "offset":
        question = context.t(lang, "profile.timezone_offset", text=text[:64])
    elif len(resolution.choices) > 1:
        question = context.t(lang, "profile.timezone_which", text=text[:64], zone=label(context, first, lang))
    else:
        question = context.t(lang, "profile.timezone_confirm", zone=label(context, first, lang))
    rows = []
    for zone in resolution.choices:
        if zone == resolution.fixed:
            minutes = timezones.minutes_east(zone, context.now())
            shown = context.t(lang, "profile.timezone_fixed", offset=timezones.offset_label(minutes))
        else:
            shown = label(context, zone, lang)
        mark = "✅ " if zone == first and resolution.kind != "offset" else ""
        rows.append([InlineKeyboardButton(mark + shown, callback_data=CHOOSE + zone)])
    rows.append([InlineKeyboardButton(context.t(lang, "profile.timezone_other"), callback_data=AGAIN)])
    markup = InlineKeyboardMarkup(rows)
    context.after_commit(context.bot.send_message, customer.telegram_id, question, reply_markup=markup)


async def save(
    context: AppContext, session: AsyncSession, customer: Customer, zone: str, onboarding: bool
) -> None:
    await customers.set_timezone(session, customer, zone, now=context.now(), config=context.config.birthdays)
    lang = customer.language
    saved = context.t(lang, "profile.timezone_saved", zone=label(context, zone, lang))
    context.after_commit(
        context.bot.send_message, customer.telegram_id, saved, reply_markup=ReplyKeyboardRemove()
    )
    await profile.after_field(context, session, customer, "timezone", onboarding)


async def on_choose(update: Update, context: AppContext) -> None:
    """A button of the confirmation: "tz:<zone>" saves that zone, "tz:?" asks again. Only while the
    time zone is being asked: a button of a finished question is stale."""
    query = update.callback_query
    choice = (query.data or "").removeprefix(CHOOSE)
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        lang = customer.language
        pending = await conversations.current(session, customer.telegram_id, customer.telegram_id)
        valid = choice == "?" or timezones.is_valid_timezone(choice)
        if pending is None or pending.step != STEP or not valid:
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            context.after_commit(edit_markup, query.message, None)
            return
        context.after_commit(query.answer)
        context.after_commit(edit_markup, query.message, None)
        onboarding = pending.payload.get("onboarding", False)
        if choice == "?":
            await profile.ask(context, session, customer, "timezone", onboarding)
        else:
            await save(context, session, customer, choice, onboarding)


STEPS = {STEP: on_timezone}
