"""Feedback cards in the staff group: posted when a customer sends /feedback or gives a detractor
score (a direct consequence of their own action, so sent at once and its message id recorded), with
Claim / Call back / Resolve; a staff member's Telegram reply to a card is relayed to the customer.

A customer's text always reaches staff whole: a card shows the first CARD_COMMENT characters and the whole
text follows in parts replying to it; relayed messages are split likewise (handlers.replies.send_split).

Card buttons carry "fc:<action>:<item id>": no secret is needed, because the authority is being a
member of the staff group with the agent role, which bot.app declares and handlers.authority checks on
every press.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, ReplyParameters, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from handlers import paging
from handlers.common import display_name
from handlers.context import AppContext
from handlers.paging import Listing
from handlers.replies import send_split
from storage.care import feedback
from storage.care.feedback import FeedbackRefused, Relay
from storage.care.models import FeedbackItem, FollowUp
from storage.core import audit, conversations, inputs
from storage.people.models import Customer, StaffMember
from storage.surveys import invitations

log = logging.getLogger(__name__)

PREFIX = "fc:"
ACTIONS = ("claim", "followup", "resolve")
# Cards posted before the rename carry "fc:callback:<id>" and keep working.
OLD_ACTIONS = {"callback": "followup"}
ANSWER_STEP = "feedback/answer"
LIST = "fb"  # /feedback (staff) in handlers.paging
CARD_COMMENT = 1000  # characters of the comment on the card (it is edited on every change: keep it short)

Fallback = Callable[[Update, AppContext], Awaitable[None]]


def _lang(context: AppContext) -> str:
    return context.config.default_language


async def _staff_name(session: AsyncSession, telegram_id: int | None) -> str:
    if telegram_id is None:
        return ""
    member = await session.get(StaffMember, telegram_id)
    return member.name if member is not None else str(telegram_id)


async def card_text(context: AppContext, session: AsyncSession, item: FeedbackItem) -> str:
    lang = _lang(context)
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
    if item.follow_up_id is not None:
        follow_up = await session.get(FollowUp, item.follow_up_id)
        if follow_up is not None:
            due = follow_up.due_at.astimezone(ZoneInfo(context.config.staff_timezone)).strftime(
                "%Y-%m-%d %H:%M"
            )
            lines.append(context.t(lang, "feedback.card_followup", id=follow_up.id, due=due))
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
    lang = _lang(context)
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
    comment, lang = item.comment or "", _lang(context)
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


def _continued(context: AppContext, lang: str, item_id: int) -> Callable[[str, int, int], str]:
    """How the second and later parts of a split message look."""
    return lambda part, n, parts: context.t(
        lang, "feedback.continued", id=item_id, part=n, parts=parts, text=part, budget=None
    )


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


async def on_button(update: Update, context: AppContext) -> None:
    """Claim / Call back / Resolve on a card."""
    query, user = update.callback_query, update.effective_user
    lang = _lang(context)
    action, _, raw_id = (query.data or "").removeprefix(PREFIX).partition(":")
    action = OLD_ACTIONS.get(action, action)
    async with context.unit_of_work() as session:
        item_id = inputs.int_or_none(raw_id, low=1, high=inputs.MAX_ID)
        item = await feedback.get(session, item_id) if item_id is not None else None
        if item is None or action not in ACTIONS:
            await query.answer(context.t(lang, "button.stale"), show_alert=True)
            return
        now = context.now()
        try:
            if action == "claim":
                await feedback.claim(session, item, user.id, now)
                notice = context.t(lang, "feedback.claimed_ok")
            elif action == "followup":
                reason = context.t(
                    lang, "feedback.task_reason", id=item.id, comment=(item.comment or "")[:200]
                )
                follow_up = await feedback.call_back(
                    session, item, user.id, now, context.config.surveys, reason
                )
                notice = context.t(lang, "feedback.followup_ok", id=follow_up.id)
            else:
                await feedback.resolve(session, item, user.id, now)
                notice = context.t(lang, "feedback.resolved_ok")
        except FeedbackRefused as refused:
            name = await _staff_name(session, item.claimed_by)
            await query.answer(context.t(lang, refused.code, name=name), show_alert=True)
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=query.message.chat.id if query.message else None,
            action=f"feedback_{action}",
            target=f"feedback:{item.id}",
        )
        await query.answer(notice)
        await refresh_card(context, session, item)
        if action == "resolve" and item.card_chat_id is not None and item.card_message_id is not None:
            prompt = await context.bot.send_message(
                item.card_chat_id,
                context.t(lang, "feedback.note_prompt", id=item.id),
                reply_parameters=ReplyParameters(item.card_message_id, allow_sending_without_reply=True),
                reply_markup=ForceReply(selective=True),
            )
            await feedback.record_relay(
                session,
                item,
                direction="note_prompt",
                author_id=user.id,
                source_chat_id=prompt.chat_id,
                source_message_id=prompt.message_id,
                text=None,
                now=now,
            )


async def _relay_to_customer(
    context: AppContext, session: AsyncSession, item: FeedbackItem, message: Message, author_id: int
) -> None:
    lang = _lang(context)
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
    customer = await session.get(Customer, item.customer_id)
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
                await message.reply_text(context.t(_lang(context), "feedback.note_saved"))
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
    lang, name = _lang(context), display_name(customer.first_name, customer.last_name)
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


async def list_open(update: Update, context: AppContext) -> None:
    """/feedback in the staff group: the items not yet resolved."""
    async with context.unit_of_work() as session:
        listed = await listing(update, context, session)
    await paging.reply(update.effective_message, context, LIST, listed)


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    lang = _lang(context)
    lines = []
    for item, customer in await feedback.open_items(session, limit=paging.MAX_ROWS):
        lines.append(
            context.t(
                lang,
                "feedback.list_line",
                id=item.id,
                status=context.t(lang, f"feedback.status_{item.status}"),
                name=display_name(customer.first_name, customer.last_name),
                comment=(item.comment or "—")[:60],
            )
        )
    return Listing(lang, "", lines, context.t(lang, "feedback.list_empty"))
