"""SQLite statements in one trip to the driver's thread.

SQLAlchemy's aiosqlite adapter makes four trips to aiosqlite's thread for every statement (open a
cursor, execute, fetch the rows, close): each is a queue put, a thread wake-up and a
call_soon_threadsafe back to the event loop, about 0.1 ms of the loop's time under load, while SQLite
answers an indexed SELECT in 4 µs (benchmarks/updates.py prints both). This cursor runs the statement,
fetches every row and closes in one trip. The statement still runs on the connection's own thread, so a
long query never blocks the event loop, and statements on one connection still run in the order sent.

It replaces only the plain (buffered) cursor of SQLAlchemy's aiosqlite dialect, through the `module`
argument of create_async_engine; server-side cursors (`stream()`) keep SQLAlchemy's own. It leans on two
names aiosqlite keeps private (`Connection._execute`, `Connection._conn`): tests/storage/core/test_db.py
runs every statement of the suite through it, so a release that renames them fails loudly.
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

Outcome = tuple[Any, list[Any], int, int | None]  # description, rows, rowcount, lastrowid


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> Outcome:
    """On the driver's thread: the whole statement, rows included."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else []
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneTripCursor(AsyncAdapt_aiosqlite_cursor):
    """A buffered cursor whose every statement is one trip to the driver's thread."""

    __slots__ = ("_outcome", "_size")
    _awaitable_cursor_close = False

    def __init__(self, adapt_connection: Any) -> None:  # no driver cursor to open: nothing awaited
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._outcome: Outcome = (None, [], -1, None)
        self._size = 1

    @property
    def description(self) -> Any:
        return self._outcome[0]

    @property
    def rowcount(self) -> int:
        return self._outcome[2]

    @property
    def lastrowid(self) -> int:
        return self._outcome[3]  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._size

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._size = value

    async def _async_soft_close(self) -> None:
        return None  # the rows are already here and the driver's cursor is closed

    def close(self) -> None:
        self._rows.clear()

    def _trip(self, operation: Any, parameters: Any, many: bool) -> None:
        driver: aiosqlite.Connection = self._connection  # type: ignore[assignment]
        try:
            trip = driver._execute(_run, driver._conn, operation, parameters, many)  # type: ignore[no-untyped-call]
            self._outcome = await_(trip)
        except Exception as error:
            self._adapt_connection._handle_exception(error)
        self._rows = deque(self._outcome[1])

    def execute(self, operation: Any, parameters: Any = None) -> Any:
        self._trip(operation, parameters, False)

    def executemany(self, operation: Any, seq_of_parameters: Any) -> Any:
        self._trip(operation, seq_of_parameters, True)


class OneTripConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ()
    _cursor_cls = OneTripCursor


class OneTripDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI shim whose connections hand out OneTripCursor."""

    def connect(self, *arg: Any, **kw: Any) -> OneTripConnection:
        connection = aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True  # as SQLAlchemy's shim does: never hold the process open
        return OneTripConnection(self, await_(connection))  # type: ignore[arg-type]  # as SQLAlchemy's


def dbapi() -> OneTripDBAPI:
    return OneTripDBAPI(aiosqlite, sqlite3)
