"""Follow-ups (回访) for staff: /callback schedules one, /callbacks lists them, the reminder card's
buttons (Done → outcome note, Snooze 1h / 1d, Reassign to me)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import ForceReply, Update

from handlers import paging
from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.paging import Listing
from handlers.replies import answer_in_chat
from handlers.staff import lookup
from storage.care import followups
from storage.core import audit, conversations, inputs
from storage.core.inputs import InputRefused
from storage.core.models import Button, Conversation
from storage.core.when import WhenError, parse_when
from storage.people import staff

NOTIFY_FLAG = "--notify"
OUTCOME_STEP = "followups/outcome"
LIST = "cb"  # /callbacks in handlers.paging; the name is in the page buttons already sent


def split_when(words: list[str], context: AppContext) -> tuple[datetime, list[str]]:
    """The longest leading words that read as a time (up to 3), and the rest (the reason)."""
    error: WhenError | None = None
    for n in (3, 2, 1):
        if len(words) < n:
            continue
        try:
            return parse_when(" ".join(words[:n]), context.now(), context.config.staff_timezone), words[n:]
        except WhenError as refused:
            # Keep the most telling refusal: "in the past" beats "can't read that".
            if error is None or refused.code != "followups.when_invalid":
                error = refused
    raise error or WhenError("followups.when_invalid")


async def schedule(update: Update, context: AppContext) -> None:
    """/callback <customer> <when> <reason> [--notify]"""
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    tz = context.config.staff_timezone
    words = command_args(message).split()
    notify = NOTIFY_FLAG in words
    words = [w for w in words if w != NOTIFY_FLAG]
    if len(words) < 2:
        await message.reply_text(context.t(lang, "followups.usage", timezone=tz))
        return
    try:
        due_at, reason_words = split_when(words[1:], context)
    except WhenError as error:
        await message.reply_text(context.t(lang, error.code))
        return
    try:
        reason = inputs.bounded_text(" ".join(reason_words), followups.REASON_MAX)
    except InputRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    if not reason:
        await message.reply_text(context.t(lang, "followups.reason_missing"))
        return
    async with context.unit_of_work() as session:
        found = await lookup.one(session, context, lang, words[0])
        customer = found.customer
        if customer is None:
            text = found.several or context.t(lang, "followups.unknown_customer", reference=words[0])
            context.after_commit(message.reply_text, text)
            return
        follow_up = await followups.create(
            session,
            customer_id=customer.id,
            kind="call",
            reason=reason,
            due_at=due_at,
            created_by=user.id,
            notify_customer=notify,
        )
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=message.chat_id,
            action="callback",
            outcome="ok",
            target=f"customer:{customer.id}",
            detail={"follow_up": follow_up.id, "due_at": due_at.isoformat(), "notify": notify},
        )
    await message.reply_text(
        context.t(
            lang,
            "followups.scheduled",
            id=follow_up.id,
            name=customer.first_name,
            due=local(due_at, tz),
            timezone=tz,
        )
    )


async def list_open(update: Update, context: AppContext) -> None:
    """/callbacks"""
    async with context.read_only() as session:
        listed = await listing(update, context, session)
    await paging.reply(update.effective_message, context, LIST, listed)


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    """The open follow-ups by due time (paged by handlers.paging)."""
    lang = language_for(update, context)
    tz = context.config.staff_timezone
    rows = await followups.open_by_due(session, limit=paging.MAX_ROWS)
    names = await staff.names(session, (task.assignee_id for task, _, _ in rows))
    lines = [
        context.t(
            lang,
            "followups.list_line",
            id=follow_up.id,
            due=local(follow_up.due_at, tz),
            customer_id=customer.id,
            name=display_name(customer.first_name, customer.last_name),
            reason=follow_up.reason[:80],
            assignee=names.get(follow_up.assignee_id, "—") if follow_up.assignee_id else "—",
            level=context.t(lang, f"insight.level.{level}") if level else "—",
        )
        for follow_up, customer, level in rows
    ]
    title = context.t(lang, "followups.list_title", timezone=tz)
    return Listing(lang, title, lines, context.t(lang, "followups.list_empty"))


async def on_button(update: Update, context: AppContext, button: Button) -> None:
    """A reminder card's button (routed by handlers.buttons), pressed in the staff group."""
    query, user = update.callback_query, update.effective_user
    lang = language_for(update, context)
    tz = context.config.staff_timezone
    name = display_name(user.first_name, user.last_name)
    chat_id = query.message.chat.id  # an InaccessibleMessage still names its chat
    async with context.unit_of_work() as session:
        follow_up = await followups.get_open(session, int(button.payload["follow_up_id"]))
        if follow_up is None:
            context.after_commit(query.answer, context.t(lang, "followups.already_closed"), show_alert=True)
            return
        if button.action == "follow_up/done":
            await conversations.expect(
                session, chat_id, user.id, OUTCOME_STEP, {"follow_up_id": follow_up.id}
            )
            reply = context.t(lang, "followups.ask_outcome", name=name, id=follow_up.id)
            markup: ForceReply | None = ForceReply(selective=True)
        elif button.action in followups.SNOOZES:
            await followups.snooze(session, follow_up, followups.SNOOZES[button.action], context.now())
            reply = context.t(lang, "followups.snoozed", id=follow_up.id, due=local(follow_up.due_at, tz))
            markup = None
        elif button.action == "follow_up/mine":
            await followups.assign(session, follow_up, user.id)
            reply = context.t(lang, "followups.assigned", id=follow_up.id, name=name)
            markup = None
        else:
            context.after_commit(query.answer, context.t(lang, "button.stale"), show_alert=True)
            return
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=chat_id,
            action=button.action,
            outcome="ok",
            target=f"follow_up:{follow_up.id}",
            detail={},
        )
    await query.answer()
    await answer_in_chat(query, reply, reply_markup=markup)


async def on_outcome(
    update: Update, context: AppContext, session: AsyncSession, pending: Conversation
) -> None:
    """The outcome note after Done: closes the follow-up (a second note for a closed one changes nothing).
    A step: it runs inside the router's unit of work, so every reply waits for its commit."""
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    try:
        outcome = inputs.bounded_text(message.text or "", followups.OUTCOME_MAX)
    except InputRefused as refused:  # the step stays: a shorter note still closes the follow-up
        text = context.t(lang, refused.code, **refused.params)
        context.after_commit(message.reply_text, text, reply_markup=ForceReply(selective=True))
        return
    if not outcome:
        text = context.t(lang, "followups.outcome_empty")
        context.after_commit(message.reply_text, text, reply_markup=ForceReply(selective=True))
        return
    follow_up_id = int(pending.payload["follow_up_id"])
    await conversations.clear(session, pending.chat_id, pending.user_id)
    if not await followups.complete(session, follow_up_id, outcome, context.now()):
        context.after_commit(message.reply_text, context.t(lang, "followups.already_closed"))
        return
    await audit.record(
        session,
        actor_id=user.id,
        chat_id=message.chat_id,
        action="follow_up/done",
        outcome="ok",
        target=f"follow_up:{follow_up_id}",
        detail={},  # the outcome stays, encrypted, on the follow-up
    )
    context.after_commit(
        message.reply_text, context.t(lang, "followups.closed", id=follow_up_id, outcome=outcome)
    )


STEPS = {OUTCOME_STEP: on_outcome}
