"""/staff lists staff and roles; /promote and /demote (owners only) change admins."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.authority import current_role
from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.paging import Listing
from storage.core import audit
from storage.people import staff
from storage.people.staff import Role, RoleChangeRefused

LIST = "st"  # /staff in handlers.paging


async def list_staff(update: Update, context: AppContext) -> None:
    async with context.read_only() as session:
        listed = await listing(update, context, session)
    await paging.reply(update.effective_message, context, LIST, listed)


async def listing(update: Update, context: AppContext, session: AsyncSession) -> Listing:
    lang = language_for(update, context)
    members = await staff.list_staff(session)
    lines = [
        context.t(
            lang,
            "staff.member_line",
            role=context.t(lang, f"staff.role_{m.role.label}"),
            name=m.name,
            username=f"@{m.username}" if m.username else "",
            id=m.telegram_id,
        )
        for m in members
    ]
    title = context.t(lang, "staff.list_title")
    return Listing(lang, title, lines, title)


async def _change(update: Update, context: AppContext, role: Role) -> None:
    message, actor = update.effective_message, update.effective_user
    lang = language_for(update, context)
    reference = command_args(message)
    if not reference:
        await message.reply_text(context.t(lang, "staff.role_usage"))
        return
    async with context.unit_of_work() as session:
        member = await staff.find_member(session, reference)
        if member is None:
            context.after_commit(
                message.reply_text, context.t(lang, "staff.refused_unknown", reference=reference)
            )
            return
        try:
            member = await staff.set_role(session, current_role(context), member.telegram_id, role)
        except RoleChangeRefused as refused:  # nothing changed: told once the (empty) work has committed
            context.after_commit(message.reply_text, context.t(lang, refused.code))
            return
        await audit.record(
            session,
            actor_id=actor.id,
            chat_id=message.chat_id,
            action="promote" if role == Role.ADMIN else "demote",
            target=str(member.telegram_id),
            detail={"role": role.label},
        )
    await message.reply_text(
        context.t(
            lang, "staff.role_changed", name=member.name, role=context.t(lang, f"staff.role_{role.label}")
        )
    )


async def promote(update: Update, context: AppContext) -> None:
    await _change(update, context, Role.ADMIN)


async def demote(update: Update, context: AppContext) -> None:
    await _change(update, context, Role.AGENT)
