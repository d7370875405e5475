"""storage.core.db: on a SQLite file, read-only units of work have their own connections that never wait
for the write lock and cannot write; on PostgreSQL the read engine is the engine itself."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import cast

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage import migrate
from storage.core import db


async def test_a_reader_does_not_wait_for_a_writer_holding_the_lock(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engage.db'}"
    engine = db.create_engine(url)
    readers = db.create_read_engine(url, engine)
    await migrate.upgrade(engine)
    writes, reads = db.create_session_factory(engine), db.create_session_factory(readers)
    try:
        holding, release = asyncio.Event(), asyncio.Event()

        async def writer() -> None:
            async with writes.begin() as session:  # BEGIN IMMEDIATE: holds the write lock
                await session.execute(text("UPDATE customers SET first_name = first_name"))
                holding.set()
                await release.wait()

        task = asyncio.create_task(writer())
        async with asyncio.timeout(10):  # only so a broken writer fails the test instead of hanging it
            await asyncio.wait(
                [task, asyncio.create_task(holding.wait())], return_when=asyncio.FIRST_COMPLETED
            )
        assert holding.is_set(), task.exception()
        async with reads.begin() as session:  # would block for the busy timeout on the write engine
            count = (await session.execute(text("SELECT count(*) FROM customers"))).scalar_one()
        assert count == 0
        assert not task.done()  # the writer still holds its lock: the read did not wait for it
        release.set()
        await task
    finally:
        await readers.dispose()
        await engine.dispose()


async def test_a_read_only_unit_of_work_cannot_write(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'engage.db'}"
    engine = db.create_engine(url)
    readers = db.create_read_engine(url, engine)
    await migrate.upgrade(engine)
    try:
        with pytest.raises(OperationalError, match="readonly"):
            async with db.create_session_factory(readers).begin() as session:
                await session.execute(text("DELETE FROM customers"))
    finally:
        await readers.dispose()
        await engine.dispose()


def test_postgres_and_memory_read_through_the_engine_itself() -> None:
    engine = cast(AsyncEngine, object())  # only passed through
    for url in (
        "postgresql+asyncpg://u:p@localhost/x",
        "sqlite+aiosqlite://",
        "sqlite+aiosqlite:///:memory:",
    ):
        assert db.create_read_engine(url, engine) is engine
