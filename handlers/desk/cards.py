"""Feedback cards in the staff group: posted when a customer sends /feedback or gives a detractor
score (a direct consequence of their own action, so sent at once and its message id recorded), with
Claim / Call back / Resolve (handlers.desk.actions), edited on every change.

A customer's text always reaches staff whole: a card shows the first CARD_COMMENT characters and the whole
text follows in parts replying to it (handlers.replies.send_split).
"""

from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, TelegramError

from handlers.common import display_name
from handlers.context import AppContext
from handlers.replies import send_split
from storage.care import feedback
from storage.care.feedback import Card
from storage.care.models import FeedbackItem

log = logging.getLogger(__name__)

PREFIX = "fc:"
ACTIONS = ("claim", "followup", "resolve")
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
    if card.claimed_by is not None:
        lines.append(context.t(lang, "feedback.card_claimed", name=card.claimed_by))
    if card.follow_up_id is not None and card.follow_up_due_at is not None:
        due = card.follow_up_due_at.astimezone(ZoneInfo(context.config.staff_timezone)).strftime(
            "%Y-%m-%d %H:%M"
        )
        lines.append(context.t(lang, "feedback.card_followup", id=card.follow_up_id, due=due))
    if card.status == "resolved":
        lines.append(context.t(lang, "feedback.card_resolved", name=card.resolved_by or ""))
        if card.resolution:
            lines.append(context.t(lang, "feedback.card_note", note=card.resolution))
    else:
        lines.append(context.t(lang, "feedback.card_reply_hint"))
    return "\n".join(lines)


def card_markup(context: AppContext, card: Card) -> InlineKeyboardMarkup | None:
    if card.status == "resolved":
        return None
    lang = staff_language(context)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t(lang, f"feedback.{action}_button"), callback_data=f"{PREFIX}{action}:{card.id}"
                )
                for action in ACTIONS
            ]
        ]
    )


async def _rendered(
    context: AppContext, session: AsyncSession, item: FeedbackItem
) -> tuple[str, InlineKeyboardMarkup | None]:
    card = await feedback.card(session, item.id)
    assert card is not None  # the item is in this unit of work
    return card_text(context, card), card_markup(context, card)


async def post_card(context: AppContext, session: AsyncSession, item: FeedbackItem) -> bool:
    """Post the item's card, and the whole comment after it when the card shows only its beginning;
    False when the card could not be posted (the item stays open: /feedback in the group lists it)."""
    chat_id = context.config.staff_chat_id
    if chat_id is None:
        log.warning("feedback #%s has no staff group to go to (STAFF_CHAT_ID is not set)", item.id)
        return False
    text, markup = await _rendered(context, session, item)
    try:
        sent = await context.bot.send_message(chat_id, text, reply_markup=markup)
    except TelegramError as error:
        log.warning("could not post the card of feedback #%s: %s", item.id, error)
        return False
    await feedback.set_card(session, item, sent.chat_id, sent.message_id)
    comment, lang = item.comment or "", staff_language(context)
    if len(comment) > CARD_COMMENT:
        try:
            await send_split(
                context.bot,
                sent.chat_id,
                comment,
                lambda part, n, parts: context.t(
                    lang, "feedback.card_full", id=item.id, part=n, parts=parts, text=part, budget=None
                ),
                reply_to=sent.message_id,
            )
        except TelegramError as error:  # the card is up and the text stored whole
            log.warning("the whole text of feedback #%s was not posted: %s", item.id, error)
    return True


async def refresh_card(context: AppContext, session: AsyncSession, item: FeedbackItem) -> None:
    if item.card_chat_id is None or item.card_message_id is None:
        return
    text, markup = await _rendered(context, session, item)
    try:
        await context.bot.edit_message_text(
            text, chat_id=item.card_chat_id, message_id=item.card_message_id, reply_markup=markup
        )
    except BadRequest as error:
        log.info("feedback card #%s not edited: %s", item.id, error)
