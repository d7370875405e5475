"""/note and /tag in the staff group: what staff write about a customer and the labels they give them.

/note <customer> <text> keeps a note, /note <customer> lists the newest, /note delete <id> removes one
(its author, or an admin). /tag <customer> vip -old adds vip and removes old; /tag <customer> lists."""

from __future__ import annotations

from telegram import Message, Update

from handlers.authority import current_role
from handlers.common import command_args, display_name, language_for
from handlers.context import AppContext
from handlers.loyalty_text import local
from handlers.replies import pack
from handlers.staff import lookup
from storage.care import notes, tags
from storage.care.notes import NoteRefused
from storage.care.tags import TagRefused
from storage.core import audit, inputs
from storage.core.inputs import InputRefused
from storage.people import staff
from storage.people.models import Customer
from storage.people.staff import Role

DELETE = ("delete", "del", "删除")


def _who(customer: Customer) -> str:
    return f"#{customer.id} {display_name(customer.first_name, customer.last_name)}"


async def note(update: Update, context: AppContext) -> None:
    """/note <customer> [text] · /note delete <note id>"""
    message = update.effective_message
    lang = language_for(update, context)
    words = command_args(message).split(maxsplit=1)
    if not words:
        await message.reply_text(context.t(lang, "notes.usage", max=notes.NOTE_MAX))
        return
    if words[0].lower() in DELETE:
        await _delete(update, context, words[1] if len(words) > 1 else "")
        return
    if len(words) == 1:
        await _list(message, context, lang, words[0])
        return
    user = update.effective_user
    try:
        async with context.unit_of_work() as session:
            found = await lookup.one(session, context, lang, words[0])
            customer = found.customer
            if customer is None:
                text = found.several or context.t(lang, "notes.unknown_customer", reference=words[0])
                context.after_commit(message.reply_text, text)
                return
            kept = await notes.add(session, customer.id, user.id, words[1], context.now())
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action="note_add",
                target=str(customer.id),
                detail={"note": kept.id},
            )
    except (NoteRefused, InputRefused) as refused:  # rolled back: nothing kept
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(context.t(lang, "notes.kept", id=kept.id, customer=_who(customer)))


async def _list(message: Message, context: AppContext, lang: str, reference: str) -> None:
    async with context.read_only() as session:
        found_customer = await lookup.one(session, context, lang, reference)
        customer = found_customer.customer
        if customer is None:
            found, total, authors = [], 0, {}
        else:
            found, total = await notes.latest(session, customer.id)
            authors = await staff.names(session, {n.staff_id for n in found})
    if customer is None:
        text = found_customer.several or context.t(lang, "notes.unknown_customer", reference=reference)
        await message.reply_text(text)
        return
    if not found:
        await message.reply_text(context.t(lang, "notes.none", customer=_who(customer)))
        return
    title = context.t(lang, "notes.title", customer=_who(customer), shown=len(found), total=total)
    lines = [
        context.t(
            lang,
            "notes.line",
            id=n.id,
            date=local(n.created_at, context.config.staff_timezone),
            author=authors.get(n.staff_id, str(n.staff_id)),
            text=n.text,
        )
        for n in found
    ]
    for text in pack([title, *lines], "\n"):
        await message.reply_text(text)


async def _delete(update: Update, context: AppContext, word: str) -> None:
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    note_id = inputs.int_or_none(word.strip(), low=1, high=inputs.MAX_ID, hash_ok=True)
    if note_id is None:
        await message.reply_text(context.t(lang, "notes.usage", max=notes.NOTE_MAX))
        return
    try:
        async with context.unit_of_work() as session:
            removed = await notes.remove(
                session, note_id, user.id, any_author=current_role(context) >= Role.ADMIN
            )
            await audit.record(
                session,
                actor_id=user.id,
                chat_id=message.chat_id,
                action="note_remove",
                target=str(removed.customer_id),
                detail={"note": note_id},
            )
    except NoteRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(context.t(lang, "notes.removed", id=note_id))


async def tag(update: Update, context: AppContext) -> None:
    """/tag <customer> [tag | -tag ...]"""
    message, user = update.effective_message, update.effective_user
    lang = language_for(update, context)
    words = command_args(message).split()
    if not words:
        await message.reply_text(context.t(lang, "tags.usage", max=tags.TAG_MAX))
        return
    try:
        changes = [(w.startswith("-"), tags.normalise(w.removeprefix("-"))) for w in words[1:]]
    except TagRefused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    try:
        async with context.unit_of_work() as session:
            found = await lookup.one(session, context, lang, words[0])
            customer = found.customer
            if customer is None:
                text = found.several or context.t(lang, "tags.unknown_customer", reference=words[0])
                context.after_commit(message.reply_text, text)
                return
            for removing, name in changes:
                if removing:
                    changed = await tags.remove(session, customer.id, name)
                else:
                    changed = await tags.add(session, customer.id, name, user.id, context.now())
                if changed:
                    await audit.record(
                        session,
                        actor_id=user.id,
                        chat_id=message.chat_id,
                        action="tag_remove" if removing else "tag_add",
                        target=str(customer.id),
                        detail={"tag": name},
                    )
            now_tagged = (await tags.of(session, [customer.id])).get(customer.id, ())
    except TagRefused as refused:  # rolled back: no tag changed
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    shown = ", ".join(now_tagged) if now_tagged else context.t(lang, "staff.none")
    await message.reply_text(context.t(lang, "tags.shown", customer=_who(customer), tags=shown))
