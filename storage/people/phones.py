"""Phone numbers (pure): read in any common format with `phonenumbers` (Google's libphonenumber
metadata) and stored in E.164 ("+4915123456785"), so "+49 151 23456785", "0151 2345678 5" and
"0151-23456785" are one number. A national number needs the shop's region (DEFAULT_REGION)."""

from __future__ import annotations

import re

import phonenumbers

MAX_CHARS = 40  # longer than any phone number written with spaces and dashes
_PHONE_CHARS = re.compile(r"[0-9+()\-./ \u00a0]+")


def looks_like_phone(text: str) -> bool:
    """Only digits and what people put between them; at least 5 digits."""
    text = text.strip()
    return (
        bool(text)
        and len(text) <= MAX_CHARS
        and _PHONE_CHARS.fullmatch(text) is not None
        and sum(c.isdigit() for c in text) >= 5
    )


def parse(text: str, region: str | None) -> str | None:
    """The E.164 form of a possible number, or None. "+…" needs no region; "0151 …" needs one."""
    if not looks_like_phone(text):
        return None
    try:
        number = phonenumbers.parse(text, region.upper() if region else None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize(text: str, region: str | None = None) -> str:
    """What we store: E.164 where phonenumbers reads the number, else "+" and the digits (the form
    stored before phonenumbers, kept for numbers it cannot read); "" for no digits."""
    parsed = parse(text, region)
    if parsed is not None:
        return parsed
    digits = re.sub(r"[^0-9]", "", text)
    return f"+{digits}" if digits else ""


def masked(phone: str | None) -> str:
    """ "+49•••••••85": enough for an agent to tell two customers apart, not enough to call them."""
    if not phone:
        return ""
    return phone[:3] + "•" * max(0, len(phone) - 5) + phone[-2:]
