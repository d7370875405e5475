"""Personal data encrypted at rest (issue 14): a customer gives their birthday and phone through the
bot, writes feedback, staff find them by phone, call back about the feedback, resolve it, record a
purchase with a note, give points with a reason and close a follow-up with an outcome; then the
database as stored (the SQLite file and its WAL, byte by byte, and a dump of every table: sqlite3's
iterdump, PostgreSQL's pg_dump) holds neither the number nor the birthday in any spelling, nor any of
those texts (in their own rows, the messages that quote them, or the audit trail). The one exception
is said out loud: next_birthday_at (the greeting's UTC instant) shows the day and month, never the
year."""

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
from tests.emulator import BotApiEmulator, UserDriver

PHONES = ("+4915123456785", "15123456785", "151 23456785", "0151 23456785")
BIRTHDAYS = ("1990-05-17", "17.05.1990", "17/05/1990", "1990年")
FEEDBACK = "Kim Lee here, the blender I bought broke"
# What staff write about her, each through the bot; none may be stored in plain text.
RESOLUTION = "refunded Kim's blender, she was upset"
PURCHASE_NOTE = "gift for her husband Tom"
AWARD_REASON = "sorry about Kim's broken blender"
CALLBACK_REASON = "ask Kim whether the new blender works"
OUTCOME = "Kim is moving to Berlin in May"
STAFF_TEXTS = (FEEDBACK, RESOLUTION, PURCHASE_NOTE, AWARD_REASON, CALLBACK_REASON, OUTCOME)
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
        kim = harness.customer(501, "Kim", last_name="Lee", username="kimlee")
        await kim.send("/start")
        await kim.press(harness.t("en", "onboarding.accept"))
        await kim.send("17.05.1990")
        await kim.share_contact("+49 151 23456785")
        await kim.send(harness.t("en", "profile.skip"))  # time zone (a reply keyboard)
        await kim.send(f"/feedback {FEEDBACK}")
        card = await staff(harness, harness.owner, "/find 0151 23456785")  # by the phone's blind index
        assert "Kim" in card and "+4915123456785" in card
        await _staff_write_about(harness, kim)
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
    for words in STAFF_TEXTS:
        assert words.encode() not in raw and words not in dump, words
    assert YEAR.search(dump) is None
    # next_birthday_at is kept in the clear for the greeting tick and the digest: day and month only.
    assert NEXT_GREETING.search(dump) is not None
    assert "05-17" not in NEXT_GREETING.sub("<next_birthday_at>", dump)


async def _staff_write_about(harness: Harness, kim: UserDriver) -> None:
    """Every free text staff write about a customer, through the bot, and that it reads back."""
    group, owner = harness.staff_group, harness.owner
    card = next(m for m in group.messages() if m.text.startswith("Feedback #1"))
    await owner.press(harness.t("en", "feedback.followup_button"), message=card)  # its task quotes FEEDBACK
    await owner.press("✅ Resolve", message=card)
    await owner.reply(group.last(), RESOLUTION, chat=group)
    await harness.tick("complaints")
    await harness.run_outbox()
    assert RESOLUTION in kim.last().text  # the customer is told, through an outbox message
    assert "Recorded" in await staff(harness, owner, f"/purchase @kimlee 12.50 {PURCHASE_NOTE}")
    await staff(harness, owner, f"/award @kimlee 5 {AWARD_REASON}")
    await harness.run_outbox()
    assert AWARD_REASON in kim.last().text
    assert "scheduled" in await staff(harness, owner, f"/callback @kimlee in 1h {CALLBACK_REASON}")
    harness.clock.advance(hours=1)
    await harness.tick("followups")
    await harness.run_outbox()
    reminder = group.last()
    assert CALLBACK_REASON in reminder.text
    await owner.press("✅ Done", message=reminder, chat=group)
    await owner.send(OUTCOME, chat=group)
    assert OUTCOME in group.last().text
    assert OUTCOME in await staff(harness, owner, "/find @kimlee")  # the card's recent follow-ups
    await owner.press("🕘 Timeline", message=group.last(), chat=group)  # read in one UNION, decrypted
    timeline = group.last().text
    assert all(words in timeline for words in (OUTCOME, PURCHASE_NOTE, AWARD_REASON)), timeline
