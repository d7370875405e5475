"""A campaign draft's image: a photo captioned `/campaign image <name>` in the staff group attaches it
(its file_id: Telegram keeps the file, the bot sends it again by id); `/campaign image <name> off`
removes it. The text becomes the photo's caption (storage.campaigns.drafts.attach_image refuses a text
too long for one). Admins and owners (bot.app declares the photo handler's access)."""

from __future__ import annotations

from telegram import Message, Update

from handlers.authority import subcommand
from handlers.context import AppContext
from storage.campaigns import drafts
from storage.core import audit
from storage.core.refusals import Refused


async def command(context: AppContext, message: Message, rest: str) -> None:
    """`/campaign image <name> off` removes a draft's image; without a photo, say how to attach one."""
    lang = context.config.default_language
    name, _, flag = rest.partition(" ")
    if not name or flag.strip().lower() != "off":
        await message.reply_text(context.t(lang, "campaigns.image_how", name=name or "spring"))
        return
    await _set_image(context, message, name, None)


async def upload_image(update: Update, context: AppContext) -> None:
    """A photo captioned `/campaign image <name>` in the staff group: the draft's image (its largest
    size's file_id: Telegram keeps the file, the bot sends it again by id)."""
    message = update.effective_message
    if message is None or not message.photo:
        return
    sub, rest = subcommand(message)
    name = rest.split(maxsplit=1)[0] if rest else ""
    if sub != "image" or not name:
        await message.reply_text(
            context.t(context.config.default_language, "campaigns.image_how", name=name or "spring")
        )
        return
    await _set_image(context, message, name, message.photo[-1].file_id)


async def _set_image(context: AppContext, message: Message, name: str, photo: str | None) -> None:
    lang = context.config.default_language
    try:
        async with context.unit_of_work() as session:
            campaign = await drafts.attach_image(session, name, photo, context.now())
            await audit.record(
                session,
                actor_id=(message.from_user.id if message.from_user else 0),
                chat_id=message.chat_id,
                action="campaign image",
                target=campaign.name,
                detail={"image": photo is not None},
            )
    except Refused as refused:  # rolled back: the draft is as it was
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    done = "campaigns.image_set" if photo else "campaigns.image_removed"
    await message.reply_text(context.t(lang, done, name=campaign.name))
