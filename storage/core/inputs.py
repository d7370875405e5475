"""Bounded parsing of what people type and what buttons carry: numbers in ASCII digits within a range,
texts with a declared maximum, strings cut to fit a byte budget. Each refuses with a localized code, so
a handler answers "bad input" and changes nothing; nothing here lets an exception reach the user."""

from __future__ import annotations

from storage.core.refusals import Refused

# Our own row ids are INTEGER primary keys (PostgreSQL int4); Telegram ids are BIGINT (int8).
MAX_ID = 2**31 - 1
MAX_TELEGRAM_ID = 2**63 - 1
# Telegram's limit for an inline button's callback_data, in UTF-8 bytes.
CALLBACK_DATA_BYTES = 64
# Longer than any number we accept: int() is never asked to read a megabyte of digits.
_MAX_DIGITS = 20


class InputRefused(Refused):
    """`code` names the localized message: common.bad_number (value, low, high), common.too_long
    (max), or whatever the caller chose (a usage text)."""


def int_or_none(text: str, *, low: int, high: int, hash_ok: bool = False) -> int | None:
    """The integer in `text` (ASCII digits only; a leading "#" when `hash_ok`) if it lies in
    [low, high], else None. "²" or "١" are not digits here (str.isdigit says they are; int() does
    not always agree)."""
    raw = text.strip()
    if hash_ok:
        raw = raw.removeprefix("#")
    if not raw or len(raw) > _MAX_DIGITS or not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    return value if low <= value <= high else None


def parse_int(
    text: str, *, low: int, high: int, hash_ok: bool = False, code: str = "common.bad_number"
) -> int:
    """int_or_none, refusing (with the range) instead of returning None."""
    value = int_or_none(text, low=low, high=high, hash_ok=hash_ok)
    if value is None:
        raise InputRefused(code, value=text.strip()[:40], low=low, high=high)
    return value


def bounded_text(text: str, max_chars: int, *, code: str = "common.too_long") -> str:
    """`text` without surrounding blanks, refused when longer than `max_chars` (never cut silently:
    the person would not know what was kept)."""
    cleaned = text.strip()
    if len(cleaned) > max_chars:
        raise InputRefused(code, max=max_chars, length=len(cleaned))
    return cleaned


def fit_bytes(text: str, max_bytes: int = CALLBACK_DATA_BYTES) -> str:
    """The longest prefix of `text` whose UTF-8 form is at most `max_bytes` (a character is never
    split)."""
    return text.encode()[:max_bytes].decode("utf-8", "ignore")
