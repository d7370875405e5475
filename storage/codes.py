"""Short codes people read aloud: no 0/O, 1/I/L, so a voucher code survives a phone call."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # 31 symbols; 8 of them ≈ 2^39.6 codes


def new_code(length: int = 8) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def normalize(code: str) -> str:
    """What staff type ("ab-cd 2345", "abcd2345") to the stored form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
