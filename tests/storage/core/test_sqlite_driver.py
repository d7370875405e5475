"""storage.core.sqlite_driver: every SQLite statement the bot sends goes through one trip to the driver's
thread, and what SQLAlchemy reads back (rows, rowcount, lastrowid, errors, streamed results) is what
SQLAlchemy's own aiosqlite cursor gives."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.core import db
from storage.core.sqlite_driver import OneTripCursor

SCHEMA = "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT UNIQUE NOT NULL, n INTEGER NOT NULL)"
T = Table(
    "t", MetaData(), Column("id", Integer, primary_key=True), Column("name", String), Column("n", Integer)
)


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncEngine:
    engine = db.create_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}")
    async with engine.begin() as conn:
        await conn.exec_driver_sql(SCHEMA)
    yield engine  # type: ignore[misc]
    await engine.dispose()


async def test_the_bots_engines_use_the_one_trip_cursor(tmp_path: Path, engine: AsyncEngine) -> None:
    readers = db.create_read_engine(f"sqlite+aiosqlite:///{tmp_path / 'driver.db'}", engine)
    try:
        for each in (engine, readers):
            async with each.connect() as conn:
                raw = await conn.get_raw_connection()
                assert isinstance(raw.dbapi_connection.cursor(), OneTripCursor)  # type: ignore[union-attr]
    finally:
        await readers.dispose()


async def test_rows_rowcount_and_lastrowid(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        first = await conn.exec_driver_sql("INSERT INTO t (name, n) VALUES ('a', 1)")
        assert first.lastrowid == 1
        many = await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [
                {"name": "b", "n": 2},
                {"name": "c", "n": 3},
            ],
        )
        assert many.rowcount == 2
        changed = await conn.execute(update(T).where(text("n >= 2")).values(n=9))
        assert changed.rowcount == 2
        rows = (await conn.execute(text("SELECT name, n FROM t ORDER BY id"))).all()
        assert [tuple(r) for r in rows] == [("a", 1), ("b", 9), ("c", 9)]
        empty = await conn.execute(text("SELECT name FROM t WHERE n > 100"))
        assert list(empty.keys()) == ["name"] and empty.all() == []
        returned = await conn.execute(insert(T).values(name="d", n=4).returning(text("id")))
        assert returned.scalar_one() == 4


async def test_an_error_is_the_dbapi_error_and_changes_nothing(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.exec_driver_sql("INSERT INTO t (name, n) VALUES ('a', 1)")
    with pytest.raises(IntegrityError, match="UNIQUE"):
        async with engine.begin() as conn:
            await conn.exec_driver_sql("INSERT INTO t (name, n) VALUES ('z', 1)")
            await conn.exec_driver_sql("INSERT INTO t (name, n) VALUES ('a', 2)")
    async with engine.connect() as conn:
        names = (await conn.execute(select(text("name")).select_from(text("t")))).scalars().all()
    assert names == ["a"]  # the whole unit of work rolled back, 'z' included


async def test_streamed_results_keep_sqlalchemys_server_side_cursor(engine: AsyncEngine) -> None:
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO t (name, n) VALUES (:name, :n)"),
            [{"name": f"r{i}", "n": i} for i in range(250)],
        )
    async with engine.connect() as conn:
        result = await conn.stream(text("SELECT n FROM t ORDER BY n"))
        seen = [row.n async for row in result]
    assert seen == list(range(250))
