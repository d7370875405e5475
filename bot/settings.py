"""Settings from the environment or a .env file, built by a factory (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers

from bot import formatting
from bot.config_env import (
    SettingsError,
    birthdays_from_env,
    bulk_from_env,
    cadences_from_env,
    complaints_from_env,
    contact_from_env,
    env_number,
    env_switch,
    followups_from_env,
    insight_from_env,
    loyalty_from_env,
    recurring_from_env,
    retention_days,
    sender_from_env,
    survey_config,
    winback_from_env,
)
from storage.core import crypto, inputs
from storage.core.config import LANGUAGES, Config
from storage.people.timezones import is_valid_timezone

TELEGRAM_API_URL = "https://api.telegram.org"


NO_TOKEN = """\
engagebot needs a Telegram bot token. Open Telegram, talk to @BotFather, send /newbot and follow the \
steps; it answers with a token like 123456789:AAE... Put it in the environment as TELEGRAM_BOT_TOKEN, \
or in a file named .env in the directory you start the bot from, as a line TELEGRAM_BOT_TOKEN=<your token> \
(see .env.example). Then run the command again."""


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines; blank lines and # comments ignored; optional quotes stripped."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip().removeprefix("export ").strip()] = value
    return values


def _int(env: Mapping[str, str], key: str) -> int | None:
    value = env.get(key, "").strip()
    if not value:
        return None
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"{key} must be a whole number (a Telegram chat id), not {value!r}.") from None


def _ids(env: Mapping[str, str], key: str) -> frozenset[int]:
    parts = [p.strip() for p in env.get(key, "").split(",") if p.strip()]
    if not all(
        inputs.int_or_none(p.removeprefix("-"), low=0, high=inputs.MAX_TELEGRAM_ID) is not None for p in parts
    ):
        raise SettingsError(f"{key} must be comma-separated Telegram user ids, e.g. 12345,67890.")
    return frozenset(int(p) for p in parts)


def _group_role(env: Mapping[str, str], key: str, default: str, allowed: tuple[str, ...]) -> str:
    value = env.get(key, "").strip().lower() or default
    if value not in allowed:
        raise SettingsError(f"{key} must be one of {', '.join(allowed)}, not {value!r}.")
    return value


def _timezone(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key, "").strip() or default
    if not is_valid_timezone(value):
        raise SettingsError(
            f"{key}={value!r} is not an IANA time zone name (e.g. Europe/Berlin, Asia/Shanghai)."
        )
    return value


def _region(env: Mapping[str, str]) -> str | None:
    """DEFAULT_REGION: the country whose national phone numbers staff and customers type ("0151 …")."""
    value = env.get("DEFAULT_REGION", "").strip().upper() or None
    if value is not None and value not in phonenumbers.SUPPORTED_REGIONS:
        raise SettingsError(f"DEFAULT_REGION={value!r} is not a two-letter region code (e.g. DE, CN, US).")
    return value


def _currency(env: Mapping[str, str]) -> str | None:
    """CURRENCY: the ISO 4217 code amounts are shown in ("EUR": €1,234.50); unset: no currency sign."""
    value = env.get("CURRENCY", "").strip().upper() or None
    if value is not None and not formatting.valid_currency(value):
        raise SettingsError(f"CURRENCY={value!r} is not an ISO 4217 currency code (e.g. EUR, CNY, USD).")
    return value


@dataclass(frozen=True)
class Settings:
    token: str
    database_url: str = "sqlite+aiosqlite:///engagebot.db"
    telegram_api_url: str = TELEGRAM_API_URL
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = 8080
    # Seconds between the scheduler's ticks (scheduling is data; the ticks only look); 0: no ticks.
    tick_seconds: float = 30.0
    # Whether this instance drains the outbox (safe on several instances; off for update-only ones).
    run_sender: bool = True
    # Updates handled at once (different people in parallel; one person's updates stay in order).
    concurrent_updates: int = 64
    # Telegram requests made inside a database transaction: refused (tests) or logged (production).
    strict_transactions: bool = False
    # ENGAGEBOT_SECRET_KEY (storage.core.crypto); old keys only while `engagebot rotate-key` runs.
    # Checked at start (bot.startup.check_key: exit 3), not here, so a wrong key is one paragraph.
    secret_key: str = ""
    old_secret_keys: tuple[str, ...] = ()
    config: Config = field(default_factory=Config)

    @property
    def webhook_mode(self) -> bool:
        return bool(self.webhook_url)

    @staticmethod
    def environment(
        environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> dict[str, str]:
        """The .env file's values overlaid by the real environment."""
        return {
            **(read_env_file(env_file) if env_file else {}),
            **(os.environ if environ is None else environ),
        }

    @classmethod
    def database_url_from_env(cls, environ: Mapping[str, str] | None = None) -> str:
        return cls.environment(environ).get("DATABASE_URL", "").strip() or cls.database_url

    @classmethod
    def from_env(
        cls, environ: Mapping[str, str] | None = None, env_file: Path | None = Path(".env")
    ) -> Settings:
        env = cls.environment(environ, env_file)
        token = env.get("TELEGRAM_BOT_TOKEN", "").strip()
        if not token:
            raise SettingsError(NO_TOKEN)
        language = env.get("DEFAULT_LANGUAGE", "en").strip() or "en"
        if language not in LANGUAGES:
            raise SettingsError(f"DEFAULT_LANGUAGE must be one of {', '.join(LANGUAGES)}, not {language!r}.")
        webhook_url = env.get("WEBHOOK_URL", "").strip() or None
        webhook_secret = env.get("WEBHOOK_SECRET", "").strip() or None
        if webhook_url and not webhook_secret:
            raise SettingsError(
                "WEBHOOK_URL is set: set WEBHOOK_SECRET too (1-256 characters A-Z a-z 0-9 _ -)."
            )
        default_tz = _timezone(env, "DEFAULT_TIMEZONE", "UTC")
        config = Config(
            default_timezone=default_tz,
            default_language=language,
            default_region=_region(env),
            currency=_currency(env),
            staff_chat_id=_int(env, "STAFF_CHAT_ID"),
            owner_ids=_ids(env, "OWNER_IDS"),
            # Safe defaults: the group's creator is an admin (not an owner: owners come from OWNER_IDS
            # or /setup), its administrators plain agents until an owner promotes them.
            group_creator_role=_group_role(
                env, "GROUP_CREATOR_ROLE", "admin", ("owner", "admin", "agent", "none")
            ),
            group_admin_role=_group_role(env, "GROUP_ADMIN_ROLE", "agent", ("admin", "agent", "none")),
            staff_approval=env_switch(env, "STAFF_APPROVAL", True),
            staff_timezone=_timezone(env, "STAFF_TIMEZONE", default_tz),
            surveys=survey_config(env),
            loyalty=loyalty_from_env(env),
            sender=sender_from_env(env),
            bulk=bulk_from_env(env),
            birthdays=birthdays_from_env(env),
            followups=followups_from_env(env),
            complaints=complaints_from_env(env),
            cadences=cadences_from_env(env),
            retention_days=retention_days(env),
            winback=winback_from_env(env),
            contact=contact_from_env(env),
            insight=insight_from_env(env),
            recurring=recurring_from_env(env),
        )
        return cls(
            token=token,
            database_url=env.get("DATABASE_URL", "").strip() or cls.database_url,
            telegram_api_url=(env.get("TELEGRAM_API_URL", "").strip() or TELEGRAM_API_URL).rstrip("/"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            listen_host=env.get("LISTEN_HOST", "").strip() or cls.listen_host,
            listen_port=_int(env, "LISTEN_PORT") or cls.listen_port,
            tick_seconds=env_number(env, "TICK_SECONDS", cls.tick_seconds, 0, 3600),
            run_sender=env_switch(env, "OUTBOX_SENDER", cls.run_sender),
            concurrent_updates=int(env_number(env, "CONCURRENT_UPDATES", cls.concurrent_updates, 1, 1024)),
            strict_transactions=env_switch(env, "STRICT_TRANSACTIONS", cls.strict_transactions),
            secret_key=env.get(crypto.KEY_ENV, "").strip(),
            old_secret_keys=crypto.split_old(env.get(crypto.OLD_KEYS_ENV, "")),
            config=config,
        )
