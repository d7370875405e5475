"""What handlers reach through the typed CallbackContext: the runtime built by bot.app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext, ExtBot

from storage.core.clock import Clock
from storage.core.config import Config
from storage.people.staff import Role


class Texts(Protocol):
    def __call__(self, language: str, key: str, /, **params: Any) -> str: ...


@dataclass
class Runtime:
    """Factories and shared objects; never a session (one session per update)."""

    sessions: async_sessionmaker[AsyncSession]
    config: Config
    clock: Clock
    texts: Texts


class BotData:
    """Application.bot_data: typed; the runtime plus small per-process caches."""

    runtime: Runtime

    def __init__(self) -> None:
        # user id -> when this process last recorded them as seen (saves a write per update)
        self.last_seen: dict[int, datetime] = {}
        # (chat id, user id) -> (member?, when Telegram said so): handlers.membership
        self.membership: dict[tuple[int, int], tuple[bool, datetime]] = {}


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    # Set by the staff guard (handlers.authority) for this update (one context serves all its handlers).
    staff_role: Role | None = None

    @property
    def runtime(self) -> Runtime:
        return self.bot_data.runtime

    @property
    def config(self) -> Config:
        return self.bot_data.runtime.config

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction for this update: commits on success, rolls back on an exception."""
        async with self.bot_data.runtime.sessions.begin() as session:
            yield session

    def now(self) -> datetime:
        return self.bot_data.runtime.clock.now()

    def t(self, language: str, key: str, /, **params: Any) -> str:
        return self.bot_data.runtime.texts(language, key, **params)
