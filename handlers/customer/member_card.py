"""The member code's QR code, sent as a photo under /points and /profile (after the text, outside any
transaction). It holds the deep link https://t.me/<bot>?start=m_<code>: a staff member's phone camera
opens the bot on the customer's card (handlers.staff.find.open_member_link)."""

from __future__ import annotations

import io
from collections import OrderedDict
from functools import lru_cache

import segno
from telegram import Message
from telegram.constants import ChatAction
from telegram.error import BadRequest

from handlers.context import AppContext
from handlers.replies import chat_action
from storage.people import member_codes
from storage.people.models import Customer

SCALE = 8  # pixels per module: about 300 px, sharp enough for a phone camera across a counter
# Telegram keeps a photo once uploaded: later sends of the same QR name its file_id (a small JSON
# request) instead of uploading it again. Per process, the most recent codes; a stale id is refused by
# Telegram and the photo is uploaded again.
KNOWN_MAX = 10_000
_known: OrderedDict[str, str] = OrderedDict()


@lru_cache(maxsize=1024)
def qr_png(link: str) -> bytes:
    out = io.BytesIO()
    segno.make(link, error="m").save(out, kind="png", scale=SCALE, border=4)
    return out.getvalue()


async def send_qr(message: Message, context: AppContext, customer: Customer) -> None:
    """The customer's QR code as a photo (nothing for a row without a code: written by raw SQL)."""
    if not customer.member_code:
        return
    link = member_codes.deep_link(context.bot.username, customer.member_code)
    caption = context.t(customer.language, "points.qr_caption", code=customer.member_code)
    known = _known.get(link)
    if known is not None:
        try:
            await message.reply_photo(known, caption=caption)
            _known.move_to_end(link)
            return
        except BadRequest:  # forgotten by Telegram: upload it again
            _known.pop(link, None)
    await chat_action(context.bot, message.chat_id, ChatAction.UPLOAD_PHOTO)  # an upload, not a file_id
    sent = await message.reply_photo(qr_png(link), caption=caption)
    if sent.photo:
        _known[link] = sent.photo[-1].file_id
        while len(_known) > KNOWN_MAX:
            _known.popitem(last=False)
