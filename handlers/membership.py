"""Who is a member of the staff group now: asked of Telegram (getChatMember), remembered briefly, and
kept current by chat_member updates. Leaving or being removed revokes the staff role."""

from __future__ import annotations

import logging
from datetime import timedelta

from telegram import ChatMember, Update
from telegram.error import TelegramError

from handlers.context import AppContext
from storage.core import audit
from storage.people import staff

log = logging.getLogger(__name__)

# Long enough to spare Telegram a request per staff action, short enough that a removal Telegram did not
# tell us about (the bot is not an administrator, so it gets no chat_member updates) counts soon.
REMEMBER_FOR = timedelta(seconds=60)
_MAX_REMEMBERED = 10_000


def _is_member(member: ChatMember) -> bool:
    if member.status in (ChatMember.OWNER, ChatMember.ADMINISTRATOR, ChatMember.MEMBER):
        return True
    return member.status == ChatMember.RESTRICTED and bool(getattr(member, "is_member", False))


def _status(member: ChatMember) -> str | None:
    return str(member.status) if _is_member(member) else None


def _remember(context: AppContext, chat_id: int, user_id: int, status: str | None) -> None:
    known = context.bot_data.membership
    if len(known) >= _MAX_REMEMBERED:
        known.clear()
    known[(chat_id, user_id)] = (status, context.now())


async def member_status(context: AppContext, chat_id: int, user_id: int) -> str | None:
    """user_id's status in chat_id ("creator", "administrator", "member", "restricted") while they
    belong to it now; None when they do not, or (closed) when Telegram cannot tell us."""
    known = context.bot_data.membership.get((chat_id, user_id))
    if known is not None and context.now() - known[1] < REMEMBER_FOR:
        return known[0]
    try:
        status = _status(await context.bot.get_chat_member(chat_id, user_id))
    except TelegramError as error:
        log.warning("membership of %s in %s unknown (%s): treated as not a member", user_id, chat_id, error)
        return None
    _remember(context, chat_id, user_id, status)
    return status


async def is_member(context: AppContext, chat_id: int, user_id: int) -> bool:
    """Whether user_id belongs to chat_id now; False (closed) when Telegram cannot tell us."""
    return await member_status(context, chat_id, user_id) is not None


async def track(update: Update, context: AppContext) -> None:
    """A chat_member update for the staff group: remember it; a member who left loses their role."""
    change = update.chat_member
    staff_chat = context.config.staff_chat_id
    if change is None or staff_chat is None or change.chat.id != staff_chat:
        return
    user = change.new_chat_member.user
    status = _status(change.new_chat_member)
    _remember(context, staff_chat, user.id, status)
    if status is not None:
        return
    async with context.unit_of_work() as session:
        revoked = await staff.revoke(session, user.id)
        if revoked is not None:
            await audit.record(
                session,
                actor_id=change.from_user.id,
                chat_id=staff_chat,
                action="staff_left",
                target=str(user.id),
                detail={"role": revoked, "status": change.new_chat_member.status},
            )
