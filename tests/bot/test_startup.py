"""Start-up: a wrong token, an unreachable Bot API or a bad DATABASE_URL end in one paragraph and a
non-zero exit code, no traceback; the summary says what runs, never the database password."""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn

import pytest
from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TimedOut

from bot import cli, startup


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        "TELEGRAM_BOT_TOKEN": "123:abc",
        "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'a.db'}",
        "TELEGRAM_API_URL": "http://127.0.0.1:9",
        **extra,
    }


def _environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **extra: str) -> None:
    """`engagebot run` as started from an empty directory with these settings in the environment."""
    monkeypatch.chdir(tmp_path)
    for key, value in _env(tmp_path, **extra).items():
        monkeypatch.setenv(key, value)


def _get_me_raises(monkeypatch: pytest.MonkeyPatch, error: Exception) -> None:
    async def get_me(self: Bot, *args: Any, **kwargs: Any) -> NoReturn:
        raise error

    monkeypatch.setattr(Bot, "get_me", get_me)


@pytest.mark.parametrize(
    ("error", "says"),
    [
        (InvalidToken("Unauthorized"), "Telegram does not accept the bot token"),
        (NetworkError("connection refused"), "cannot be reached"),
        (TimedOut("Timed out"), "cannot be reached"),
    ],
)
def test_telegram_errors_end_in_one_paragraph(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    error: Exception,
    says: str,
) -> None:
    _get_me_raises(monkeypatch, error)
    _environment(monkeypatch, tmp_path)
    assert cli.main(["run"]) == startup.EXIT_STARTUP
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and err.strip().count("\n") == 0


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+asyncpg://shop:s3cret-pw@127.0.0.1:9/shop",  # nothing listens there
        "sqlite+aiosqlite:////no/such/directory/engagebot.db",
        "mysql+nosuchdriver://shop:s3cret-pw@localhost/shop",
        "not a url",
    ],
)
def test_a_bad_database_url_ends_in_one_paragraph_without_the_password(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, url: str
) -> None:
    _get_me_raises(monkeypatch, AssertionError("the database is checked first"))
    _environment(monkeypatch, tmp_path, DATABASE_URL=url)
    assert cli.main(["run"]) == startup.EXIT_STARTUP
    err = capsys.readouterr().err
    assert "cannot be used" in err and "DATABASE_URL" in err
    assert "s3cret" not in err and "Traceback" not in err and err.strip().count("\n") == 0


def test_the_summary() -> None:
    text = startup.summary(
        startup.Summary(
            username="shop_bot",
            webhook=False,
            database_url="postgresql+asyncpg://shop:s3cret@db.internal:5432/shop",
            staff_chat=None,
            staff_chat_fixed=False,
            owners=0,
            sender=True,
            tick_seconds=30,
        )
    )
    assert "@shop_bot" in text and "mode: polling" in text
    assert "database: postgresql (db.internal:5432/shop)" in text and "s3cret" not in text
    assert "staff group: not set: add the bot to a group" in text
    assert "owners: none yet" in text and "outbox sender: on · ticks: every 30 s" in text
    chosen = startup.summary(
        startup.Summary("shop_bot", True, "sqlite+aiosqlite:///engagebot.db", -100123, False, 2, False, 0)
    )
    assert "mode: webhook" in chosen and "database: sqlite (engagebot.db)" in chosen
    assert "staff group: -100123 (chosen in Telegram)" in chosen and "owners: 2" in chosen
    assert "outbox sender: off · ticks: off" in chosen
    fixed = startup.summary(startup.Summary("b", False, "sqlite+aiosqlite://", -5, True, 1, True, 2.5))
    assert "-5 (from STAFF_CHAT_ID)" in fixed and "every 2.5 s" in fixed


def test_the_scheduler_does_not_log_every_tick(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import logging

    _get_me_raises(monkeypatch, InvalidToken("Unauthorized"))
    _environment(monkeypatch, tmp_path)
    cli.main(["run"])
    capsys.readouterr()
    assert logging.getLogger("apscheduler").getEffectiveLevel() == logging.WARNING
