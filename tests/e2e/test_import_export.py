"""/import and /export through the Bot API emulator: an admin sends a CSV captioned /import, the bot
answers at once, the bulk tick imports the rows and edits that answer into one summary listing the bad
rows by line; importing the same file again adds nothing; /import points awards points once; a member
imported before joining is linked when they share their phone; /export sends a CSV document that
parses. Agents are refused both. Any Telegram request inside a transaction fails the update."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.core.clock import FakeClock
from storage.core.models import BulkJob, ExportChunk, ImportChunk
from storage.loyalty.models import PendingPurchase, Purchase
from storage.people.birthdays import Birthday
from storage.people.models import PendingMember
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import balance, customer_row, join
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions

PURCHASES = (
    b"customer,date,amount,category,reference\n"
    b"@kimmy,2026-01-05,12.50,coffee,\n"
    b"#1,2026-01-06 18:30,30,,R-7\n"
    b"@nobody,2026-01-07,5,,\n"
    b"#1,not a date,5,,\n"
)


async def _count(harness: Harness, model: type) -> int:
    async with harness.sessions.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def _import(harness: Harness, who: UserDriver, data: bytes, caption: str = "/import") -> str:
    """Send the file, run the bulk tick, and return the import's message as it reads at the end."""
    group = harness.staff_group
    await who.send_document("history.csv", data, caption=caption, chat=group)
    started = who.last(chat=group)
    assert "in the background" in started.text, started.text
    await harness.tick("bulk")
    final = who.last(chat=group)
    assert final.message_id == started.message_id  # the same message, edited into the summary
    return final.text


async def _kim(harness: Harness) -> UserDriver:
    kim = harness.customer(301, "Kim", username="kimmy")
    await join(harness, kim)
    return kim


async def test_an_import_keeps_good_rows_reports_bad_ones_by_line_and_runs_once(harness: Harness) -> None:
    kim = await _kim(harness)
    await harness.grant_admin()
    summary = await _import(harness, harness.admin, PURCHASES)
    assert "2 new" in summary and "2 bad rows" in summary
    assert "Line 4:" in summary and "@nobody" in summary
    assert "Line 5:" in summary and "not a date" in summary
    async with harness.sessions.begin() as session:
        amounts = sorted(str(p.amount) for p in await session.scalars(select(Purchase)))
    assert amounts == ["12.50", "30.00"]
    assert await balance(harness, kim.user_id) == 0  # no points without "/import points"
    assert all("purchase" not in m.text.lower() for m in kim.messages())  # nobody was told

    again = await _import(harness, harness.admin, PURCHASES)
    assert "0 new" in again and "2 already there" in again
    assert await _count(harness, Purchase) == 2 and await _count(harness, ImportChunk) == 0


async def test_import_points_awards_points_once(harness: Harness) -> None:
    kim = await _kim(harness)
    data = b"customer,date,amount\n@kimmy,2026-03-01,100\n"
    await _import(harness, harness.owner, data, "/import points")
    earned = await balance(harness, kim.user_id)
    assert earned > 0
    await _import(harness, harness.owner, data, "/import points")
    assert await balance(harness, kim.user_id) == earned


async def test_a_member_imported_before_joining_is_linked_when_they_share_their_phone(
    harness: Harness,
) -> None:
    owner = harness.owner
    members = "姓名,电话,生日,编号\nLena,+49 170 0000301,1990-05-17,M-7\n".encode()
    assert "1 new" in await _import(harness, owner, members)
    assert "1 new" in await _import(harness, owner, b"customer,date,amount\n+491700000301,2026-02-01,20\n")
    assert await _count(harness, PendingPurchase) == 1 and await _count(harness, Purchase) == 0

    lena = harness.customer(302, "Lena")
    await join(harness, lena)
    await lena.send("/profile")
    await lena.press(harness.t("en", "profile.edit_phone"))
    await lena.share_contact("+49 170 0000301")
    row = await customer_row(harness, lena.user_id)
    assert (row.birthday, row.external_id) == (Birthday(5, 17, 1990), "M-7")
    async with harness.sessions.begin() as session:
        bought = list(await session.scalars(select(Purchase)))
        member = await session.scalar(select(PendingMember))
    assert [(p.customer_id, str(p.amount)) for p in bought] == [(row.id, "20.00")]
    assert member.linked_customer_id == row.id and await _count(harness, PendingPurchase) == 0


async def test_export_purchases_sends_a_csv_that_parses(harness: Harness) -> None:
    await _kim(harness)
    await _import(harness, harness.owner, PURCHASES)
    group = harness.staff_group
    await harness.owner.send("/export purchases", chat=group)
    assert "in the background" in harness.owner.last(chat=group).text
    await harness.tick("bulk")
    document = harness.owner.last(chat=group)
    assert document.document is not None and document.filename.endswith(".csv")
    text = document.document.decode("utf-8")
    assert text.startswith("\ufeff")  # Excel reads it as UTF-8
    rows = list(csv.DictReader(io.StringIO(text.removeprefix("\ufeff"))))
    assert sorted(row["amount"] for row in rows) == ["12.50", "30.00"]
    assert {row["reference"] for row in rows} >= {"import:r:R-7"}
    assert await _count(harness, ExportChunk) == 0  # sent: the chunks are gone

    await harness.owner.send("/export customers", chat=group)
    await harness.tick("bulk")
    customers = harness.owner.last(chat=group).document.decode("utf-8")
    assert "phone" in customers.splitlines()[0]  # an owner may see personal data


async def test_agents_may_neither_import_nor_export(harness: Harness) -> None:
    await _kim(harness)
    agent, group = harness.agent, harness.staff_group
    await agent.send_document("history.csv", PURCHASES, caption="/import", chat=group)
    assert "⛔" in agent.last(chat=group).text
    await agent.send("/export customers", chat=group)
    assert "⛔" in agent.last(chat=group).text
    assert await _count(harness, BulkJob) == 0 and await _count(harness, Purchase) == 0


async def test_a_file_that_is_not_an_import_is_refused_clearly(harness: Harness) -> None:
    owner, group = harness.owner, harness.staff_group
    await owner.send_document("x.csv", "客户,日期\n".encode("gbk"), caption="/import", chat=group)
    assert owner.last(chat=group).text == harness.t("en", "import.not_utf8")
    await owner.send_document("x.csv", b"who,when\n1,2\n", caption="/import", chat=group)
    assert "header" in owner.last(chat=group).text
    await owner.send("/import", chat=group)
    assert "/import points" in owner.last(chat=group).text
    await owner.send("/export everything", chat=group)
    assert "customers|purchases|ledger|surveys" in owner.last(chat=group).text
    assert await _count(harness, BulkJob) == 0


async def test_a_file_of_bad_rows_gets_one_summary_that_fits_a_message(harness: Harness) -> None:
    rows = "".join(f"@{'x' * 200}{n},2026-01-05,1\n" for n in range(500))
    summary = await _import(harness, harness.owner, f"customer,date,amount\n{rows}".encode())
    assert len(summary) <= 4096 and "Line 2:" in summary and "more bad rows" in summary
    assert "500 bad rows" in summary


async def test_a_big_import_shows_its_progress_in_place_and_can_be_stopped(
    emu: BotApiEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    harness = Harness(
        emu,
        await new_database_url("sqlite", tmp_path),
        clock,
        BULK_BATCH="100",
        BULK_BATCHES_PER_TICK="1",
        BULK_REPORT_SECONDS="5",
        STRICT_TRANSACTIONS="on",
    )
    await harness.start()
    try:
        await _kim(harness)
        owner, group = harness.owner, harness.staff_group
        rows = "".join(f"@kimmy,2026-01-05,{n + 1}\n" for n in range(350))
        await owner.send_document("big.csv", f"customer,date,amount\n{rows}".encode(), "/import", group)
        started = owner.last(chat=group)
        await harness.tick("bulk")  # one batch of 100 rows, then the progress (due at once)
        shown = owner.last(chat=group)
        assert shown.message_id == started.message_id and "100 of 350 rows" in shown.text
        assert shown.buttons == [["⏹ Stop"]]
        harness.clock.advance(seconds=5)
        await harness.tick("bulk")
        assert "200 of 350 rows" in owner.last(chat=group).text
        await owner.press("⏹ Stop", chat=group)
        stopped = owner.last(chat=group)
        assert "stopped after 200 of 350 rows" in stopped.text and not stopped.buttons
        assert await _count(harness, Purchase) == 200 and await _count(harness, ImportChunk) == 0
        harness.clock.advance(seconds=5)
        await harness.tick("bulk")
        assert await _count(harness, Purchase) == 200  # no batch after Stop
    finally:
        await harness.stop()
