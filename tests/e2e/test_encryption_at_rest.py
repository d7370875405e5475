"""Personal data encrypted at rest (issue 14): a customer gives their birthday and phone through the
bot, writes feedback, staff find them by phone; then the database as stored (the SQLite file and its
WAL, byte by byte, and a dump of every table: sqlite3's iterdump, PostgreSQL's pg_dump) holds neither
the number nor the birthday in any spelling. The one exception is said out loud: next_birthday_at
(the greeting's UTC instant) shows the day and month, never the year."""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from storage.core.clock import FakeClock
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import customer_row, staff
from tests.emulator import BotApiEmulator

PHONES = ("+4915123456785", "15123456785", "151 23456785", "0151 23456785")
BIRTHDAYS = ("1990-05-17", "17.05.1990", "17/05/1990", "1990年")
FEEDBACK = "Kim Lee here, the blender I bought broke"
YEAR = re.compile(r"(?<![A-Za-z0-9_])1990(?![A-Za-z0-9_])")  # not inside a base64 token
# The greeting's instant, as SQLite ("2026-05-17 08:00:00.000000") and pg_dump ("…08:00:00+00") write it.
NEXT_GREETING = re.compile(r"2026-05-17 08:00:00[.0-9+]*")


async def _dump(url: str) -> tuple[bytes, str]:
    """The stored bytes (SQLite: the file and its WAL) and a text dump of every table."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        raw = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        with sqlite3.connect(path) as connection:
            return raw, "\n".join(connection.iterdump())
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    plain = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    process = await asyncio.create_subprocess_exec(
        pg_dump, "--data-only", plain, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    return out, out.decode()


@pytest.mark.parametrize("kind", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_no_phone_or_birthday_in_the_stored_database(
    kind: str, emu: BotApiEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    url = await new_database_url(kind, tmp_path)
    harness = Harness(emu, url, clock, DEFAULT_REGION="DE")
    await harness.start()
    try:
        kim = harness.customer(501, "Kim", last_name="Lee")
        await kim.send("/start")
        await kim.press(harness.t("en", "onboarding.accept"))
        await kim.send("17.05.1990")
        await kim.share_contact("+49 151 23456785")
        await kim.send(harness.t("en", "profile.skip"))  # time zone (a reply keyboard)
        await kim.send(f"/feedback {FEEDBACK}")
        card = await staff(harness, harness.owner, "/find 0151 23456785")  # by the phone's blind index
        assert "Kim" in card and "+4915123456785" in card
        row = await customer_row(harness, kim.user_id)
        assert row.phone == "+4915123456785" and row.birthday is not None and row.birthday.year == 1990
        assert (
            row.next_birthday_at is not None
            and row.next_birthday_at.isoformat() == "2026-05-17T08:00:00+00:00"
        )
    finally:
        await harness.stop()

    raw, dump = await _dump(url)
    for phone in PHONES:
        assert phone.encode() not in raw and phone not in dump, phone
    for spelling in BIRTHDAYS:
        assert spelling.encode() not in raw and spelling not in dump, spelling
    assert FEEDBACK.encode() not in raw and FEEDBACK not in dump
    assert YEAR.search(dump) is None
    # next_birthday_at is kept in the clear for the greeting tick and the digest: day and month only.
    assert NEXT_GREETING.search(dump) is not None
    assert "05-17" not in NEXT_GREETING.sub("<next_birthday_at>", dump)
