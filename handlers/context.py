"""What handlers reach through the typed CallbackContext: the runtime built by bot.app."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from telegram.ext import CallbackContext, ExtBot

from storage.core import stored_settings
from storage.core.clock import Clock
from storage.core.config import Config
from storage.core.live_cards import CardBuffer
from storage.people.customers import SeenBuffer
from storage.people.staff import Role

Talk = tuple[Callable[..., Awaitable[Any]], tuple[Any, ...], dict[str, Any]]


class Texts(Protocol):
    def __call__(self, language: str, key: str, /, **params: Any) -> str: ...


@dataclass
class Runtime:
    """Factories and shared objects; never a session (one session per update)."""

    sessions: async_sessionmaker[AsyncSession]
    config: Config
    clock: Clock
    texts: Texts
    # Read-only units of work (on SQLite: their own connections, never the write lock).
    reads: async_sessionmaker[AsyncSession] | None = None
    seen: SeenBuffer = field(default_factory=SeenBuffer)
    cards: CardBuffer = field(default_factory=CardBuffer)
    # STAFF_CHAT_ID given in the environment: it wins over the group chosen in Telegram (bot_settings).
    fixed_staff_chat: bool = False

    def __post_init__(self) -> None:
        if self.reads is None:
            self.reads = self.sessions
        self.fixed_staff_chat = self.fixed_staff_chat or self.config.staff_chat_id is not None

    def use_staff_chat(self, chat_id: int | None) -> None:
        """The staff group chosen in Telegram becomes the one every filter, guard and tick reads (they
        read `config` at run time), unless the environment fixed it."""
        if not self.fixed_staff_chat and chat_id != self.config.staff_chat_id:
            self.config = replace(self.config, staff_chat_id=chat_id)

    async def load_stored_settings(self) -> None:
        """At start and on every tick: another instance may have chosen the staff group."""
        if self.fixed_staff_chat:
            return
        async with (self.reads or self.sessions).begin() as session:
            chat_id = await stored_settings.staff_chat_id(session)
        self.use_staff_chat(chat_id)


@dataclass
class CommandBook:
    """The commands registered, as handlers.authority.Registry declared them: a customer's (in a private
    chat) and the staff's with the least role each needs, in registration order."""

    customer: list[str] = field(default_factory=list)
    staff: dict[str, Role] = field(default_factory=dict)

    def for_role(self, role: Role) -> list[str]:
        return [name for name, needed in self.staff.items() if role >= needed]


class BotData:
    """Application.bot_data: typed; the runtime plus small per-process caches."""

    runtime: Runtime

    def __init__(self) -> None:
        # (chat id, user id) -> (their status if a member, else None; when Telegram said so): membership
        self.membership: dict[tuple[int, int], tuple[str | None, datetime]] = {}
        # Which commands exist, for whom (filled by handlers.authority.Registry): /help and suggestions.
        self.commands = CommandBook()


class AppContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    # Set by the staff guard (handlers.authority) for this update (one context serves all its handlers).
    staff_role: Role | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._talk: list[list[Talk]] = []  # one list per open unit of work (innermost last)

    @property
    def runtime(self) -> Runtime:
        return self.bot_data.runtime

    @property
    def config(self) -> Config:
        return self.bot_data.runtime.config

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[AsyncSession]:
        """One transaction for this update: commits on success, rolls back on an exception. What the
        handler says inside it (after_commit) is said once it has committed."""
        async with self._transaction(self.bot_data.runtime.sessions) as session:
            yield session

    @asynccontextmanager
    async def read_only(self) -> AsyncIterator[AsyncSession]:
        """A read-only unit of work: on SQLite its own connection, never waiting for the write lock."""
        reads = self.bot_data.runtime.reads or self.bot_data.runtime.sessions
        async with self._transaction(reads) as session:
            yield session

    @asynccontextmanager
    async def _transaction(self, factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
        talk: list[Talk] = []
        self._talk.append(talk)
        try:
            async with factory.begin() as session:
                yield session
        finally:
            self._talk.remove(talk)
        for call, args, kwargs in talk:  # committed: now tell people (nothing if it rolled back)
            await call(*args, **kwargs)

    def after_commit(self, call: Callable[..., Awaitable[Any]], /, *args: Any, **kwargs: Any) -> None:
        """Decide and commit, then talk: `await call(*args, **kwargs)` once the open unit of work has
        committed (a reply, an answer, an edit); dropped if it rolls back."""
        if not self._talk:
            raise RuntimeError("after_commit() outside a unit of work: await the call instead")
        self._talk[-1].append((call, args, kwargs))

    def now(self) -> datetime:
        return self.bot_data.runtime.clock.now()

    def t(self, language: str, key: str, /, **params: Any) -> str:
        return self.bot_data.runtime.texts(language, key, **params)
