"""Engine and unit-of-work factory, with the per-dialect settings in one place."""

from __future__ import annotations

import asyncio
from typing import Any, cast
from weakref import WeakKeyDictionary

from sqlalchemy import CursorResult, Executable, event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session, SessionTransaction

from storage.core import sqlite_driver

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
    kwargs.setdefault("module", sqlite_driver.dbapi())  # a statement in one trip to the driver's thread
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


SQLITE_READERS = 4


def create_read_engine(url: str, engine: AsyncEngine) -> AsyncEngine:
    """The engine for read-only units of work. On a SQLite file: its own connections in WAL mode with a
    deferred BEGIN (a snapshot that never takes or waits for the write lock) and query_only, so a read
    path cannot write by mistake. Elsewhere (PostgreSQL, SQLite in memory): `engine` itself."""
    parsed = make_url(url)
    if not is_sqlite(url) or parsed.database in (None, "", ":memory:"):
        return engine
    readers = create_async_engine(
        url,
        connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        module=sqlite_driver.dbapi(),
        pool_size=SQLITE_READERS,
        max_overflow=0,
        pool_timeout=60,
    )

    @event.listens_for(readers.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA query_only=ON")
        cursor.close()

    @event.listens_for(readers.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")  # deferred: a read snapshot, no lock taken

    return readers


def create_session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions for one unit of work each: `async with factory.begin() as session: ...` commits once."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=True)


async def changed_rows(session: AsyncSession, statement: Executable) -> int:
    """Run an INSERT, UPDATE or DELETE; how many rows it changed (the conditional UPDATEs' verdict)."""
    # DML yields a CursorResult; Session.execute is typed with the general Result, which has no rowcount.
    result = cast(CursorResult[Any], await session.execute(statement))
    return result.rowcount


# -- which asyncio task holds a transaction open ("decide and commit, then talk") -------------------
# A Telegram request made while the same task holds a database transaction keeps that transaction (and
# on SQLite the write lock) open for a network round trip; bot.requests refuses it. Counted per task,
# so a send in another task (the outbox sender, a parallel update) is never mistaken for one.
_HOLDER = "engagebot_holder"
_open_by_task: WeakKeyDictionary[asyncio.Task[Any], int] = WeakKeyDictionary()


def _current_task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:  # no running loop (a synchronous script)
        return None


@event.listens_for(Session, "after_begin")
def _transaction_began(session: Session, _transaction: SessionTransaction, _connection: Any) -> None:
    task = _current_task()
    if task is not None and _HOLDER not in session.info:
        session.info[_HOLDER] = task
        _open_by_task[task] = _open_by_task.get(task, 0) + 1


@event.listens_for(Session, "after_transaction_end")
def _transaction_ended(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is not None:  # a savepoint; the outer transaction is still open
        return
    task = session.info.pop(_HOLDER, None)
    if task is not None:
        left = _open_by_task.get(task, 1) - 1
        if left > 0:
            _open_by_task[task] = left
        else:
            _open_by_task.pop(task, None)


def transaction_open() -> bool:
    """Whether the running task holds a database transaction (with its connection) right now."""
    task = _current_task()
    return task is not None and _open_by_task.get(task, 0) > 0
