"""The encryption key at start (made on the first run, checked against the data on every run) and
`engagebot rotate-key`. Every failure is one paragraph (bot.startup.StartupError, exit 3)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.fernet import InvalidToken

from bot.startup import StartupError, check_database, safe_database_url
from storage import migrate, rekey
from storage.core import crypto, db

log = logging.getLogger(__name__)
KEY, OLD = crypto.KEY_ENV, crypto.OLD_KEYS_ENV

BAD_KEY = f"""\
{KEY} is not a key engagebot can use ({{error}}). It is 44 characters of URL-safe base64, as engagebot \
writes into .env on its first run: check that the whole line was copied, without quotes or spaces (and \
{OLD}, if set, holds such keys separated by commas). Then run the command again."""

WRONG_KEY = f"""\
{KEY} does not open the personal data already stored in the database at {{url}}. Set the key this \
database was encrypted with (from the .env or the secret store of the machine that ran the bot); if \
`engagebot rotate-key` was interrupted, keep the new key and put the previous one in {OLD}, then run \
rotate-key again. A new key cannot read the data. Then run the command again."""

MISSING_KEY = f"""\
{KEY} is not set, and the database at {{url}} already holds encrypted personal data, so no new key is \
made (it could not read that data). Put the key this database was encrypted with into the environment \
or .env as {KEY}=<key>. Then run the command again."""

KEY_IN_ENVIRONMENT = f"""\
{KEY} is set in the environment, and `engagebot rotate-key` can only change it in .env. Move the key \
into .env (or rotate it in your secret store: set the new key as {KEY} and the old one as {OLD}, run \
rotate-key, then remove {OLD}). Then run the command again."""


def write_env(path: Path, values: Mapping[str, str | None]) -> None:
    """Set (or, for None, remove) lines of a .env file in one atomic replace: a crash leaves the old
    file or the new one, never half of it. Only the owner may read a file made here."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    kept = [line for line in lines if line.partition("=")[0].strip() not in values]
    kept += [f"{name}={value}" for name, value in values.items() if value is not None]
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text("\n".join(kept) + "\n", encoding="utf-8")
    os.chmod(temporary, path.stat().st_mode & 0o777 if path.exists() else 0o600)
    os.replace(temporary, path)


async def _stored_token(url: str) -> str | None:
    engine = db.create_engine(url)
    try:
        return await rekey.probe(engine)
    finally:
        await engine.dispose()


async def prepare(env: Mapping[str, str], env_file: Path, url: str) -> crypto.Keyring:
    """Configure the process's keyring from `env`; on the first run (no key, nothing encrypted yet)
    make a key and write it to `env_file`, saying so in one line (never the key itself)."""
    await check_database(url)
    secret, old = env.get(KEY, "").strip(), crypto.split_old(env.get(OLD, ""))
    if not secret:
        if await _stored_token(url) is not None:
            raise StartupError(MISSING_KEY.format(url=safe_database_url(url)))
        secret = crypto.new_secret()
        write_env(env_file, {KEY: secret})
        log.warning("no %s was set: made a new key and wrote it to %s; keep a copy of it", KEY, env_file)
    try:
        ring = crypto.configure(secret, old)
    except crypto.BadKey as error:
        raise StartupError(BAD_KEY.format(error=error)) from None
    token = await _stored_token(url)
    if token is not None:
        try:
            ring.decrypt(token)
        except InvalidToken:
            raise StartupError(WRONG_KEY.format(url=safe_database_url(url))) from None
    return ring


async def rotate(
    env: Mapping[str, str], env_file: Path, url: str, *, batch: int = rekey.BATCH
) -> rekey.Rekeyed:
    """A new key, then every value re-encrypted and every blind index recomputed with it, then the old
    key dropped. The new key is written (with the old one as OLD) before any row changes, so a run
    that stops midway is run again and carries on (storage.rekey)."""
    if KEY in os.environ:
        raise StartupError(KEY_IN_ENVIRONMENT)
    await prepare(env, env_file, url)
    secret = env.get(KEY, "").strip()
    if not secret:  # prepare() just made the first key: nothing to rotate away from
        return rekey.Rekeyed()
    if crypto.split_old(env.get(OLD, "")):
        log.warning("%s is set: carrying on with a key rotation that did not finish", OLD)
    else:
        old, secret = secret, crypto.new_secret()
        write_env(env_file, {KEY: secret, OLD: old})
        crypto.configure(secret, [old])
        log.warning("new key written to %s; the old one stays as %s until all is re-encrypted", env_file, OLD)
    engine = db.create_engine(url)
    try:
        await migrate.upgrade(engine)
        done = await rekey.run(engine, batch=batch)
    finally:
        await engine.dispose()
    write_env(env_file, {OLD: None})
    crypto.configure(secret)
    log.warning("key rotated: %d values re-encrypted, %d blind indexes recomputed", done.values, done.indexes)
    return done
