"""/staff lists staff and roles; /promote and /demote (owners only) change admins; admins approve new
members of the staff group (STAFF_APPROVAL) from the card the bot posts when one first writes."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers import paging
from handlers.authority import APPROVAL_PREFIX, current_role
from handlers.common import command_args, language_for
from handlers.context import AppContext
from handlers.paging import Listing
from handlers.replies import edit_text
from storage.core import audit, inputs
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


async def on_approval(update: Update, context: AppContext) -> None:
    """✅ Approve / Ignore under a new member's card (admins): approved, they are an agent; ignored,
    they stay without staff commands (an owner can still /promote them later)."""
    query, user = update.callback_query, update.effective_user
    lang = language_for(update, context)
    raw_id, _, answer = (query.data or "").removeprefix(APPROVAL_PREFIX).partition(":")
    member_id = inputs.int_or_none(raw_id, low=1, high=inputs.MAX_TELEGRAM_ID)
    if member_id is None or answer not in ("y", "n"):
        await query.answer(context.t(lang, "button.stale"), show_alert=True)
        return
    approved = False
    async with context.unit_of_work() as session:
        if answer == "y":
            approved = await staff.approve(session, member_id)
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=query.message.chat.id if query.message else None,
            action="staff_approve" if answer == "y" else "staff_ignore",
            outcome="ok" if approved or answer == "n" else "already",
            target=str(member_id),
        )
        names = await staff.names(session, [member_id])
    who = names.get(member_id, str(member_id))
    key = "staff.approved" if approved else ("staff.ignored" if answer == "n" else "staff.approved_already")
    await query.answer()
    await edit_text(query.message, context.t(lang, key, name=who, by=user.first_name), None)
