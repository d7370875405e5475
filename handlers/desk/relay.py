"""Messages relayed between the staff group and a customer about a feedback item: a staff member's
Telegram reply to a card (or to a relayed message) goes to the customer, the customer's answer comes back
under the card, and a reply to the note prompt is the resolution note. Long texts are split, never cut.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.error import BadRequest, Forbidden

from handlers.common import display_name
from handlers.context import AppContext
from handlers.desk.cards import refresh_card, staff_language
from handlers.replies import send_split
from storage.care import feedback
from storage.care.feedback import Relay
from storage.care.models import FeedbackItem
from storage.core import audit, conversations
from storage.people import customers
from storage.people.models import Customer

log = logging.getLogger(__name__)

ANSWER_STEP = "feedback/answer"

Fallback = Callable[[Update, AppContext], Awaitable[None]]


def _continued(context: AppContext, lang: str, item_id: int) -> Callable[[str, int, int], str]:
    """How the second and later parts of a split message look."""
    return lambda part, n, parts: context.t(
        lang, "feedback.continued", id=item_id, part=n, parts=parts, text=part, budget=None
    )


async def _relay_to_customer(
    context: AppContext, session: AsyncSession, item: FeedbackItem, message: Message, author_id: int
) -> None:
    lang = staff_language(context)
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
    if record is None:  # this reply was relayed already (a redelivered update)
        return
    customer = await customers.by_id(session, item.customer_id)
    assert customer is not None
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
    await feedback.set_relayed(session, record, sent.chat_id, sent.message_id)
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


def group_reply(fallback: Fallback) -> Fallback:
    """A text reply in the staff group: to a card or a relayed message → to the customer; to a note
    prompt → the resolution note; anything else → `fallback` (the conversation steps)."""

    async def handle(update: Update, context: AppContext) -> None:
        message, user = update.effective_message, update.effective_user
        target = message.reply_to_message if message is not None else None
        if message is None or user is None or target is None or not message.text:
            await fallback(update, context)
            return
        async with context.unit_of_work() as session:
            found = await feedback.find_by_message(session, message.chat_id, target.message_id)
            if found is None:
                pass
            elif isinstance(found, Relay) and found.message.direction == "note_prompt":
                await feedback.set_resolution(session, found.item, message.text)
                await audit.record(
                    session,
                    actor_id=user.id,
                    chat_id=message.chat_id,
                    action="feedback_note",
                    target=f"feedback:{found.item.id}",
                )
                await refresh_card(context, session, found.item)
                await message.reply_text(context.t(staff_language(context), "feedback.note_saved"))
                return
            else:
                item = found.item if isinstance(found, Relay) else found
                await _relay_to_customer(context, session, item, message, user.id)
                return
        await fallback(update, context)

    return handle


async def relay_to_staff(
    context: AppContext, session: AsyncSession, item: FeedbackItem, message: Message, customer: Customer
) -> bool:
    """A customer's answer goes to the group under the item's card; False when it was relayed before."""
    chat_id = item.card_chat_id or context.config.staff_chat_id
    if chat_id is None:
        return False
    record = await feedback.record_relay(
        session,
        item,
        direction="to_staff",
        author_id=customer.telegram_id,
        source_chat_id=message.chat_id,
        source_message_id=message.message_id,
        text=message.text,
        now=context.now(),
    )
    if record is None:
        return False
    lang, name = staff_language(context), display_name(customer.first_name, customer.last_name)
    sent, *_ = await send_split(
        context.bot,
        chat_id,
        message.text or "",
        lambda part, _n, _parts: context.t(
            lang, "feedback.customer_says", id=item.id, name=name, text=part, budget=None
        ),
        _continued(context, lang, item.id),
        reply_to=item.card_message_id,
    )
    await feedback.set_relayed(session, record, sent.chat_id, sent.message_id)
    return True
