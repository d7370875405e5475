"""/owner for admins: who looks after a customer (their regular-care tasks go to them), and handing
every customer of a leaving staff member to someone else in one command.

/owner <customer> @staff|me|none · /owner <customer> · /owner reassign @from @to|none"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession
from telegram import Update

from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from storage.core import audit
from storage.people import customers, staff

TEAM = ("none", "team", "-")


async def _member(session: AsyncSession, word: str, me: int) -> int | str | None:
    """A staff member's id for `word` ("me", "@name", an id), None for the team, or the word back
    when nobody matches."""
    if word.lower() in TEAM:
        return None
    if word.lower() == "me":
        return me
    member = await staff.find_member(session, word)
    return member.telegram_id if member is not None else word


async def command(update: Update, context: AppContext) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    words = command_args(message).split()
    if not words or len(words) > 3:
        await message.reply_text(context.t(lang, "owners.usage"))
        return
    async with context.unit_of_work() as session:
        if words[0].lower() == "reassign":
            if len(words) != 3:
                context.after_commit(message.reply_text, context.t(lang, "owners.usage"))
                return
            source, target = (
                await _member(session, words[1], user.id),
                await _member(session, words[2], user.id),
            )
            unknown = next(
                (w for w, m in ((words[1], source), (words[2], target)) if isinstance(m, str)), None
            )
            if unknown is not None or source is None:
                context.after_commit(
                    message.reply_text, context.t(lang, "owners.unknown_staff", reference=unknown or words[1])
                )
                return
            assert not isinstance(source, str) and not isinstance(target, str)
            moved = await customers.reassign_customers(session, source, target)
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action="owner_reassign",
                target=str(source),
                detail={"to": target, "customers": moved},
            )
            names = await staff.names(session, [source, target])
            text = context.t(
                lang,
                "owners.reassigned",
                count=moved,
                source=names.get(source, str(source)),
                target=names.get(target, str(target)) if target else context.t(lang, "owners.team"),
            )
            context.after_commit(message.reply_text, text)
            return
        customer = await customers.find(session, words[0], by_phone=True)  # admins only
        if customer is None:
            context.after_commit(
                message.reply_text, context.t(lang, "owners.unknown_customer", reference=words[0])
            )
            return
        who = f"#{customer.id} {display_name(customer.first_name, customer.last_name)}"
        if len(words) == 1:
            current = customer.account_manager_id
            name = (await staff.names(session, [current])).get(current or 0) if current else None
            context.after_commit(
                message.reply_text,
                context.t(lang, "owners.current", customer=who, owner=name or context.t(lang, "owners.team")),
            )
            return
        chosen = await _member(session, words[1], user.id)
        if isinstance(chosen, str):
            context.after_commit(
                message.reply_text, context.t(lang, "owners.unknown_staff", reference=chosen)
            )
            return
        await customers.set_account_manager(session, customer, chosen)
        await audit.record(
            session,
            actor_id=user.id,
            chat_id=message.chat_id,
            action="owner_set",
            target=str(customer.id),
            detail={"owner": chosen},
        )
        name = (await staff.names(session, [chosen])).get(chosen or 0) if chosen else None
    await message.reply_text(
        context.t(lang, "owners.set", customer=who, owner=name or context.t(lang, "owners.team"))
    )
