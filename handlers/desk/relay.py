"""Messages relayed between the staff group and a customer about a feedback item: a staff member's
Telegram reply to a card (or to a relayed message) goes to the customer, and a reply to the note prompt
is the resolution note; the customer's answer comes back under the card from the customer side
(handlers.customer.to_staff). Long texts are split, never cut.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import Message, Update
from telegram.error import BadRequest, Forbidden

from handlers.context import AppContext
from handlers.desk.cards import show_card, staff_language
from handlers.replies import send_split
from storage.care import feedback
from storage.care.feedback import Relay
from storage.care.models import FeedbackItem
from storage.core import audit, conversations
from storage.people import customers

log = logging.getLogger(__name__)

ANSWER_STEP = "feedback/answer"

Fallback = Callable[[Update, AppContext], Awaitable[None]]


def _continued(context: AppContext, lang: str, item_id: int) -> Callable[[str, int, int], str]:
    """How the second and later parts of a split message look."""
    return lambda part, n, parts: context.t(
        lang, "feedback.continued", id=item_id, part=n, parts=parts, text=part, budget=None
    )


async def _relay_to_customer(
    context: AppContext, item: FeedbackItem, message: Message, author_id: int
) -> None:
    """A staff member's reply goes to the customer. Recorded first (a redelivered update is relayed
    once), sent after that commit, and where it went (so the customer's Telegram reply comes back), the
    step that brings their next message back and the audit entry recorded in a second short
    transaction. If the process dies between the send and that transaction, the customer has the
    message but their answer is not brought back under the card, and staff see no "delivered"."""
    lang = staff_language(context)
    async with context.unit_of_work() as session:
        record = await feedback.record_relay(
            session,
            item,
            direction="to_customer",
            author_id=author_id,
            source_chat_id=message.chat_id,
            source_message_id=message.message_id,
            text=message.text,
            now=context.now(),
        )
        customer = await customers.by_id(session, item.customer_id) if record is not None else None
    if record is None or customer is None:  # this reply was relayed already (a redelivered update)
        return
    try:
        sent, *_ = await send_split(
            context.bot,
            customer.telegram_id,
            message.text or "",
            lambda part, _n, _parts: context.t(
                customer.language, "feedback.staff_says", id=item.id, text=part, budget=None
            ),
            _continued(context, customer.language, item.id),
        )
    except (Forbidden, BadRequest) as error:
        log.info("reply to feedback #%s not delivered: %s", item.id, error)
        await message.reply_text(context.t(lang, "feedback.not_delivered"))
        return
    async with context.unit_of_work() as session:
        await feedback.relayed(session, record.id, sent.chat_id, sent.message_id)
        pending = await conversations.current(session, customer.telegram_id, customer.telegram_id)
        if pending is None or pending.step == ANSWER_STEP:  # their next message comes back under the card
            await conversations.expect(
                session, customer.telegram_id, customer.telegram_id, ANSWER_STEP, {"id": item.id}
            )
        await audit.record(
            session,
            actor_id=author_id,
            chat_id=message.chat_id,
            action="feedback_reply",
            target=f"feedback:{item.id}",
        )
    await message.reply_text(context.t(lang, "feedback.delivered"))


async def _save_note(context: AppContext, item_id: int, message: Message, author_id: int) -> None:
    """A reply to the note prompt: the resolution note, saved, then shown on the card."""
    async with context.unit_of_work() as session:
        item = await feedback.get(session, item_id)
        if item is None:
            return
        await feedback.set_resolution(session, item, message.text or "")
        await audit.record(
            session,
            actor_id=author_id,
            chat_id=message.chat_id,
            action="feedback_note",
            target=f"feedback:{item_id}",
        )
    await show_card(context, item_id)
    await message.reply_text(context.t(staff_language(context), "feedback.note_saved"))


def group_reply(fallback: Fallback) -> Fallback:
    """A text reply in the staff group: to a card or a relayed message → to the customer; to a note
    prompt → the resolution note; anything else → `fallback` (the conversation steps). What the reply
    points at is looked up read-only: an ordinary reply in the group takes no write lock."""

    async def handle(update: Update, context: AppContext) -> None:
        message, user = update.effective_message, update.effective_user
        target = message.reply_to_message if message is not None else None
        if message is None or user is None or target is None or not message.text:
            await fallback(update, context)
            return
        async with context.read_only() as session:
            found = await feedback.find_by_message(session, message.chat_id, target.message_id)
        if found is None:
            await fallback(update, context)
        elif isinstance(found, Relay) and found.message.direction == "note_prompt":
            await _save_note(context, found.item.id, message, user.id)
        else:
            item = found.item if isinstance(found, Relay) else found
            await _relay_to_customer(context, item, message, user.id)

    return handle
