"""Engine and unit-of-work factory, with the per-dialect settings in one place."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_MS = 10_000


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, **kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite: WAL, foreign keys, busy timeout, and BEGIN IMMEDIATE.

    Every SQLite transaction takes the write lock up front, so two units of work never deadlock
    upgrading a read lock (SQLITE_BUSY that the busy timeout cannot resolve).
    """
    if not is_sqlite(url):
        kwargs.setdefault("pool_pre_ping", True)
        return create_async_engine(url, **kwargs)
    kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})
    # Every transaction takes the write lock, so more connections only add lock contention, and SQLite's
    # busy handler (sleep and retry) lets a busy writer starve a waiting one. One connection makes units of
    # work queue fairly in the pool instead.
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    kwargs.setdefault("pool_timeout", 60)
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Stop the driver from emitting its own deferred BEGIN; we emit BEGIN IMMEDIATE below.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for one unit of work each: `async with factory.begin() as session: ...` commits once."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def changed_rows(session: AsyncSession, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE; how many rows it changed (the conditional UPDATEs' verdict)."""
    # DML yields a CursorResult; Session.execute is typed with the general Result, which has no rowcount.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount
