"""Shared fixtures: databases on SQLite and PostgreSQL, a clock tests move, the catalog."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

# python-telegram-bot 22 warns on every RetryAfter unless told to use timedelta (the sender handles both).
os.environ.setdefault("PTB_TIMEDELTA", "true")
# A fixed key, so every test (and every migration a test runs) encrypts personal data the same way.
os.environ["ENGAGEBOT_SECRET_KEY"] = "dGVzdC1rZXktZm9yLWVuZ2FnZWJvdC10ZXN0cy0wMDA="

from bot.i18n import Catalog
from storage.core import crypto, db
from storage.core.clock import FakeClock
from tests.databases import drop_database, drop_template, new_database_url
from tests.emulator import BotApiEmulator

TEST_SECRET_KEY = os.environ["ENGAGEBOT_SECRET_KEY"]
crypto.configure(TEST_SECRET_KEY)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    asyncio.run(drop_template())


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
async def database_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    url = await new_database_url(db_kind, tmp_path)
    yield url
    await drop_database(url)


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = db.create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return db.create_session_factory(engine)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """The Bot API emulator; the test fails if the bot sent anything the Bot API reference forbids."""
    async with BotApiEmulator() as emulator:
        yield emulator
        emulator.assert_no_violations()


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return Catalog.load()
