"""What a customer's own action puts before the staff group, said once the transaction that decided it
has committed: a feedback item's card (its message id recorded afterwards, in a short transaction of its
own), the card refreshed, and a customer's answer relayed under it.

The desk renders (handlers.desk.cards); these run outside any unit of work, which the desk's own
post_card and relay_to_staff (they take the caller's session) cannot.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram.error import BadRequest, TelegramError

from handlers.context import AppContext
from handlers.desk import cards
from handlers.replies import send_split
from storage.care import feedback
from storage.care.models import FeedbackItem

log = logging.getLogger(__name__)

# An item's card is posted right after the item commits; the tick leaves younger items alone.
BACKLOG_SETTLE = timedelta(minutes=2)


async def post_card(context: AppContext, item_id: int) -> bool:
    """Post the item's card, and the whole comment after it when the card shows only its beginning;
    False when the card could not be posted (the item stays open: /feedback in the group lists it)."""
    chat_id = context.config.staff_chat_id
    if chat_id is None:
        log.warning("feedback #%s kept: no staff group yet (it is posted once one is chosen)", item_id)
        return False
    async with context.read_only() as session:
        card = await feedback.card(session, item_id)
    if card is None:
        return False
    try:
        sent = await context.bot.send_message(
            chat_id, cards.card_text(context, card), reply_markup=cards.card_markup(context, card)
        )
    except TelegramError as error:
        log.warning("could not post the card of feedback #%s: %s", item_id, error)
        return False
    async with context.unit_of_work() as session:
        await feedback.card_posted(session, item_id, sent.chat_id, sent.message_id)
    comment, lang = card.comment or "", cards.staff_language(context)
    if len(comment) > cards.CARD_COMMENT:
        try:
            await send_split(
                context.bot,
                sent.chat_id,
                comment,
                lambda part, n, parts: context.t(
                    lang, "feedback.card_full", id=item_id, part=n, parts=parts, text=part, budget=None
                ),
                reply_to=sent.message_id,
            )
        except TelegramError as error:  # the card is up and the text stored whole
            log.warning("the whole text of feedback #%s was not posted: %s", item_id, error)
    return True


async def post_backlog(context: AppContext, settle: timedelta = BACKLOG_SETTLE) -> int:
    """Feedback kept while there was no staff group (or whose card did not get through) reaches the
    staff group once there is one: when it is chosen (settle 0) and on every tick (items older than
    `settle`: a card being posted right now is not posted twice). Returns how many were posted; stops at
    the first card that fails (the rest wait for the next tick)."""
    if context.config.staff_chat_id is None:
        return 0
    async with context.read_only() as session:
        waiting = await feedback.unposted(session, before=context.now() - settle)
    posted = 0
    for item_id in waiting:
        if not await post_card(context, item_id):
            break
        posted += 1
    if posted:
        log.info("posted %s feedback card(s) kept while there was no staff group", posted)
    return posted


async def refresh_card(context: AppContext, item: FeedbackItem) -> None:
    """Show the item's card as it is now (`item` as committed: where its card is)."""
    if item.card_chat_id is None or item.card_message_id is None:
        return
    async with context.read_only() as session:
        card = await feedback.card(session, item.id)
    if card is None:
        return
    try:
        await context.bot.edit_message_text(
            cards.card_text(context, card),
            chat_id=item.card_chat_id,
            message_id=item.card_message_id,
            reply_markup=cards.card_markup(context, card),
        )
    except BadRequest as error:
        log.info("feedback card #%s not edited: %s", item.id, error)


async def relay_answer(
    context: AppContext, relay_id: int, item: FeedbackItem, chat_id: int, name: str, text: str
) -> None:
    """A customer's answer (recorded as relay `relay_id`) under the item's card in `chat_id`, whole;
    where it went is recorded afterwards, so a Telegram reply to it comes back to the same item."""
    lang = cards.staff_language(context)

    def first(part: str, _n: int, _parts: int) -> str:
        return context.t(lang, "feedback.customer_says", id=item.id, name=name, text=part, budget=None)

    def rest(part: str, n: int, parts: int) -> str:
        return context.t(lang, "feedback.continued", id=item.id, part=n, parts=parts, text=part, budget=None)

    sent, *_ = await send_split(context.bot, chat_id, text, first, rest, reply_to=item.card_message_id)
    async with context.unit_of_work() as session:
        await feedback.relayed(session, relay_id, sent.chat_id, sent.message_id)
