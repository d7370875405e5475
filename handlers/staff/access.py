"""The staff gate, run before every other handler: a staff command outside the staff group, or from
someone without the role it needs, is refused and audited."""

from __future__ import annotations

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from handlers.common import display_name, is_private, is_staff_chat, language_for
from handlers.context import AppContext
from storage import audit, staff
from storage.staff import Role


def command_name(text: str, bot_username: str) -> str:
    """ "/Find@engage_bot foo" → "find" (empty for a command addressed to another bot)."""
    word = text.split(maxsplit=1)[0][1:] if text.startswith("/") else ""
    name, _, addressee = word.partition("@")
    if addressee and addressee.lower() != bot_username.lower():
        return ""
    return name.lower()


async def gate(update: Update, context: AppContext) -> None:
    message, user, chat = update.effective_message, update.effective_user, update.effective_chat
    if message is None or user is None or chat is None or not message.text:
        return
    command = command_name(message.text, context.bot.username)
    needed = staff.required_role(command)
    if needed is None or (command in staff.SHARED_COMMANDS and is_private(update)):
        return
    async with context.unit_of_work() as session:
        role: Role | None = None
        if is_staff_chat(update, context):
            role = await staff.role_in_staff_group(
                session, user.id, display_name(user.first_name, user.last_name), user.username
            )
        if role is not None and role >= needed:
            context.staff_role = role
            return
        reason = "outside_staff_chat" if role is None else f"needs_{needed.label}"
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=chat.id,
            action=command,
            outcome="refused",
            detail={"reason": reason},
        )
    lang = language_for(update, context)
    key = "staff.refused_not_staff" if role is None else "staff.refused_role"
    await message.reply_text(context.t(lang, key, role=context.t(lang, f"staff.role_{needed.label}")))
    raise ApplicationHandlerStop


def current_role(context: AppContext) -> Role:
    """The role the gate established for this update (staff handlers run only after it)."""
    role = context.staff_role
    if role is None:
        raise RuntimeError("staff handler reached without passing the staff gate")
    return role
