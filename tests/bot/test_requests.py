"""Decide and commit, then talk: bot.requests.TransactionGuard refuses a Telegram request made while the
same task holds a database transaction, and lets every other request through."""

from __future__ import annotations

import asyncio
import logging

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.request import BaseRequest, RequestData

from bot.requests import TalkInsideTransaction, TransactionGuard

URL = "https://api.telegram.org/botTOKEN/sendMessage"


class Recorder(BaseRequest):
    def __init__(self) -> None:
        self.calls: list[str] = []

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        pass

    async def shutdown(self) -> None:
        pass

    async def do_request(
        self, url: str, method: str, request_data: RequestData | None = None, **_: object
    ) -> tuple[int, bytes]:
        self.calls.append(url)
        return 200, b'{"ok": true, "result": true}'


async def test_a_request_inside_a_transaction_is_refused(sessions: async_sessionmaker[AsyncSession]) -> None:
    inner = Recorder()
    guard = TransactionGuard(inner, strict=True)
    async with sessions.begin() as session:
        await session.execute(text("SELECT 1"))
        with pytest.raises(TalkInsideTransaction, match="sendMessage"):
            await guard.do_request(URL, "POST")
    assert inner.calls == []
    await guard.do_request(URL, "POST")  # committed: now it may talk
    assert inner.calls == [URL]


async def test_a_rolled_back_transaction_is_closed_too(sessions: async_sessionmaker[AsyncSession]) -> None:
    guard = TransactionGuard(Recorder(), strict=True)
    with pytest.raises(ZeroDivisionError):
        async with sessions.begin() as session:
            await session.execute(text("SELECT 1"))
            1 / 0  # noqa: B018
    await guard.do_request(URL, "POST")


async def test_another_task_may_talk_while_one_holds_a_transaction(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    inner = Recorder()
    guard = TransactionGuard(inner, strict=True)
    async with sessions.begin() as session:
        await session.execute(text("SELECT 1"))
        await asyncio.create_task(guard.do_request(URL, "POST"))  # e.g. the outbox sender
    assert inner.calls == [URL]


async def test_in_production_it_is_logged_and_sent(
    sessions: async_sessionmaker[AsyncSession], caplog: pytest.LogCaptureFixture
) -> None:
    inner = Recorder()
    guard = TransactionGuard(inner, strict=False)
    async with sessions.begin() as session:
        await session.execute(text("SELECT 1"))
        await guard.do_request(URL, "POST")
    assert inner.calls == [URL]
    assert "sendMessage called inside a database transaction" in caplog.text
    assert any(record.levelno == logging.ERROR for record in caplog.records)
