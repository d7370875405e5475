"""Every encrypted value under the current key: what `engagebot rotate-key` runs once the new key is
current and the old one kept as an old key (storage.core.crypto), and the probe that tells at start
whether the key opens the data already stored.

The encrypted columns are found in the metadata (every column of an encrypted type, Encrypted or
EncryptedJSON, in any context),
the blind indexes by their `info={"blind_index_of": <encrypted column>}`. Each table is read by id in
batches, one transaction each; a token the current key already opens is left alone and an index
already under the current key is not written, so a run that stopped midway (a crash, Ctrl-C) is
simply run again: it finds the rows done and carries on. Meant to run while the bot is stopped (a
running bot that knows only the old key could not read what is re-encrypted)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Column, Table, bindparam, inspect, select, type_coerce, update
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.types import TypeDecorator, TypeEngine

from storage import schema
from storage.core import crypto

BATCH = 500


@dataclass
class Rekeyed:
    values: int = 0  # tokens re-encrypted
    indexes: int = 0  # blind indexes recomputed


def _encrypted(column: Column[Any]) -> bool:
    kind = column.type
    return isinstance(kind, crypto.ENCRYPTED_TYPES) or isinstance(
        getattr(kind, "impl_instance", None), crypto.ENCRYPTED_TYPES
    )


def _stored(column: Column[Any]) -> TypeEngine[Any]:
    """The type the token is stored as: Text, or JSON (a JSON string) for EncryptedJSON."""
    kind: TypeEngine[Any] = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance
    return kind


def encrypted_tables() -> list[tuple[Table, list[str], dict[str, str]]]:
    """(table, its encrypted columns, blind index column -> the encrypted column it indexes)."""
    found = []
    for table in schema.metadata.sorted_tables:
        columns = [c.name for c in table.columns if _encrypted(c)]
        indexes = {c.name: c.info["blind_index_of"] for c in table.columns if "blind_index_of" in c.info}
        if columns:
            found.append((table, columns, indexes))
    return found


def _raw(table: Table, name: str) -> Any:
    """The column as stored (the token), not through its type."""
    return type_coerce(table.c[name], _stored(table.c[name])).label(name)


async def probe(engine: AsyncEngine) -> str | None:
    """One stored token (the first of any encrypted column), or None when nothing is encrypted yet or
    the tables are not migrated so far."""
    async with engine.connect() as conn:
        present = await conn.run_sync(
            lambda sync: {
                t: {c["name"] for c in inspect(sync).get_columns(t)} for t in inspect(sync).get_table_names()
            }
        )
        for table, columns, _ in encrypted_tables():
            for name in columns:
                if name in present.get(table.name, set()):
                    token = await conn.scalar(
                        select(_raw(table, name)).where(table.c[name].is_not(None)).limit(1)
                    )
                    if token is not None:
                        return str(token)
    return None


async def run(engine: AsyncEngine, *, batch: int = BATCH) -> Rekeyed:
    """Re-encrypt every token the current key did not make and recompute every blind index."""
    ring, done = crypto.keyring(), Rekeyed()
    for table, columns, indexes in encrypted_tables():
        last = 0
        while True:
            async with engine.begin() as conn:
                rows = (
                    await conn.execute(
                        select(table.c.id, *(_raw(table, c) for c in columns), *(table.c[i] for i in indexes))
                        .where(table.c.id > last)
                        .order_by(table.c.id)
                        .limit(batch)
                    )
                ).all()
                if not rows:
                    break
                last = rows[-1].id
                for row in rows:
                    changes = _changes(ring, row._mapping, columns, indexes, done)
                    if changes:
                        statement = update(table).where(table.c.id == row.id)
                        values = {k: type_coerce(bindparam(f"v_{k}"), _stored(table.c[k])) for k in changes}
                        await conn.execute(
                            statement.values(values), {f"v_{k}": v for k, v in changes.items()}
                        )
    return done


def _changes(
    ring: crypto.Keyring, row: Any, columns: list[str], indexes: dict[str, str], done: Rekeyed
) -> dict[str, str]:
    changes: dict[str, str] = {}
    for name in columns:
        token = row[name]
        if token is not None and not ring.is_current(token):
            changes[name] = ring.rotate(token)
            done.values += 1
    for index, source in indexes.items():
        token = row[source]
        if token is None:  # no value, or an erased member's tombstone: nothing to index
            continue
        fresh = ring.blind_index(ring.decrypt(token))
        if row[index] != fresh:
            changes[index] = fresh
            done.indexes += 1
    return changes
