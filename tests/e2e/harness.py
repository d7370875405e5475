"""Runs the real Application (built by bot.app.build_application, as production builds it; only
TELEGRAM_API_URL differs) against the Bot API emulator, and gives tests people to act as."""

from __future__ import annotations

import html
import os
import re
from typing import Any

from aiohttp.web import AppRunner
from telegram import Update

from bot import web
from bot.app import build_application
from bot.i18n import Catalog
from bot.settings import Settings
from bot.ticks import TICKS
from bot.update_metrics import EngageApplication
from handlers.context import AppContext
from jobs import sender
from storage.core import db
from storage.core.clock import FakeClock
from storage.core.config import SenderConfig
from storage.people import staff
from storage.people.staff import Role
from tests.emulator import BotApiEmulator, GroupChat, UserDriver

STAFF_CHAT_ID = -1001234567890
OWNER_ID, ADMIN_ID, AGENT_ID = 9001, 9002, 9003


class Harness:
    def __init__(self, emu: BotApiEmulator, database_url: str, clock: FakeClock, **env: str) -> None:
        self.emu = emu
        self.database_url = database_url
        self.clock = clock
        self.env = {
            "TELEGRAM_BOT_TOKEN": emu.token,
            "TELEGRAM_API_URL": emu.base_url.removesuffix("/bot"),
            "DATABASE_URL": database_url,
            "STAFF_CHAT_ID": str(STAFF_CHAT_ID),
            "OWNER_IDS": str(OWNER_ID),
            "DEFAULT_TIMEZONE": "Europe/Berlin",
            # No background ticks or sender: tests run duties and deliver proactive messages explicitly
            # (harness.tick, harness.run_outbox) at moments they choose, so what people see is deterministic.
            "TICK_SECONDS": "0",
            "OUTBOX_SENDER": "off",
            # A Telegram request inside a database transaction fails the update (bot.requests).
            "STRICT_TRANSACTIONS": "on",
            # The group's members act as agents at once in these scenarios; test_staff_approval
            # turns approval on (the default of a real install).
            "STAFF_APPROVAL": "off",
            "ENGAGEBOT_SECRET_KEY": os.environ["ENGAGEBOT_SECRET_KEY"],  # tests/conftest.py's fixed key
            **env,
        }
        self.catalog = Catalog.load(currency=env.get("CURRENCY") or None)  # as the bot renders
        self.app: EngageApplication | None = None
        self._runner: AppRunner | None = None
        self.staff_group: GroupChat = emu.group(STAFF_CHAT_ID, "Staff")
        self.owner = self._staff_member(OWNER_ID, "Olga", "olga", "creator")
        self.admin = self._staff_member(ADMIN_ID, "Adam", "adam", "administrator")
        self.agent = self._staff_member(AGENT_ID, "Alice", "alice", "member")

    def _staff_member(self, user_id: int, name: str, username: str, status: str) -> UserDriver:
        self.emu.set_member(STAFF_CHAT_ID, user_id, status)
        return self.emu.user(user_id, name, username=username, language_code="en")

    @property
    def settings(self) -> Settings:
        return Settings.from_env(self.env, env_file=None)

    @property
    def sessions(self) -> Any:
        assert self.app is not None
        return self.app.bot_data.runtime.sessions

    async def start(self) -> None:
        app = build_application(self.settings, clock=self.clock)
        await app.initialize()
        assert app.post_init is not None
        await app.post_init(app)
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=5, allowed_updates=Update.ALL_TYPES)
        await app.start()
        self.app = app
        self.emu.settle = app.metrics.wait_processed

    async def start_webhook(self, port: int, secret: str, public_url: str | None = None) -> None:
        """Start in webhook mode: the emulator then POSTs updates to the bot's aiohttp server (or to
        `public_url`, a load balancer in front of several instances listening on the same path)."""
        self.env.update(
            WEBHOOK_URL=public_url or f"http://127.0.0.1:{port}/telegram/hook",
            WEBHOOK_SECRET=secret,
            LISTEN_HOST="127.0.0.1",
            LISTEN_PORT=str(port),
        )
        app = build_application(self.settings, clock=self.clock)
        self._runner = await web.start_webhook(app)
        self.app = app
        self.emu.settle = app.metrics.wait_processed

    async def stop(self) -> None:
        app, self.app = self.app, None
        if app is None:
            return
        self.emu.settle = None
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await web.stop_webhook(app, runner)
            return
        assert app.updater is not None
        await app.updater.stop()
        await app.stop()
        assert app.post_stop is not None
        await app.post_stop(app)
        await app.shutdown()
        assert app.post_shutdown is not None
        await app.post_shutdown(app)

    async def restart(self) -> None:
        """Stop and build a new Application on the same database, as after a crash and restart."""
        await self.stop()
        await self.start()

    async def grant_admin(self) -> None:
        """Record Adam as an admin, as an owner's /promote would."""
        engine = db.create_engine(self.database_url)
        try:
            async with db.create_session_factory(engine).begin() as session:
                await staff.role_in_staff_group(session, ADMIN_ID, "Adam", "adam")
                await staff.set_role(session, Role.OWNER, ADMIN_ID, Role.ADMIN)
        finally:
            await engine.dispose()

    def customer(
        self, user_id: int, first_name: str, username: str | None = None, language_code: str = "en", **kw: Any
    ) -> UserDriver:
        return self.emu.user(user_id, first_name, username=username, language_code=language_code, **kw)

    def t(self, lang: str, key: str, **params: Any) -> str:
        """A catalog text as the user reads it: Telegram shows the text, not the HTML tags."""
        return plain(self.catalog(lang, key, **params))

    async def join(self, person: UserDriver, lang: str = "en") -> None:
        """Accept the privacy notice and skip every profile step."""
        await person.send("/start")
        await person.press(self.t(lang, "onboarding.accept"))
        await person.press(self.t(lang, "profile.skip"))  # birthday
        await person.send(self.t(lang, "profile.skip"))  # phone (reply keyboard)
        await person.send(self.t(lang, "profile.skip"))  # time zone (reply keyboard)

    async def run_outbox(self) -> int:
        """Send every outbox message due at the harness clock's now (limits lifted: the sender's
        pacing is tested on its own), and return how many were sent."""
        assert self.app is not None
        runtime = self.app.bot_data.runtime
        fast = SenderConfig(rate_per_second=10_000, private_chat_interval=0, group_per_minute=100_000)
        return await sender.drain(self.app.bot, runtime.sessions, runtime.clock, runtime.texts, config=fast)

    async def tick(self, name: str) -> None:
        """Run one scheduled duty (bot.ticks.TICKS) now, as the JobQueue would."""
        assert self.app is not None
        await TICKS[name](AppContext(self.app))


def plain(html_text: str) -> str:
    """What a catalog text looks like once Telegram has parsed its HTML."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))
