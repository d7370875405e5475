"""Surveys for customers: /survey, the answer buttons (which edit the survey's message as it goes),
written answers collected with ForceReply, the thank-you with the reward, and polite refusals for
closed, expired or stale buttons. The state is in the database (storage.surveys)."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update

from handlers.common import joined_customer, language_for
from handlers.context import AppContext
from handlers.customer import to_staff
from handlers.replies import edit_text
from storage.core import conversations, localized
from storage.core.models import Conversation
from storage.people import customers
from storage.surveys import answers, invitations
from storage.surveys.answers import SurveyProgress
from storage.surveys.invitations import Buttons, SurveyRefused
from storage.surveys.models import Survey, SurveyInvitation

log = logging.getLogger(__name__)

TEXT_STEP = "surveys/text"


def markup(context: AppContext, lang: str, rows: Buttons) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(
                    context.t(lang, label[1:])
                    if isinstance(label, str) and label.startswith("@")
                    else str(localized.resolve(label, lang)),
                    callback_data=data,
                )
                for label, data in row
            ]
            for row in rows
        ]
    )


def question_view(
    context: AppContext, lang: str, survey: Survey, invitation: SurveyInvitation
) -> tuple[str, InlineKeyboardMarkup]:
    index = invitation.position
    template, params = invitations.question_message(survey, index)
    rows = invitations.question_keyboard(invitation.token, index, survey.questions[index])
    return context.t(lang, template, **params), markup(context, lang, rows)


def _asks_text(survey: Survey, invitation: SurveyInvitation) -> bool:
    index = invitation.position
    return (
        invitation.status != "completed"
        and index < len(survey.questions)
        and (survey.questions[index]["type"] == "text")
    )


async def _ask_text(
    context: AppContext, session: AsyncSession, chat_id: int, lang: str, invitation: SurveyInvitation
) -> None:
    """Wait for a written answer (kept in the database: a restart still takes it), and ask for it once
    the unit of work has committed."""
    await conversations.expect(
        session, chat_id, chat_id, TEXT_STEP, {"token": invitation.token, "index": invitation.position}
    )
    context.after_commit(
        context.bot.send_message,
        chat_id,
        context.t(lang, "surveys.write_prompt"),
        reply_markup=ForceReply(input_field_placeholder=context.t(lang, "surveys.write_placeholder")),
    )


async def _clear_text_step(session: AsyncSession, chat_id: int) -> None:
    pending = await conversations.current(session, chat_id, chat_id)
    if pending is not None and pending.step == TEXT_STEP:
        await conversations.clear(session, chat_id, chat_id)


def _thanks(context: AppContext, lang: str, progress: SurveyProgress) -> str:
    text = context.t(lang, "surveys.thanks")
    if progress.reward:
        text += "\n" + context.t(lang, "surveys.reward", points=progress.reward)
    return text


async def _show(
    context: AppContext,
    session: AsyncSession,
    chat_id: int,
    lang: str,
    progress: SurveyProgress,
    message: Message | None,
) -> None:
    """Show where the survey is now, once the unit of work has committed: edit `message` (a button was
    pressed) or send a new one."""
    invitation, survey = progress.invitation, progress.survey
    if progress.outcome == "done":
        text, keyboard = _thanks(context, lang, progress), None
    else:
        text, keyboard = question_view(context, lang, survey, invitation)
    if message is not None:
        # e.g. "message is not modified" on a repeated update: quiet
        context.after_commit(edit_text, message, text, keyboard)
    else:
        context.after_commit(_send, context, chat_id, invitation.id, text, keyboard)
    if _asks_text(survey, invitation):
        await _ask_text(context, session, chat_id, lang, invitation)


async def _send(
    context: AppContext, chat_id: int, invitation_id: int, text: str, keyboard: InlineKeyboardMarkup | None
) -> None:
    """The survey in a new message; which message it is, is recorded in a short transaction of its own."""
    sent = await context.bot.send_message(chat_id, text, reply_markup=keyboard)
    async with context.unit_of_work() as session:
        await invitations.message_sent(session, invitation_id, sent.chat_id, sent.message_id)


async def _after_answer(
    context: AppContext,
    session: AsyncSession,
    chat_id: int,
    lang: str,
    progress: SurveyProgress,
    message: Message | None,
) -> None:
    if progress.outcome in ("next", "done"):
        await _clear_text_step(session, chat_id)
        await _show(context, session, chat_id, lang, progress, message)
    if progress.feedback is not None:  # a detractor: the desk's card, after the commit
        if progress.feedback_created:
            context.after_commit(to_staff.post_card, context, progress.feedback.id)
        else:
            context.after_commit(to_staff.refresh_card, context, progress.feedback)


async def open_survey(update: Update, context: AppContext) -> None:
    """/survey in a private chat: the current general survey."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    async with context.unit_of_work() as session:
        customer = await joined_customer(update, context, session)
        if customer is None:
            return
        lang = customer.language
        try:
            invitation, survey = await invitations.open_for_customer(
                session, customer, context.now(), context.config.surveys
            )
        except SurveyRefused as refused:
            context.after_commit(message.reply_text, context.t(lang, refused.code))
            return
        await _show(context, session, user.id, lang, SurveyProgress(invitation, survey, "next"), None)


async def on_answer(update: Update, context: AppContext) -> None:
    """An answer button: "sv:<token>:<question>:<value>". The answer to the press depends on what was
    recorded, so it is given after the commit, with the rest."""
    query = update.callback_query
    user = query.from_user
    parsed = invitations.parse_data(query.data or "")
    async with context.unit_of_work() as session:
        customer = await customers.get(session, user.id)
        lang = language_for(update, context, customer)
        if parsed is None:
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            return
        token, index, value = parsed
        try:
            progress = await answers.answer(
                session,
                token,
                index,
                value,
                telegram_id=user.id,
                now=context.now(),
                config=context.config.surveys,
                loyalty=context.config.loyalty,
            )
        except SurveyRefused as refused:
            context.after_commit(query.answer, context.t(lang, refused.code), show_alert=True)
            if refused.code == "surveys.closed":
                context.after_commit(edit_text, query.message, context.t(lang, "surveys.closed"))
            return
        if progress.outcome == "already":
            context.after_commit(query.answer, context.t(lang, "surveys.already_recorded"))
            return
        context.after_commit(query.answer)
        message = query.message if isinstance(query.message, Message) else None
        if message is not None:
            await invitations.set_message(session, progress.invitation, message.chat_id, message.message_id)
        if progress.outcome == "write":
            await _ask_text(context, session, user.id, lang, progress.invitation)
            return
        await _after_answer(context, session, user.id, lang, progress, message)


async def on_text(update: Update, context: AppContext, session: AsyncSession, pending: Conversation) -> None:
    """A written answer (the reply to the ForceReply prompt, or simply the next message)."""
    user, message = update.effective_user, update.effective_message
    if user is None or message is None:
        return
    customer = await customers.get(session, user.id)
    lang = language_for(update, context, customer)
    if not message.text:
        context.after_commit(message.reply_text, context.t(lang, "surveys.text_only"))
        return
    try:
        progress = await answers.answer(
            session,
            str(pending.payload.get("token", "")),
            int(pending.payload.get("index", -1)),
            "",
            text=message.text,
            telegram_id=user.id,
            now=context.now(),
            config=context.config.surveys,
            loyalty=context.config.loyalty,
        )
    except SurveyRefused as refused:
        await conversations.clear(session, user.id, user.id)
        context.after_commit(message.reply_text, context.t(lang, refused.code))
        return
    await conversations.clear(session, user.id, user.id)
    if progress.outcome == "already":
        context.after_commit(message.reply_text, context.t(lang, "surveys.already_recorded"))
        return
    # The survey continues in a new message below the answer; the old message's buttons now answer
    # "already recorded" (no edit: its text is not ours to rebuild here).
    await _after_answer(context, session, user.id, lang, progress, None)


STEPS = {TEXT_STEP: on_text}
