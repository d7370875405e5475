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
from storage.care.models import FeedbackItem, Task
from storage.people.models import Customer, StaffMember
from storage.surveys import invitations

log = logging.getLogger(__name__)

PREFIX = "fc:"
ACTIONS = ("claim", "callback", "resolve")
CARD_COMMENT = 1000  # characters of the comment on the card (it is edited on every change: keep it short)


def staff_language(context: AppContext) -> str:
    """The desk speaks the staff group's language."""
    return context.config.default_language


async def _staff_name(session: AsyncSession, telegram_id: int | None) -> str:
    if telegram_id is None:
        return ""
    member = await session.get(StaffMember, telegram_id)
    return member.name if member is not None else str(telegram_id)


async def card_text(context: AppContext, session: AsyncSession, item: FeedbackItem) -> str:
    lang = staff_language(context)
    customer = await session.get(Customer, item.customer_id)
    assert customer is not None
    if item.kind == "detractor":
        survey = await invitations.get_survey(session, item.survey_id) if item.survey_id else None
        headline = context.t(
            lang,
            f"feedback.card_{item.score_kind}",
            score=item.score,
            survey=survey.name if survey else "—",
        )
    else:
        headline = context.t(lang, "feedback.card_feedback")
    lines = [
        context.t(lang, "feedback.card_title", id=item.id),
        headline,
        context.t(
            lang,
            "feedback.card_customer",
            name=display_name(customer.first_name, customer.last_name),
            username=f"@{customer.username}" if customer.username else "",
            customer_id=customer.id,
        ),
        context.t(lang, "feedback.card_comment", comment=item.comment or "—", budget=CARD_COMMENT),
    ]
    if item.claimed_by is not None:
        lines.append(
            context.t(lang, "feedback.card_claimed", name=await _staff_name(session, item.claimed_by))
        )
    if item.task_id is not None:
        task = await session.get(Task, item.task_id)
        if task is not None:
            due = task.due_at.astimezone(ZoneInfo(context.config.staff_timezone)).strftime("%Y-%m-%d %H:%M")
            lines.append(context.t(lang, "feedback.card_callback", task=task.id, due=due))
    if item.status == "resolved":
        lines.append(
            context.t(lang, "feedback.card_resolved", name=await _staff_name(session, item.resolved_by))
        )
        if item.resolution:
            lines.append(context.t(lang, "feedback.card_note", note=item.resolution))
    else:
        lines.append(context.t(lang, "feedback.card_reply_hint"))
    return "\n".join(lines)


def card_markup(context: AppContext, item: FeedbackItem) -> InlineKeyboardMarkup | None:
    if item.status == "resolved":
        return None
    lang = staff_language(context)
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t(lang, f"feedback.{action}_button"), callback_data=f"{PREFIX}{action}:{item.id}"
                )
                for action in ACTIONS
            ]
        ]
    )


async def post_card(context: AppContext, session: AsyncSession, item: FeedbackItem) -> bool:
    """Post the item's card, and the whole comment after it when the card shows only its beginning;
    False when the card could not be posted (the item stays open: /feedback in the group lists it)."""
    chat_id = context.config.staff_chat_id
    if chat_id is None:
        log.warning("feedback #%s has no staff group to go to (STAFF_CHAT_ID is not set)", item.id)
        return False
    try:
        sent = await context.bot.send_message(
            chat_id, await card_text(context, session, item), reply_markup=card_markup(context, item)
        )
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
    try:
        await context.bot.edit_message_text(
            await card_text(context, session, item),
            chat_id=item.card_chat_id,
            message_id=item.card_message_id,
            reply_markup=card_markup(context, item),
        )
    except BadRequest as error:
        log.info("feedback card #%s not edited: %s", item.id, error)
