from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, SettingsError, read_env_file


def test_defaults_and_parsing() -> None:
    settings = Settings.from_env(
        {
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "STAFF_CHAT_ID": "-1001",
            "OWNER_IDS": "5, 6",
            "DEFAULT_TIMEZONE": "Asia/Shanghai",
            "DEFAULT_LANGUAGE": "zh",
            "TELEGRAM_API_URL": "http://localhost:8081/",
        },
        env_file=None,
    )
    assert settings.database_url == "sqlite+aiosqlite:///engagebot.db"
    assert settings.telegram_api_url == "http://localhost:8081"
    assert settings.config.staff_chat_id == -1001
    assert settings.config.owner_ids == {5, 6}
    assert settings.config.staff_timezone == "Asia/Shanghai"
    assert not settings.webhook_mode
    assert settings.config.currency is None  # amounts without a currency sign, as before CURRENCY


def test_currency_is_an_iso_code_in_any_case() -> None:
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "1:abc", "CURRENCY": " cny "}, env_file=None)
    assert settings.config.currency == "CNY"


def test_env_file_is_read_and_the_environment_wins(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("# comment\nTELEGRAM_BOT_TOKEN='1:file'\nDATABASE_URL=sqlite+aiosqlite:///x.db\n")
    settings = Settings.from_env({"DATABASE_URL": "sqlite+aiosqlite:///y.db"}, env_file=env_file)
    assert (settings.token, settings.database_url) == ("1:file", "sqlite+aiosqlite:///y.db")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "@BotFather"),
        ({"DEFAULT_TIMEZONE": "Mars/Olympus"}, "IANA"),
        ({"DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE"),
        ({"OWNER_IDS": "12,abc"}, "OWNER_IDS"),
        ({"OWNER_IDS": "12,²"}, "OWNER_IDS"),  # str.isdigit says yes, int() says no
        ({"OWNER_IDS": "--12"}, "OWNER_IDS"),
        ({"BIRTHDAY_TIME": "²:00"}, "BIRTHDAY_TIME"),
        ({"SURVEY_THROTTLE_DAYS": "³"}, "SURVEY_THROTTLE_DAYS"),
        ({"STAFF_CHAT_ID": "group"}, "STAFF_CHAT_ID"),
        ({"WEBHOOK_URL": "https://example.org/hook"}, "WEBHOOK_SECRET"),
        ({"CURRENCY": "EURO"}, "ISO 4217"),
    ],
)
def test_bad_settings_are_explained(env: dict[str, str], message: str) -> None:
    if env:
        env = {"TELEGRAM_BOT_TOKEN": "1:abc", **env}
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env, env_file=None)


def test_env_example_is_complete_and_valid(tmp_path: Path) -> None:
    """Every variable in .env.example is one the bot reads, and its example value is accepted."""
    example = Path(__file__).resolve().parents[2] / ".env.example"
    values = read_env_file(example)
    # The secret key is read where it is used (storage.core.crypto), the rest by bot/.
    read_by = [*(example.parent / "bot").glob("*.py"), example.parent / "storage" / "core" / "crypto.py"]
    code = "".join(p.read_text() for p in read_by)
    unread = [key for key in values if f'"{key}"' not in code]
    assert not unread, f".env.example names settings nothing reads: {unread}"
    values["TELEGRAM_BOT_TOKEN"] = "1:abc"
    values["WEBHOOK_URL"] = ""
    Settings.from_env(values, env_file=None)
