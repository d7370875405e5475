"""The `engagebot` command: run the bot (polling or webhook) or only apply migrations."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

from telegram import Update
from telegram.error import InvalidToken, NetworkError

from bot import keys, startup
from bot.app import build_application
from bot.settings import Settings, SettingsError
from bot.web import serve_webhook
from storage import migrate
from storage.core import db


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="engagebot",
        description="A Telegram bot for customer loyalty, surveys and care. "
        "Settings come from the environment or a .env file (see README.md).",
    )
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "run", help="apply migrations and run the bot (polling, or webhook when WEBHOOK_URL is set)"
    )
    sub.add_parser("migrate", help="apply database migrations and exit")
    sub.add_parser(
        "rotate-key",
        help="encrypt the personal data with a new key (written to .env; stop the bot first; "
        "run it again if it was interrupted)",
    )
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING (default INFO)")
    return parser


async def _migrate(url: str, region: str | None) -> None:
    engine = db.create_engine(url)
    try:
        await migrate.upgrade(engine, phone_region=region)
    finally:
        await engine.dispose()


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # not a line per tick
    env_file = Path(".env")
    if args.command in ("migrate", "rotate-key"):  # need no token
        env, url = Settings.environment(None, env_file), Settings.database_url_from_env()
        try:
            if args.command == "rotate-key":
                asyncio.run(keys.rotate(env, env_file, url))
                return 0
            asyncio.run(keys.prepare(env, env_file, url))
        except startup.StartupError as error:
            print(error, file=sys.stderr)
            return startup.EXIT_STARTUP
        asyncio.run(_migrate(url, env.get("DEFAULT_REGION", "").strip() or None))
        print("database is up to date")
        return 0
    try:
        settings = Settings.from_env()
    except SettingsError as error:
        print(error, file=sys.stderr)
        return 2
    try:
        asyncio.run(keys.prepare(Settings.environment(None, env_file), env_file, settings.database_url))
        settings = Settings.from_env()  # with the key made on a first run
        asyncio.run(startup.preflight(settings))
        app = build_application(settings)
        if settings.webhook_mode:
            asyncio.run(serve_webhook(app))
        else:
            app.run_polling(allowed_updates=Update.ALL_TYPES)
    except startup.StartupError as error:
        print(error, file=sys.stderr)
        return startup.EXIT_STARTUP
    except InvalidToken as error:  # the token revoked while starting
        print(startup.BAD_TOKEN.format(error=error), file=sys.stderr)
        return startup.EXIT_STARTUP
    except NetworkError as error:  # Telegram gone between the check and the start
        api = settings.telegram_api_url
        print(startup.NO_API.format(api=api, error=error), file=sys.stderr)
        return startup.EXIT_STARTUP
    return 0


if __name__ == "__main__":
    sys.exit(main())
