"""The member code's QR code, sent as a photo under /points and /profile (after the text, outside any
transaction). It holds the deep link https://t.me/<bot>?start=m_<code>: a staff member's phone camera
opens the bot on the customer's card (handlers.staff.find.open_member_link)."""

from __future__ import annotations

import io

import segno
from telegram import Message

from handlers.context import AppContext
from storage.people import member_codes
from storage.people.models import Customer

SCALE = 8  # pixels per module: about 300 px, sharp enough for a phone camera across a counter


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
    await message.reply_photo(qr_png(link), caption=caption)
