"""Feedback cards in the staff group: how a card reads and its Claim / Call back / Resolve buttons
(handlers.desk.actions), and its edit after every change. The customer side posts a card when a customer
sends /feedback or gives a detractor score (handlers.customer.to_staff: after the commit, its message id
recorded in a second transaction).

A customer's text always reaches staff whole: a card shows the first CARD_COMMENT characters and the whole
text follows in parts replying to it (handlers.replies.send_split).
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest

from handlers.common import display_name
from handlers.context import AppContext
from handlers.loyalty_text import local
from storage.care import feedback
from storage.care.feedback import Card
from storage.core.config import ComplaintConfig

log = logging.getLogger(__name__)

PREFIX = "fc:"
ACTIONS = ("claim", "followup", "resolve")
CATEGORY = "cat"  # "fc:cat:<id>:<category>": what the item is about (configured categories)
# Cards posted before the rename carry "fc:callback:<id>" and keep working.
OLD_ACTIONS = {"callback": "followup"}
CARD_COMMENT = 1000  # characters of the comment on the card (it is edited on every change: keep it short)


def staff_language(context: AppContext) -> str:
    """The desk speaks the staff group's language."""
    return context.config.default_language


def card_text(context: AppContext, card: Card) -> str:
    lang = staff_language(context)
    if card.kind == "detractor":
        headline = context.t(
            lang,
            f"feedback.card_{card.score_kind}",
            score=card.score,
            survey=card.survey_name if card.survey_name is not None else "—",
        )
    else:
        headline = context.t(lang, "feedback.card_feedback")
    lines = [
        context.t(lang, "feedback.card_title", id=card.id),
        headline,
        context.t(
            lang,
            "feedback.card_customer",
            name=display_name(card.first_name, card.last_name),
            username=f"@{card.username}" if card.username else "",
            customer_id=card.customer_id,
        ),
        context.t(lang, "feedback.card_comment", comment=card.comment or "—", budget=CARD_COMMENT),
    ]
    if card.level is not None:  # the most valuable customers' cards say so at once
        lines.insert(
            3, context.t(lang, "feedback.card_level", level=context.t(lang, f"insight.level.{card.level}"))
        )
    if card.claimed_by is not None:
        lines.append(context.t(lang, "feedback.card_claimed", name=card.claimed_by))
    if card.follow_up_id is not None and card.follow_up_due_at is not None:
        due = local(card.follow_up_due_at, context.config.staff_timezone)
        lines.append(context.t(lang, "feedback.card_followup", id=card.follow_up_id, due=due))
    if card.category:
        lines.append(
            context.t(lang, "feedback.card_category", category=_category(context, lang, card.category))
        )
    if card.status == "resolved":
        lines.append(context.t(lang, "feedback.card_resolved", name=card.resolved_by or ""))
        if card.resolution:
            lines.append(context.t(lang, "feedback.card_note", note=card.resolution))
    else:
        lines.append(context.t(lang, "feedback.card_reply_hint"))
    return "\n".join(lines)


DEFAULT_CATEGORIES = ComplaintConfig().categories  # named in the catalogs; others show as configured


def _category(context: AppContext, lang: str, category: str) -> str:
    return context.t(lang, f"feedback.category_{category}") if category in DEFAULT_CATEGORIES else category


def card_markup(context: AppContext, card: Card) -> InlineKeyboardMarkup | None:
    """Claim / Call back / Resolve while open; the categories until one is chosen (also once resolved)."""
    lang = staff_language(context)
    rows = []
    if card.status != "resolved":
        rows.append(
            [
                InlineKeyboardButton(
                    context.t(lang, f"feedback.{action}_button"), callback_data=f"{PREFIX}{action}:{card.id}"
                )
                for action in ACTIONS
            ]
        )
    if card.category is None:
        categories = context.config.complaints.categories
        rows += [
            [
                InlineKeyboardButton(
                    "🏷 " + _category(context, lang, c), callback_data=f"{PREFIX}{CATEGORY}:{card.id}:{c}"
                )
                for c in categories[start : start + 4]
            ]
            for start in range(0, len(categories), 4)
        ]
    return InlineKeyboardMarkup(rows) if rows else None


async def show_card(context: AppContext, item_id: int) -> None:
    """Edit an item's card to show the item as it is now: called after the change has committed, it
    reads the card read-only then (so the last edit shows at least its own change, whoever committed
    in between) and talks outside any transaction. Quiet when the item has no card or it is gone."""
    async with context.read_only() as session:
        item = await feedback.get(session, item_id)
        if item is None or item.card_chat_id is None or item.card_message_id is None:
            return
        card = await feedback.card(session, item_id)
    assert card is not None  # the item was just read
    text, markup = card_text(context, card), card_markup(context, card)
    await _edit_card(context, item_id, item.card_chat_id, item.card_message_id, text, markup)


async def _edit_card(
    context: AppContext,
    item_id: int,
    chat_id: int,
    message_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
) -> None:
    try:
        await context.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id, reply_markup=markup)
    except BadRequest as error:
        log.info("feedback card #%s not edited: %s", item_id, error)
