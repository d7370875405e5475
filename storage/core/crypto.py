"""Personal data encrypted at rest: one secret from the environment (ENGAGEBOT_SECRET_KEY), two keys
derived from it with HKDF (one encrypts, one makes blind indexes), and the column types that use them.

Fernet (AES-128-CBC + HMAC-SHA256, from `cryptography`) rather than raw AES-GCM: its tokens are
authenticated and versioned, a fresh random IV per token needs no nonce bookkeeping from us, and
MultiFernet decrypts with the current key or any old one, which makes rotation (storage.rekey) a
resumable loop with no "which key was this?" column. Tokens are longer (a phone number becomes 100
characters), which a CRM of thousands of customers does not feel.

A blind index is HMAC-SHA256 of the normalised value (a phone in E.164) under the index key, cut to
128 bits (32 hex characters): equal values give equal indexes, so staff still find a customer by
phone, and without the key the index says nothing. During a rotation rows carry indexes under the old
or the new key: lookups ask for every key's index (`blind_indexes`).

The keyring is configured once at start (bot.app.build_application, the CLI, the tests' conftest)."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import JSON, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

KEY_ENV = "ENGAGEBOT_SECRET_KEY"
OLD_KEYS_ENV = "ENGAGEBOT_OLD_SECRET_KEYS"  # comma-separated; set only while `engagebot rotate-key` runs
INDEX_CHARS = 32  # 128 bits of HMAC-SHA256, hex


class BadKey(ValueError):
    """A secret that is not 32 bytes of URL-safe base64 (what new_secret() writes)."""


class NotConfigured(RuntimeError):
    """Encrypted data read or written before the keyring was configured."""


def new_secret() -> str:
    """A new secret as it goes into .env: 32 random bytes, URL-safe base64 (44 characters)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()


def _raw(secret: str) -> bytes:
    try:
        raw = base64.urlsafe_b64decode(secret.strip().encode("ascii"))
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise BadKey("not URL-safe base64") from None
    if len(raw) != 32:
        raise BadKey(f"{len(raw)} bytes instead of 32")
    return raw


def _derive(raw: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"engagebot " + purpose).derive(raw)


@dataclass(frozen=True)
class Keyring:
    """The current key first, then old ones (a rotation in progress)."""

    fernet: MultiFernet
    current: Fernet
    index_keys: tuple[bytes, ...]

    @classmethod
    def from_secrets(cls, secret: str, old: Sequence[str] = ()) -> Keyring:
        raws = [_raw(s) for s in (secret, *old) if s.strip()]
        fernets = [Fernet(base64.urlsafe_b64encode(_derive(raw, b"fernet"))) for raw in raws]
        return cls(
            fernet=MultiFernet(fernets),
            current=fernets[0],
            index_keys=tuple(_derive(raw, b"blind index") for raw in raws),
        )

    def encrypt(self, text: str) -> str:
        return self.fernet.encrypt(text.encode()).decode("ascii")

    def decrypt(self, token: str) -> str:
        return self.fernet.decrypt(token.encode("ascii")).decode()

    def is_current(self, token: str) -> bool:
        """Whether the current key made this token (a rotation leaves it alone)."""
        try:
            self.current.decrypt(token.encode("ascii"))
        except InvalidToken:
            return False
        return True

    def rotate(self, token: str) -> str:
        """The same plaintext under the current key (InvalidToken if no key of the ring opens it)."""
        return self.fernet.rotate(token.encode("ascii")).decode("ascii")

    def blind_index(self, value: str) -> str:
        return _index(self.index_keys[0], value)

    def blind_indexes(self, value: str) -> list[str]:
        return [_index(key, value) for key in self.index_keys]


def _index(key: bytes, value: str) -> str:
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:INDEX_CHARS]


_keyring: Keyring | None = None


def configure(secret: str, old: Sequence[str] = ()) -> Keyring:
    """Set the process's keyring (BadKey for a malformed secret)."""
    global _keyring
    _keyring = Keyring.from_secrets(secret, old)
    return _keyring


def keyring() -> Keyring:
    if _keyring is None:
        raise NotConfigured(f"no encryption key configured (set {KEY_ENV})")
    return _keyring


def is_configured() -> bool:
    return _keyring is not None


def split_old(value: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(",") if part.strip())


def blind_index(value: str) -> str:
    return keyring().blind_index(value)


def blind_indexes(value: str) -> list[str]:
    return keyring().blind_indexes(value)


class Encrypted(TypeDecorator[str]):
    """A text column stored as a Fernet token; callers read and write the plain text. Only equality
    with NULL can be asked in SQL (tokens are random): search by a blind index column instead."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(str(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().decrypt(str(value))


class EncryptedJSON(TypeDecorator[Any]):
    """A JSON column whose whole value is stored as one Fernet token (itself a JSON string, so the
    column stays JSON on both databases and no table is rebuilt); callers read and write the value.
    For JSON that may carry a free text about a person (an outbox message's parameters) and that SQL
    never looks inside."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return keyring().encrypt(json.dumps(value, ensure_ascii=False))

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return json.loads(keyring().decrypt(str(value)))


ENCRYPTED_TYPES = (Encrypted, EncryptedJSON)

__all__ = [
    "BadKey",
    "Encrypted",
    "EncryptedJSON",
    "InvalidToken",
    "Keyring",
    "NotConfigured",
    "configure",
    "keyring",
]
