"""The bot in a group: it says what it is when added (my_chat_member), offers an owner "Use this group
for staff", and answers /help and /start in the staff group with what the sender's role may do."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from telegram import ChatMember, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from handlers.authority import current_role
from handlers.common import display_name, language_for
from handlers.context import AppContext
from storage.core import audit, stored_settings
from storage.people import staff
from storage.people.staff import Role

log = logging.getLogger(__name__)

USE_GROUP = "staffgroup:use"
PATTERN = rf"^{USE_GROUP}$"
_IN = (ChatMember.MEMBER, ChatMember.ADMINISTRATOR)
_OUT = (ChatMember.LEFT, ChatMember.BANNED)
# Not listed by /help: they are how one gets there.
_NOT_LISTED = ("help", "start")

Chosen = Callable[[AppContext, int], Awaitable[None]]


def _role_name(context: AppContext, lang: str, role: Role) -> str:
    return context.t(lang, f"staff.role_{role.label}")


async def introduce(update: Update, context: AppContext) -> None:
    """The bot was added to a group: what it is, the group's id, and for an owner who added it (while
    the environment does not fix the staff group) the button that makes it the staff group."""
    change = update.my_chat_member
    if change is None or change.chat.type not in ("group", "supergroup"):
        return
    if change.new_chat_member.status not in _IN or change.old_chat_member.status not in _OUT:
        if change.new_chat_member.status in _OUT and change.chat.id == context.config.staff_chat_id:
            log.warning(
                "the bot is no longer in the staff group %s: staff commands work nowhere", change.chat.id
            )
        return
    adder, chat = change.from_user, change.chat
    lang = language_for(update, context)
    async with context.read_only() as session:
        role = await staff.role_of(session, adder.id)
    parts = [context.t(lang, "setup.hello", bot=context.bot.first_name, chat_id=str(chat.id))]
    markup = None
    staff_chat = context.config.staff_chat_id
    if chat.id == staff_chat:
        parts.append(context.t(lang, "setup.hello_staff"))
    elif context.runtime.fixed_staff_chat:
        parts.append(context.t(lang, "setup.hello_fixed", staff_chat=str(staff_chat)))
    elif role == Role.OWNER:
        parts.append(context.t(lang, "setup.hello_owner"))
        markup = InlineKeyboardMarkup(
            [[InlineKeyboardButton(context.t(lang, "setup.use_group"), callback_data=USE_GROUP)]]
        )
    elif staff_chat is None:
        parts.append(context.t(lang, "setup.hello_no_group"))
    try:
        await context.bot.send_message(chat.id, "\n\n".join(parts), reply_markup=markup)
    except TelegramError as error:  # e.g. added without the right to post
        log.info("could not introduce the bot in %s: %s", chat.id, error)


def use_group(chosen: Chosen) -> Callable[[Update, AppContext], Awaitable[None]]:
    """ "Use this group for staff" (an owner, checked where it is registered): stored and audited, then
    this instance reads it at once (others on their next tick) and `chosen` runs (the staff command
    menu, the feedback kept while there was no staff group)."""

    async def handle(update: Update, context: AppContext) -> None:
        query, chat, user = update.callback_query, update.effective_chat, update.effective_user
        if query is None or chat is None or user is None:
            return
        lang = language_for(update, context)
        if context.runtime.fixed_staff_chat:
            await query.answer(context.t(lang, "setup.fixed"), show_alert=True)
            return
        async with context.unit_of_work() as session:
            await stored_settings.set_staff_chat(session, chat.id, context.now())
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=chat.id,
                action="staff_group_set",
                target=str(chat.id),
                detail={"previous": context.config.staff_chat_id},
            )
        context.runtime.use_staff_chat(chat.id)
        await query.answer()
        name = display_name(user.first_name, user.last_name)
        try:
            await query.edit_message_text(context.t(lang, "setup.chosen", name=name))
        except BadRequest as error:  # pressed twice: the message says so already
            log.info("staff group message not edited: %s", error)
        await chosen(context, chat.id)

    return handle


async def help_command(update: Update, context: AppContext) -> None:
    """/help in the staff group: the staff commands the sender's role may use, one example each."""
    message = update.effective_message
    if message is None:
        return
    role, lang = current_role(context), language_for(update, context)
    lines = [context.t(lang, "setup.help_title", role=_role_name(context, lang, role))]
    for name in context.bot_data.commands.for_role(role):
        if name not in _NOT_LISTED:  # every staff command has an example (tests/bot/test_setup.py)
            lines.append(context.t(lang, "setup.help_line", example=context.t(lang, f"setup.example.{name}")))
    lines.append(context.t(lang, "setup.help_more"))
    await message.reply_text("\n".join(lines))


async def start(update: Update, context: AppContext) -> None:
    """/start in the staff group: who you are here."""
    message, user = update.effective_message, update.effective_user
    if message is None or user is None:
        return
    role, lang = current_role(context), language_for(update, context)
    name = display_name(user.first_name, user.last_name)
    await message.reply_text(context.t(lang, "setup.start", name=name, role=_role_name(context, lang, role)))
