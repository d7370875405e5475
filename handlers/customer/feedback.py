"""Feedback for customers: /feedback <text> (or /feedback, then the message) goes to the staff group as
a card; a staff reply arrives here, and the customer's answer (their next message, or a Telegram reply
to the relayed message) goes back under the same card."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, Message, Update

from handlers.common import command_args, display_name, joined_customer
from handlers.context import AppContext
from handlers.customer import to_staff
from handlers.desk import relay
from storage.care import feedback
from storage.care.feedback import FeedbackRefused, Relay
from storage.core import conversations
from storage.core.models import Conversation
from storage.people import customers
from storage.people.models import Customer

TEXT_STEP = "feedback/text"
ANSWER_STEP = relay.ANSWER_STEP


async def _submit(
    context: AppContext, session: AsyncSession, customer: Customer, message: Message, text: str
) -> None:
    """Store the feedback; once it has committed, post its card and tell the customer (_thank)."""
    try:
        item, created = await feedback.submit(
            session,
            customer,
            text,
            source_ref=f"msg:{message.chat_id}:{message.message_id}",
            now=context.now(),
        )
    except FeedbackRefused as refused:
        context.after_commit(message.reply_text, context.t(customer.language, refused.code))
        return
    card = item.card_message_id
    context.after_commit(_thank, context, customer.language, message, item.id, created, card)


async def _thank(
    context: AppContext, lang: str, message: Message, item_id: int, created: bool, card: int | None
) -> None:
    """Thanked only once staff can see it; else honestly: stored, /feedback in the group lists it. A
    redelivered update (not `created`) posts no second card: `card` is the first one's message id."""
    posted = await to_staff.post_card(context, item_id) if created else card is not None
    await message.reply_text(context.t(lang, "feedback.thanks" if posted else "feedback.saved", id=item_id))


async def command(update: Update, context: AppContext) -> None:
    """/feedback [text] in a private chat."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        text = command_args(message)
        if text:
            await _submit(context, session, customer, message, text)
            return
        await conversations.expect(session, user.id, user.id, TEXT_STEP)
        context.after_commit(
            message.reply_text,
            context.t(customer.language, "feedback.ask"),
            reply_markup=ForceReply(
                input_field_placeholder=context.t(customer.language, "feedback.placeholder")
            ),
        )


async def on_text(update: Update, context: AppContext, session: AsyncSession, pending: Conversation) -> None:
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    customer = await customers.get(session, user.id)
    if customer is None:
        await conversations.clear(session, user.id, user.id)
        return
    if not message.text:
        context.after_commit(message.reply_text, context.t(customer.language, "feedback.text_only"))
        return
    await conversations.clear(session, user.id, user.id)
    await _submit(context, session, customer, message, message.text)


async def _answer_staff(
    context: AppContext, session: AsyncSession, customer: Customer, item_id: int, message: Message
) -> None:
    """Record the customer's answer to a staff reply; once committed, relay it under the card and
    confirm. A redelivered update (recorded before) is relayed once."""
    item = await feedback.get(session, item_id)
    if item is None or not message.text:
        context.after_commit(message.reply_text, context.t(customer.language, "feedback.text_only"))
        return
    chat_id = item.card_chat_id or context.config.staff_chat_id
    if chat_id is None:
        return
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
        return
    name = display_name(customer.first_name, customer.last_name)
    context.after_commit(to_staff.relay_answer, context, record.id, item, chat_id, name, message.text)
    context.after_commit(message.reply_text, context.t(customer.language, "feedback.answer_sent"))


async def on_answer(
    update: Update, context: AppContext, session: AsyncSession, pending: Conversation
) -> None:
    """The customer's next message after a staff reply."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    await conversations.clear(session, user.id, user.id)
    customer = await customers.get(session, user.id)
    if customer is not None:
        await _answer_staff(context, session, customer, int(pending.payload.get("id", 0)), message)


STEPS = {TEXT_STEP: on_text, ANSWER_STEP: on_answer}


def private_reply(fallback: relay.Fallback) -> relay.Fallback:
    """A Telegram reply in a private chat to a relayed staff message goes back under the card;
    any other message → `fallback` (the conversation steps)."""

    async def handle(update: Update, context: AppContext) -> None:
        message, user = update.effective_message, update.effective_user
        target = message.reply_to_message if message is not None else None
        if message is not None and user is not None and target is not None and message.text:
            async with context.read_only() as session:  # most replies are not to a relayed message
                found = await feedback.find_by_message(session, message.chat_id, target.message_id)
            if isinstance(found, Relay) and found.message.direction == "to_customer":
                async with context.unit_of_work() as session:
                    customer = await customers.get(session, user.id)
                    if customer is not None:
                        pending = await conversations.current(session, user.id, user.id)
                        if pending is not None and pending.step == ANSWER_STEP:
                            await conversations.clear(session, user.id, user.id)
                        await _answer_staff(context, session, customer, found.item.id, message)
                        return
        await fallback(update, context)

    return handle
