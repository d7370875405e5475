"""A photo of a member's QR code, captioned /find, in the staff group: the customer's card, as /find
with the code would show it. For a counter without a phone camera app that opens links, or a QR code
photographed earlier. The photo is downloaded and read before any transaction, the decoding in a
worker thread (tens of milliseconds for a full-size photo: not on the event loop)."""

from __future__ import annotations

import asyncio
import io

import zxingcpp
from PIL import Image, UnidentifiedImageError
from telegram import Update

from handlers.common import language_for
from handlers.context import AppContext
from handlers.staff import find
from storage.people import member_codes

MAX_PIXELS = 40_000_000  # Telegram's photos are at most 2560 px a side; anything far bigger is refused


def codes_in(image: bytes) -> list[str]:
    """The member codes in the QR codes of an image (none when it is not an image)."""
    try:
        with Image.open(io.BytesIO(image)) as picture:
            if picture.width * picture.height > MAX_PIXELS:
                return []
            found = zxingcpp.read_barcodes(picture.convert("L"), formats=zxingcpp.BarcodeFormat.QRCode)
    except (UnidentifiedImageError, OSError, ValueError):
        return []
    codes = (member_codes.from_scanned(result.text) for result in found)
    return list(dict.fromkeys(code for code in codes if code is not None))


async def from_photo(update: Update, context: AppContext) -> None:
    """A photo captioned /find: the card of each member code found in it, or a clear answer."""
    message = update.effective_message
    lang = language_for(update, context)
    if not message.photo:
        return
    file = await message.photo[-1].get_file()  # the largest size Telegram keeps
    image = bytes(await file.download_as_bytearray())
    codes = await asyncio.to_thread(codes_in, image)
    if not codes:
        await message.reply_text(context.t(lang, "staff.scan_none"))
        return
    await find.show_cards(message, context, lang, codes[0], timeline=True)  # one card per photo
