"""Settings from the environment or a .env file, built by a factory (never at import time)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from storage.config import LANGUAGES, Config, LoyaltyConfig, Tier
from storage.timezones import is_valid_timezone

TELEGRAM_API_URL = "https://api.telegram.org"


class SettingsError(ValueError):
    """A setting is missing or malformed; the message is meant for the person running the bot."""


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
    if not all(p.lstrip("-").isdigit() for p in parts):
        raise SettingsError(f"{key} must be comma-separated Telegram user ids, e.g. 12345,67890.")
    return frozenset(int(p) for p in parts)


def _timezone(env: Mapping[str, str], key: str, default: str) -> str:
    value = env.get(key, "").strip() or default
    if not is_valid_timezone(value):
        raise SettingsError(
            f"{key}={value!r} is not an IANA time zone name (e.g. Europe/Berlin, Asia/Shanghai)."
        )
    return value


def _count(env: Mapping[str, str], key: str, default: int | None, *, never: bool = False) -> int | None:
    """A whole number ≥ 0 (or "never" where allowed: None)."""
    value = env.get(key, "").strip().lower()
    if not value:
        return default
    if never and value in {"never", "none", "0"}:
        return None
    if not value.isdigit():
        extra = ' or "never"' if never else ""
        raise SettingsError(f"{key} must be a whole number{extra}, not {value!r}.")
    return int(value)


def _decimal(env: Mapping[str, str], key: str, default: Decimal) -> Decimal:
    value = env.get(key, "").strip()
    if not value:
        return default
    try:
        number = Decimal(value)
    except InvalidOperation:
        number = Decimal(-1)
    if not number.is_finite() or number <= 0:
        raise SettingsError(f"{key} must be a positive number such as 1 or 0.5, not {value!r}.")
    return number


def _tiers(env: Mapping[str, str], key: str, default: tuple[Tier, ...]) -> tuple[Tier, ...]:
    """ "Member:0:1, Silver:500:1.25, Gold:2000:1.5" (name:points earned in the window:multiplier)."""
    value = env.get(key, "").strip()
    if not value:
        return default
    tiers = []
    for part in (p.strip() for p in value.split(",") if p.strip()):
        name, _, rest = part.partition(":")
        threshold, _, multiplier = rest.partition(":")
        try:
            tiers.append(Tier(name.strip(), int(threshold), Decimal(multiplier)))
        except (ValueError, InvalidOperation):
            raise SettingsError(
                f"{key}: {part!r} should look like Silver:500:1.25 (name:points:multiplier)."
            ) from None
    if not tiers or tiers[0].threshold != 0 or any(not t.name for t in tiers):
        raise SettingsError(f"{key}: the first tier must start at 0 points, e.g. Member:0:1,Silver:500:1.25.")
    if [t.threshold for t in tiers] != sorted({t.threshold for t in tiers}):
        raise SettingsError(f"{key}: tier thresholds must go up, e.g. Member:0:1,Silver:500:1.25.")
    return tuple(tiers)


def loyalty_from_env(env: Mapping[str, str]) -> LoyaltyConfig:
    d = LoyaltyConfig()
    return LoyaltyConfig(
        points_per_currency=_decimal(env, "LOYALTY_POINTS_PER_CURRENCY", d.points_per_currency),
        tiers=_tiers(env, "LOYALTY_TIERS", d.tiers),
        tier_window_months=_count(env, "LOYALTY_TIER_WINDOW_MONTHS", d.tier_window_months) or 12,
        expiry_months=_count(env, "LOYALTY_EXPIRY_MONTHS", d.expiry_months, never=True),
        referral_bonus=_count(env, "LOYALTY_REFERRAL_BONUS", d.referral_bonus) or 0,
        award_max=_count(env, "LOYALTY_AWARD_MAX", d.award_max) or d.award_max,
        purchase_max=_decimal(env, "LOYALTY_PURCHASE_MAX", d.purchase_max),
        voucher_days=_count(env, "LOYALTY_VOUCHER_DAYS", d.voucher_days, never=True),
    )


@dataclass(frozen=True)
class Settings:
    token: str
    database_url: str = "sqlite+aiosqlite:///engagebot.db"
    telegram_api_url: str = TELEGRAM_API_URL
    webhook_url: str | None = None
    webhook_secret: str | None = None
    listen_host: str = "0.0.0.0"
    listen_port: int = 8080
    # Seconds between the scheduler's ticks (scheduling is data; the ticks only look).
    tick_seconds: float = 30.0
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
            staff_chat_id=_int(env, "STAFF_CHAT_ID"),
            owner_ids=_ids(env, "OWNER_IDS"),
            staff_timezone=_timezone(env, "STAFF_TIMEZONE", default_tz),
            loyalty=loyalty_from_env(env),
        )
        return cls(
            token=token,
            database_url=env.get("DATABASE_URL", "").strip() or cls.database_url,
            telegram_api_url=(env.get("TELEGRAM_API_URL", "").strip() or TELEGRAM_API_URL).rstrip("/"),
            webhook_url=webhook_url,
            webhook_secret=webhook_secret,
            listen_host=env.get("LISTEN_HOST", "").strip() or cls.listen_host,
            listen_port=_int(env, "LISTEN_PORT") or cls.listen_port,
            tick_seconds=float(env.get("TICK_SECONDS", "").strip() or cls.tick_seconds),
            config=config,
        )
