"""The encryption key at start (bot.keys via the `engagebot` command) and `engagebot rotate-key`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot import cli, keys
from bot.settings import Settings, read_env_file
from storage import rekey
from storage.care.models import CustomerNote
from storage.core import crypto, db
from storage.core.config import Config
from storage.people import customers
from storage.people.birthdays import Birthday
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from tests.conftest import TEST_SECRET_KEY
from tests.databases import new_database_url

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A directory with no .env and no key in the environment, the bot's SQLite database in it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(crypto.KEY_ENV, raising=False)
    monkeypatch.delenv(crypto.OLD_KEYS_ENV, raising=False)
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{tmp_path / 'engagebot.db'}")
    yield tmp_path
    crypto.configure(TEST_SECRET_KEY)  # the other tests' key


async def _customers(url: str, secret: str, count: int = 3) -> None:
    """Customers with a phone, a birthday, a note and a message quoting it (EncryptedJSON), encrypted
    with `secret`."""
    crypto.configure(secret)
    engine = db.create_engine(url)
    try:
        async with db.create_session_factory(engine).begin() as session:
            for n in range(1, count + 1):
                customer = await customers.join(session, TelegramProfile(100 + n, f"C{n}"), Config(), NOW)
                await customers.set_phone(session, customer, f"+49151234567{n:02d}")
                await customers.set_birthday(session, customer, Birthday(5, 17, 1990), now=NOW)
                session.add(
                    CustomerNote(customer_id=customer.id, staff_id=7, text=f"note {n}", created_at=NOW)
                )
                session.add(
                    OutboxMessage(
                        dedupe_key=f"m{n}",
                        chat_id=100 + n,
                        customer_id=customer.id,
                        template="loyalty.awarded",
                        params={"reason": f"note {n}"},
                        language="en",
                    )
                )
    finally:
        await engine.dispose()


async def _tokens(url: str) -> list[str]:
    engine = db.create_engine(url)
    try:
        async with engine.connect() as conn:
            found: list[str] = []
            for table, columns, _ in rekey.encrypted_tables():
                for name in columns:
                    rows = await conn.scalars(
                        select(rekey._raw(table, name)).where(table.c[name].is_not(None))
                    )
                    found += [str(token) for token in rows]
            return found
    finally:
        await engine.dispose()


async def _find(url: str, phone: str) -> Any:
    engine = db.create_engine(url)
    try:
        async with db.create_session_factory(engine)() as session:
            return await customers.find(session, phone, by_phone=True)
    finally:
        await engine.dispose()


async def test_a_first_run_makes_a_key_and_says_so_once(
    workdir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        assert await _run(["migrate"]) == 0
    key = read_env_file(workdir / ".env")[crypto.KEY_ENV]
    crypto.Keyring.from_secrets(key)  # a usable key
    said = [r.getMessage() for r in caplog.records if "new key" in r.getMessage()]
    assert len(said) == 1 and key not in caplog.text
    assert (workdir / ".env").stat().st_mode & 0o077 == 0  # only the owner reads it
    caplog.clear()
    with caplog.at_level(logging.INFO):
        assert await _run(["migrate"]) == 0
    assert read_env_file(workdir / ".env")[crypto.KEY_ENV] == key and "new key" not in caplog.text


async def _run(argv: list[str]) -> int:
    """`engagebot <argv>` (it runs its own event loops: off this test's loop, in a thread)."""
    return await asyncio.to_thread(cli.main, argv)


@pytest.mark.parametrize(
    ("key", "says"),
    [
        ("", "is not set, and the database"),
        ("not-a-key", "is not a key engagebot can use"),
        (crypto.new_secret(), "does not open the personal data"),
    ],
)
async def test_a_missing_bad_or_wrong_key_is_one_paragraph_and_exit_3(
    workdir: Path, capsys: pytest.CaptureFixture[str], key: str, says: str
) -> None:
    url = f"sqlite+aiosqlite:///{workdir / 'engagebot.db'}"
    (workdir / ".env").write_text(f"{crypto.KEY_ENV}={TEST_SECRET_KEY}\n")
    assert await _run(["migrate"]) == 0
    await _customers(url, TEST_SECRET_KEY)
    (workdir / ".env").write_text(f"{crypto.KEY_ENV}={key}\n" if key else "")
    capsys.readouterr()
    for command in (["migrate"], ["run"], ["rotate-key"]):
        env = {"TELEGRAM_BOT_TOKEN": "1:x"} if command == ["run"] else {}
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            assert await _run(command) == 3, command
        err = capsys.readouterr().err
        assert says in err and "Traceback" not in err and err.count("\n") == 1, command
    assert read_env_file(workdir / ".env").get(crypto.KEY_ENV, "") == key  # no key was made over it


async def test_rotate_key_re_encrypts_everything_and_survives_a_crash(
    workdir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = await new_database_url("sqlite", tmp_path)
    monkeypatch.setenv("DATABASE_URL", url)
    await _customers(url, TEST_SECRET_KEY, count=5)
    env_file = workdir / ".env"
    env_file.write_text(f"DEFAULT_LANGUAGE=en\n{crypto.KEY_ENV}={TEST_SECRET_KEY}\n")

    # Crash after the first customers: the new key is in .env already, the old one kept beside it.
    calls = 0
    real = rekey._changes

    def crash_on_third(*args: Any) -> dict[str, str]:
        nonlocal calls
        calls += 1
        if calls == 3:
            raise RuntimeError("killed")
        return real(*args)

    monkeypatch.setattr(rekey, "_changes", crash_on_third)
    with pytest.raises(RuntimeError):
        await keys.rotate(Settings.environment(None, env_file), env_file, url, batch=1)
    midway = read_env_file(env_file)
    new = midway[crypto.KEY_ENV]
    assert new != TEST_SECRET_KEY and midway[crypto.OLD_KEYS_ENV] == TEST_SECRET_KEY
    assert midway["DEFAULT_LANGUAGE"] == "en"  # the rest of .env is kept
    current = crypto.Keyring.from_secrets(new)
    assert 0 < sum(current.is_current(t) for t in await _tokens(url)) < len(await _tokens(url))
    crypto.configure(new, [TEST_SECRET_KEY])
    assert (await _find(url, "+4915123456705")).first_name == "C5"  # found under either key midway

    # Run again: it carries on and ends with the new key alone.
    monkeypatch.setattr(rekey, "_changes", real)
    done = await keys.rotate(Settings.environment(None, env_file), env_file, url, batch=2)
    assert 0 < done.values < 20 and 0 < done.indexes < 5  # the rows done before the crash are skipped
    after = read_env_file(env_file)
    assert after[crypto.KEY_ENV] == new and crypto.OLD_KEYS_ENV not in after
    assert all(current.is_current(t) for t in await _tokens(url))
    crypto.configure(new)  # the old key is gone: everything reads with the new one alone
    for n in range(1, 6):
        found = await _find(url, f"+49151234567{n:02d}")
        assert found is not None and found.first_name == f"C{n}" and found.birthday == Birthday(5, 17, 1990)
    engine = db.create_engine(url)
    try:
        async with db.create_session_factory(engine)() as session:
            notes = [f"note {n}" for n in range(1, 6)]
            assert sorted(await session.scalars(select(CustomerNote.text))) == notes
            assert sorted(p["reason"] for p in await session.scalars(select(OutboxMessage.params))) == notes
            assert all(
                c.phone_hash == crypto.blind_index(str(c.phone))
                for c in await session.scalars(select(Customer))
            )
    finally:
        await engine.dispose()

    # A rotation started afresh after that one makes yet another key.
    await keys.rotate(Settings.environment(None, env_file), env_file, url)
    assert read_env_file(env_file)[crypto.KEY_ENV] not in (new, TEST_SECRET_KEY)
