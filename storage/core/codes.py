"""Short codes people read aloud: no 0/O, 1/I/L, so a voucher code survives a phone call."""

from __future__ import annotations

import secrets

ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # 31 symbols; 8 of them ≈ 2^39.6 codes


CODE_LENGTH = 8


def new_code(length: int = CODE_LENGTH) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def plausible(code: str, length: int = CODE_LENGTH) -> bool:
    """Could this (normalized) code be one of ours?"""
    return len(code) == length and all(ch in ALPHABET for ch in code)


def normalize(code: str) -> str:
    """What staff type ("ab-cd 2345", "abcd2345") to the stored form."""
    return "".join(ch for ch in code.upper() if ch.isalnum())
