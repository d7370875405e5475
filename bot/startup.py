"""Start-up: checks that turn a wrong token, an unreachable Bot API or a bad DATABASE_URL into one
paragraph and an exit code (no traceback), and the short summary logged once the bot is up."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import make_url
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot.settings import Settings
from storage.core import db

EXIT_STARTUP = 3  # settings errors exit 2 (bot.cli)

BAD_TOKEN = """\
Telegram does not accept the bot token ({error}). Check TELEGRAM_BOT_TOKEN: it is the whole line \
@BotFather gave you (digits, a colon, then letters), without spaces or quotes; if the bot was deleted or \
the token revoked (/revoke), ask @BotFather for the current one. Then run the command again."""

NO_API = """\
The Telegram Bot API at {api} cannot be reached ({error}). Check this machine's internet connection, \
proxy and firewall (HTTPS to api.telegram.org), or TELEGRAM_API_URL if you run your own Bot API server. \
Then run the command again."""

BAD_DATABASE = """\
The database at {url} cannot be used ({error}). Check DATABASE_URL: for the built-in database \
sqlite+aiosqlite:///engagebot.db (the directory must exist and be writable), for PostgreSQL \
postgresql+asyncpg://user:password@host:5432/name (the server running, the database created, the \
user allowed in). Then run the command again."""


class StartupError(Exception):
    """A one-paragraph explanation of why the bot cannot start."""


def _first_line(error: BaseException) -> str:
    message = str(error).strip().splitlines()
    return f"{type(error).__name__}: {message[0][:200]}" if message else type(error).__name__


def safe_database_url(url: str) -> str:
    """The URL as it can be shown: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # a URL SQLAlchemy cannot parse is shown only by its scheme
        return url.partition(":")[0] + ":…"


def database_kind(url: str) -> str:
    """ "sqlite (engagebot.db)", "postgresql (db:5432/shop)": what the summary shows."""
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        return f"sqlite ({parsed.database or 'in memory'})"
    where = f"{parsed.host or 'localhost'}{f':{parsed.port}' if parsed.port else ''}/{parsed.database or ''}"
    return f"{backend} ({where})"


def _bad_database(url: str, error: BaseException) -> StartupError:
    return StartupError(BAD_DATABASE.format(url=safe_database_url(url), error=_first_line(error)))


def _sqlite_directory_problem(url: str) -> OSError | None:
    """A SQLite file whose directory is missing or read-only, found without connecting (aiosqlite's
    thread would report the failure after the check's event loop has closed)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    directory = Path(parsed.database).resolve().parent
    if not directory.is_dir():
        return FileNotFoundError(f"no directory {directory}")
    if not os.access(directory, os.W_OK):
        return PermissionError(f"directory {directory} is not writable")
    return None


async def check_database(url: str) -> None:
    try:
        problem = _sqlite_directory_problem(url)
        engine = db.create_engine(url)
    except Exception as error:  # an unknown scheme, a driver that is not installed, a malformed URL
        raise _bad_database(url, error) from None
    if problem is not None:
        await engine.dispose()
        raise _bad_database(url, problem)
    try:
        async with engine.connect() as connection:
            await connection.execute(text("SELECT 1"))
    except Exception as error:  # refused, unknown host, wrong password, no such file or database
        raise _bad_database(url, error) from None
    finally:
        await engine.dispose()


async def check_telegram(settings: Settings) -> str:
    """The bot's username, from getMe; StartupError for a wrong token or an unreachable API."""
    api = settings.telegram_api_url
    bot = Bot(settings.token, base_url=f"{api}/bot", base_file_url=f"{api}/file/bot")
    try:
        async with bot:  # initialize() asks getMe
            return bot.username
    except InvalidToken as error:
        raise StartupError(BAD_TOKEN.format(error=_first_line(error))) from None
    except (TimedOut, NetworkError) as error:  # TimedOut is a NetworkError; both named for the reader
        raise StartupError(NO_API.format(api=api, error=_first_line(error))) from None


async def preflight(settings: Settings) -> str:
    """Before the application is built: the database answers and Telegram knows the token."""
    await check_database(settings.database_url)
    return await check_telegram(settings)


@dataclass(frozen=True)
class Summary:
    username: str
    webhook: bool
    database_url: str
    staff_chat: int | None
    staff_chat_fixed: bool  # from STAFF_CHAT_ID (else chosen in Telegram)
    owners: int
    sender: bool
    tick_seconds: float


def summary(s: Summary) -> str:
    if s.staff_chat is None:
        staff = "not set: add the bot to a group and press “Use this group for staff” there"
    else:
        staff = f"{s.staff_chat} ({'from STAFF_CHAT_ID' if s.staff_chat_fixed else 'chosen in Telegram'})"
    owners = str(s.owners) if s.owners else "none yet: send /setup <code> (below) to the bot"
    ticks = f"every {s.tick_seconds:g} s" if s.tick_seconds > 0 else "off"
    return "\n".join(
        [
            f"engagebot is running as @{s.username}",
            f"  mode: {'webhook' if s.webhook else 'polling'}",
            f"  database: {database_kind(s.database_url)}",
            f"  staff group: {staff}",
            f"  owners: {owners}",
            f"  outbox sender: {'on' if s.sender else 'off'} · ticks: {ticks}",
        ]
    )
