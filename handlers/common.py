"""Small helpers every capability uses: who is talking, in which language, and replying."""

from __future__ import annotations

import re

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Message, Update
from telegram.constants import ChatType

from handlers.context import AppContext
from storage.people import customers
from storage.people.models import Customer


def language_for(update: Update, context: AppContext, customer: Customer | None = None) -> str:
    """The customer's chosen language, else Telegram's language_code, else the default."""
    if customer is not None:
        return customer.language
    user = update.effective_user
    return customers.language_from_code(user.language_code if user else None, context.config.default_language)


def is_private(update: Update) -> bool:
    return bool(update.effective_chat and update.effective_chat.type == ChatType.PRIVATE)


def is_staff_chat(update: Update, context: AppContext) -> bool:
    chat = update.effective_chat
    return (
        chat is not None
        and context.config.staff_chat_id is not None
        and chat.id == context.config.staff_chat_id
    )


def command_args(message: Message) -> str:
    """Everything after the command, as typed: the command ends where Telegram's bot_command entity
    ends, exactly as CommandHandler reads it (context.args splits on spaces and loses line breaks)."""
    text, entities = message.text or message.caption or "", message.entities or message.caption_entities
    if entities and entities[0].type == "bot_command" and entities[0].offset == 0:
        return text[entities[0].length :].strip()
    _, _, rest = text.partition(" ")
    return rest.strip()


# Han, kana and Hangul (and the CJK extension planes): scripts that write the family name first.
_FAMILY_FIRST = re.compile(
    r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af\U00020000-\U0003134f]+"
)


def display_name(first_name: str, last_name: str | None) -> str:
    """A full name in the order its script uses: "Kim Lee", and 李伟 for first name 伟, last name 李
    (family name first, no space) when both are written in Chinese, Japanese or Korean characters."""
    if not last_name:
        return first_name
    if _FAMILY_FIRST.fullmatch(first_name.strip()) and _FAMILY_FIRST.fullmatch(last_name.strip()):
        return f"{last_name.strip()}{first_name.strip()}"
    return f"{first_name} {last_name}".strip()


async def joined_customer(update: Update, context: AppContext, session: AsyncSession) -> Customer | None:
    """The customer pressing or writing; None when not joined, and then they are told to /start first
    once the unit of work `session` belongs to has ended (context.after_commit: no talk inside it)."""
    user = update.effective_user
    customer = await customers.get(session, user.id) if user else None
    if customer is None:
        text = context.t(language_for(update, context), "common.join_first")
        if update.callback_query is not None:
            context.after_commit(update.callback_query.answer, text, show_alert=True)
        elif update.effective_message is not None:
            context.after_commit(update.effective_message.reply_text, text)
    return customer
