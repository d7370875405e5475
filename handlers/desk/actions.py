"""The buttons of a feedback card: Claim / Call back / Resolve (then a prompt for the resolution note).

They carry "fc:<action>:<item id>": no secret is needed, because the authority is being a member of the
staff group with the agent role, which bot.app declares and handlers.authority checks on every press.
"""

from __future__ import annotations

from telegram import ForceReply, ReplyParameters, Update

from handlers.context import AppContext
from handlers.desk.cards import ACTIONS, OLD_ACTIONS, PREFIX, refresh_card, staff_language
from storage.care import feedback
from storage.care.feedback import FeedbackRefused
from storage.core import audit, inputs

PATTERN = rf"^{PREFIX}"


async def on_button(update: Update, context: AppContext) -> None:
    """Claim / Call back / Resolve on a card."""
    query, user = update.callback_query, update.effective_user
    lang = staff_language(context)
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
            card = await feedback.card(session, item.id)
            name = card.claimed_by if card is not None and card.claimed_by is not None else ""
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
