"""What the migrations that encrypt stored values share (0024, 0026): the key, reading a table in
batches by id, writing a batch back, and encrypting (or, downgrading, decrypting) whole columns.

They run inside the migration's transaction (all rows or none) with the keyring the app configured
before migrating, else the one the environment names; a database with values to encrypt and no key
refuses to migrate with the revision's own explanation (nothing is lost)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.core import crypto

BATCH = 500


def keyring(no_key: str) -> crypto.Keyring:
    """The app's keyring, else one from ENGAGEBOT_SECRET_KEY; RuntimeError(no_key) without either."""
    if crypto.is_configured():
        return crypto.keyring()
    secret = os.environ.get(crypto.KEY_ENV, "").strip()
    if not secret:
        raise RuntimeError(no_key)
    return crypto.configure(secret, crypto.split_old(os.environ.get(crypto.OLD_KEYS_ENV, "")))


def batches(table: sa.Table, *columns: str, where: Any = None) -> Iterator[list[sa.Row[Any]]]:
    """Every row's id and `columns` (of the rows `where` picks), BATCH rows at a time, by id."""
    bind, last = op.get_bind(), 0
    query = sa.select(table.c.id, *(table.c[c] for c in columns))
    if where is not None:
        query = query.where(where)
    while rows := list(bind.execute(query.where(table.c.id > last).order_by(table.c.id).limit(BATCH))):
        yield rows
        last = rows[-1].id


def update(table: sa.Table, values: list[dict[str, Any]]) -> None:
    """Write each {"row_id": id, column: value, ...} back (one executemany)."""
    if values:
        keys = [k for k in values[0] if k != "row_id"]
        statement = table.update().where(table.c.id == sa.bindparam("row_id"))
        op.get_bind().execute(statement.values({k: sa.bindparam(k) for k in keys}), values)


def _change(table: sa.Table, columns: tuple[str, ...], change: Callable[[Any], Any]) -> None:
    for rows in batches(table, *columns):
        values = []
        for row in rows:
            stored = {c: getattr(row, c) for c in columns}
            if any(v is not None for v in stored.values()):
                values.append(
                    {"row_id": row.id, **{c: None if v is None else change(v) for c, v in stored.items()}}
                )
        update(table, values)


def texts(columns: Mapping[str, tuple[str, ...]], *, encrypt: bool, no_key: str) -> None:
    """Encrypt (or decrypt) every value of these text columns, {table: (column, ...)}. An empty text
    is encrypted too: the Encrypted type reads every non-NULL value as a token."""
    meta = sa.MetaData()
    for name, names in columns.items():
        table = sa.Table(name, meta, sa.Column("id", sa.Integer), *(sa.Column(c, sa.Text) for c in names))
        _change(table, names, lambda v: _text(v, encrypt, no_key))


def _text(value: str, encrypt: bool, no_key: str) -> str:
    ring = keyring(no_key)
    return ring.encrypt(value) if encrypt else ring.decrypt(value)


def documents(columns: Mapping[str, tuple[str, ...]], *, encrypt: bool, no_key: str) -> None:
    """Encrypt (or decrypt) every value of these JSON columns, {table: (column, ...)}, as the
    EncryptedJSON type stores them: the whole value's JSON text as one token, kept as a JSON string."""
    meta = sa.MetaData()
    for name, names in columns.items():
        table = sa.Table(name, meta, sa.Column("id", sa.Integer), *(sa.Column(c, sa.JSON) for c in names))
        _change(table, names, lambda v: _document(v, encrypt, no_key))


def _document(value: Any, encrypt: bool, no_key: str) -> Any:
    ring = keyring(no_key)
    return ring.encrypt(json.dumps(value, ensure_ascii=False)) if encrypt else json.loads(ring.decrypt(value))
