"""Member codes (pure): the short code a customer shows at the counter (typed, read aloud or scanned as
a QR code). Drawn from an alphabet without look-alikes (no 0/O, 1/I), so "K7M2QX" read over a counter
is never mistyped into another customer's code."""

from __future__ import annotations

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 symbols: 0, 1, O and I left out
LENGTH = 7  # 32**7 ≈ 3.4e10 codes: a random new one collides with 1,000,000 taken in 1 of 34,000
DEEP_LINK_PREFIX = "m_"  # /start m_<code>: the QR code's deep link, opened by staff
_FORM = re.compile(rf"[{ALPHABET}]{{{LENGTH}}}")


def new_code() -> str:
    """A random code with at least one letter, so a code is never read as a Telegram id or a phone
    number (uniqueness is the database's unique index; customers.join retries)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not code.isdigit():
            return code


def normalize(text: str) -> str | None:
    """The code in what someone typed or scanned ("k7m2-qx9", " K7M2QX9 "), or None when it cannot be a
    code. Case-insensitive; a dash or space in the middle is ignored."""
    raw = re.sub(r"[\s-]", "", text.strip()).upper()
    return raw if _FORM.fullmatch(raw) and not raw.isdigit() else None


def deep_link(bot_username: str, code: str) -> str:
    """What the QR code holds: a phone camera opens the bot with /start m_<code>."""
    return f"https://t.me/{bot_username}?start={DEEP_LINK_PREFIX}{code}"


def from_start_payload(payload: str) -> str | None:
    """The code in a /start payload "m_K7M2QX9", or None."""
    if not payload.startswith(DEEP_LINK_PREFIX):
        return None
    return normalize(payload[len(DEEP_LINK_PREFIX) :])


def from_scanned(text: str) -> str | None:
    """The code in what a QR code holds: the deep link (deep_link, any bot's name: the lookup decides
    whether the code is ours) or the bare code; None for anything else."""
    text = text.strip()
    if text.startswith(("https://t.me/", "http://t.me/", "t.me/")):
        _, _, query = text.partition("?")
        for pair in query.split("&"):
            key, _, value = pair.partition("=")
            if key == "start":
                return from_start_payload(value)
        return None
    return normalize(text)
