"""/find <query>: the 360° customer card for staff, and each customer's timeline paged in place."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.ext import ApplicationHandlerStop

from handlers import paging
from handlers.authority import current_role
from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.loyalty_text import local, signed
from handlers.paging import Listing
from handlers.replies import answer_in_chat, pack
from handlers.staff.cards import customer_card
from storage import overview
from storage.care import customer_cards
from storage.core import inputs
from storage.overview import Event
from storage.people import member_codes
from storage.people.staff import can_see_personal_data

TIMELINE = "tl"  # the timeline button "tl:<customer id>"; its pages are the list "tl<customer id>"
PATTERN = rf"^{TIMELINE}:[0-9]+$"
PAGES_PATTERN = rf"^{paging.PREFIX}{TIMELINE}[0-9]+:"
EVENT_TEXT = 200  # characters of a note, feedback or outcome on a timeline line


async def find(update: Update, context: AppContext) -> None:
    message = update.effective_message
    lang = language_for(update, context)
    query = command_args(message)
    if not query:
        await message.reply_text(context.t(lang, "staff.find_usage"))
        return
    await show_cards(message, context, lang, query, timeline=True)


async def open_member_link(update: Update, context: AppContext) -> None:
    """/start m_<code> from a staff member in their private chat (a member's QR code scanned with a
    phone camera): the customer's card there. The customer's own /start is not run after it."""
    message = update.effective_message
    lang = language_for(update, context)
    code = member_codes.from_start_payload(context.args[0] if context.args else "")
    if code is None:
        await message.reply_text(context.t(lang, "staff.find_none", query=" ".join(context.args or [])[:40]))
    else:
        # No timeline button: its presses are answered in the staff group only.
        await show_cards(message, context, lang, code, timeline=False)
    raise ApplicationHandlerStop


async def show_cards(message: Message, context: AppContext, lang: str, query: str, *, timeline: bool) -> None:
    role = current_role(context)
    async with context.read_only() as session:  # a read: no write lock, nothing written
        found = await customer_cards.search(
            session, query, by_phone=can_see_personal_data(role), region=context.config.default_region
        )
        figures = await overview.values(session, [c.id for c in found], context.now())
    if not found:
        await message.reply_text(context.t(lang, "staff.find_none", query=query))
        return
    cards = [customer_card(context, lang, customer, role, figures[customer.id]) for customer in found]
    texts = pack(cards, "\n\n")  # many cards with long histories take several messages
    for text in texts[:-1]:
        await message.reply_text(text)
    keyboard = None
    if len(found) == 1 and timeline:  # one customer: their whole timeline is a button away
        label = context.t(lang, "overview.timeline_button")
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton(label, callback_data=f"{TIMELINE}:{found[0].id}")]]
        )
    await message.reply_text(texts[-1], reply_markup=keyboard)


async def on_timeline(update: Update, context: AppContext) -> None:
    """The card's 🕘 Timeline button: page 1 of the customer's timeline as a new message."""
    query = update.callback_query
    lang = language_for(update, context)
    customer_id = inputs.int_or_none(
        (query.data or "").removeprefix(f"{TIMELINE}:"), low=1, high=inputs.MAX_ID
    )
    if customer_id is None:
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    await query.answer()
    async with context.read_only() as session:
        listing = await timeline_listing(customer_id)(update, context, session)
    text, keyboard = paging.render(context, f"{TIMELINE}{customer_id}", listing, 1)
    await answer_in_chat(query, text, reply_markup=keyboard)


def timeline_listing(customer_id: int) -> Callable[[Update, AppContext, AsyncSession], Awaitable[Listing]]:
    """The timeline of one customer as a paged list (handlers.staff.lists reads it on each press)."""

    async def source(update: Update, context: AppContext, session: AsyncSession) -> Listing:
        lang = language_for(update, context)
        events = await overview.timeline(session, customer_id)
        tz = context.config.staff_timezone
        return Listing(
            lang,
            context.t(lang, "overview.timeline_title", id=customer_id, count=len(events)),
            [_line(context, lang, event, tz) for event in events],
            context.t(lang, "overview.timeline_empty", id=customer_id),
        )

    return source


def _short(text: str | None) -> str:
    text = (text or "").strip()
    return text if len(text) <= EVENT_TEXT else text[: EVENT_TEXT - 1] + "…"


def _line(context: AppContext, lang: str, event: Event, timezone: str) -> str:
    date = local(event.at, timezone)
    area, _, detail = event.kind.partition(":")
    if area == "purchase":
        return context.t(
            lang, "overview.purchase", date=date, amount=f"{event.number:.2f}", note=_short(event.text)
        )
    if area == "points":
        points = signed(int(event.number or 0))
        kind = context.t(lang, f"points.kind_{detail}")
        return context.t(
            lang, "overview.points", date=date, points=points, kind=kind, note=_short(event.text)
        )
    if area == "score":
        return context.t(lang, "overview.score", date=date, kind=detail.upper(), score=int(event.number or 0))
    if area == "feedback":
        status = context.t(lang, f"overview.status_{detail}")
        return context.t(lang, "overview.feedback", date=date, status=status, text=_short(event.text))
    if area == "followup":
        status = context.t(lang, f"overview.status_{detail}")
        return context.t(lang, "overview.followup", date=date, status=status, text=_short(event.text))
    return context.t(lang, "overview.note", date=date, text=_short(event.text))
