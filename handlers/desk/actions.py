"""The buttons of a feedback card: Claim / Call back / Resolve (then a prompt for the resolution note).

They carry "fc:<action>:<item id>": no secret is needed, because the authority is being a member of the
staff group with the agent role, which bot.app declares and handlers.authority checks on every press.

Decide and commit, then talk: the press is decided in one unit of work; the answer, the card's edit and
the note prompt follow its commit. The prompt's message id is recorded in a second short transaction
(a reply to it is the note): if the process dies between the two, the item is resolved and the prompt
shown, but a reply to it is not taken as the note (the note is optional; nothing else is lost).
"""

from __future__ import annotations

import logging

from telegram import ForceReply, ReplyParameters, Update
from telegram.error import TelegramError

from handlers.context import AppContext
from handlers.desk.cards import ACTIONS, CATEGORY, OLD_ACTIONS, PREFIX, show_card, staff_language
from storage.care import feedback
from storage.care.feedback import FeedbackRefused
from storage.core import audit, inputs

log = logging.getLogger(__name__)

PATTERN = rf"^{PREFIX}"


async def on_button(update: Update, context: AppContext) -> None:
    """Claim / Call back / Resolve on a card."""
    query, user = update.callback_query, update.effective_user
    lang = staff_language(context)
    action, _, rest = (query.data or "").removeprefix(PREFIX).partition(":")
    action = OLD_ACTIONS.get(action, action)
    raw_id, _, category = rest.partition(":") if action == CATEGORY else (rest, "", "")
    item_id = inputs.int_or_none(raw_id, low=1, high=inputs.MAX_ID)
    if item_id is None or action not in (*ACTIONS, CATEGORY):  # forged or from an older version
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    now = context.now()
    async with context.unit_of_work() as session:
        item = await feedback.get(session, item_id)
        if item is None:
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            return
        try:
            if action == CATEGORY:
                await feedback.set_category(session, item, category, context.config.complaints)
                notice = context.t(lang, "feedback.category_ok")
            elif action == "claim":
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
        except FeedbackRefused as refused:  # refused before anything was written
            card = await feedback.card(session, item.id)
            name = card.claimed_by if card is not None and card.claimed_by is not None else ""
            context.after_commit(query.answer, context.t(lang, refused.code, name=name), show_alert=True)
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=query.message.chat.id if query.message else None,
            action=f"feedback_{action}",
            target=f"feedback:{item.id}",
        )
    await query.answer(notice)
    await show_card(context, item.id)
    if action == "resolve" and item.card_chat_id is not None and item.card_message_id is not None:
        await _ask_for_note(context, item.id, item.card_chat_id, item.card_message_id, user.id)


async def _ask_for_note(
    context: AppContext, item_id: int, chat_id: int, card_id: int, author_id: int
) -> None:
    """The prompt under the card for an optional resolution note, recorded once it is sent."""
    lang = staff_language(context)
    try:
        prompt = await context.bot.send_message(
            chat_id,
            context.t(lang, "feedback.note_prompt", id=item_id),
            reply_parameters=ReplyParameters(card_id, allow_sending_without_reply=True),
            reply_markup=ForceReply(selective=True),
        )
    except TelegramError as error:  # the item is resolved; only the optional note is not asked for
        log.warning("no note prompt for feedback #%s: %s", item_id, error)
        return
    async with context.unit_of_work() as session:
        item = await feedback.get(session, item_id)
        if item is None:  # gone with its customer meanwhile
            return
        await feedback.record_relay(
            session,
            item,
            direction="note_prompt",
            author_id=author_id,
            source_chat_id=prompt.chat_id,
            source_message_id=prompt.message_id,
            text=None,
            now=context.now(),
        )
