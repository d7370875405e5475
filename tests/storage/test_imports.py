"""CSV imports (storage.loyalty.imports, storage.people.imports, run as bulk jobs by
storage.background): files read in their encodings and separators, rows validated with reasons by
line, purchases booked once (a second import adds nothing), points only when asked for and then once,
members imported before they join linked when they share their phone."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import background
from storage.core import bulk, csvfiles
from storage.core import imports as core_imports
from storage.core.config import Config
from storage.core.csvfiles import FileRefused
from storage.core.models import BulkJob, ImportChunk
from storage.loyalty import imports, ledger
from storage.loyalty.models import PendingPurchase, Purchase
from storage.people import customers
from storage.people import imports as members
from storage.people.birthdays import Birthday
from storage.people.models import Customer, OutboxMessage, PendingMember
from tests.storage.loyalty_helpers import new_customer

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIG = Config(staff_timezone="Asia/Shanghai")
PURCHASES = (
    "customer,date,amount,category,reference\n"
    "@kim,2026-01-05,12.50,coffee,\n"
    "#1,2026-01-06 18:30,30,,R-7\n"
    "@nobody,2026-01-07,5,,\n"
    "@kim,yesterday,5,,\n"
    "@kim,2026-01-08,-3,,\n"
)


def test_files_are_read_in_utf8_with_a_bom_and_either_separator() -> None:
    data = ("\ufeff客户;日期;金额\n@kim;2026-01-05;12,50\n\n").encode()
    kind, table = imports.read_file(data)
    assert kind == imports.KIND
    assert table.rows == [(2, {"customer": "@kim", "date": "2026-01-05", "amount": "12,50"})]
    kind, table = imports.read_file(b"Name,Phone,Birthday\nAnn,+86 138 0013 8000,1990-05-17\n")
    assert kind == members.KIND and table.rows[0][1]["phone"] == "+86 138 0013 8000"


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "import.empty"),
        ("客户,日期\n".encode("gbk"), "import.not_utf8"),
        (b"who,when\nx,y\n", "import.unknown_header"),
    ],
)
def test_a_file_that_is_not_an_import_is_refused(data: bytes, code: str) -> None:
    with pytest.raises(FileRefused) as refused:
        imports.read_file(data)
    assert refused.value.code == code


def test_a_date_is_read_in_the_staff_time_zone() -> None:
    assert imports.parse_date("2026-01-05", "Asia/Shanghai", NOW) == datetime(2026, 1, 4, 16, tzinfo=UTC)
    assert imports.parse_date("2026-01-05T10:00:00+00:00", "Asia/Shanghai", NOW).hour == 10
    for bad in ("2026-13-01", "2099-01-01", "1969-12-31", "١٢", "x" * 50):
        with pytest.raises(core_imports.RowRefused):
            imports.parse_date(bad, "UTC", NOW)


async def run(
    sessions: async_sessionmaker[AsyncSession], data: str, key: str, *, points: bool = False, limit: int = 2
) -> BulkJob:
    """Record an import of `data` as the /import handler does and run its batches to the end."""
    kind, table = imports.read_file(data.encode())
    async with sessions.begin() as session:
        job = await core_imports.record(
            session,
            key=key,
            kind=kind,
            rows=table.rows,
            params={"points": points, "by_phone": True},
            requested_by=7,
            language="en",
            now=NOW,
        )
        assert job is not None
    while True:
        async with sessions.begin() as session:
            _, ran = await background.run_batch(session, NOW, CONFIG, limit=limit)
        if ran is None:
            break
    async with sessions.begin() as session:
        done = await session.get(BulkJob, job.id)
        assert done is not None
        return done


async def _count(sessions: async_sessionmaker[AsyncSession], model: type) -> int:
    async with sessions.begin() as session:
        return int(await session.scalar(select(func.count()).select_from(model)) or 0)


async def test_good_rows_are_kept_and_bad_ones_reported_by_line(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        kim = await new_customer(session, 501, NOW)
        kim.username = "kim"
    job = await run(sessions, PURCHASES, "a")
    assert job.state == bulk.DONE and job.queued == 2
    assert job.reasons == {core_imports.BAD: 3}
    assert [(bad["line"], bad["code"]) for bad in job.params["bad"]] == [
        (4, "import.customer_unknown"),
        (5, "import.bad_date"),
        (6, "import.bad_amount"),
    ]
    async with sessions.begin() as session:
        bought = list(await session.scalars(select(Purchase).order_by(Purchase.created_at)))
        assert [(p.amount, p.category, p.points) for p in bought] == [
            (Decimal("12.50"), "coffee", 0),
            (Decimal("30.00"), None, 0),
        ]
        assert bought[1].reference == "import:r:R-7"
        assert await ledger.balance(session, kim.id) == 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0  # nobody told
        assert await session.scalar(select(func.count()).select_from(ImportChunk)) == 0  # staging emptied

    again = await run(sessions, PURCHASES, "b")  # the same file again: nothing new
    assert again.queued == 0 and again.reasons == {core_imports.DUPLICATE: 2, core_imports.BAD: 3}
    assert await _count(sessions, Purchase) == 2


async def test_import_points_awards_what_purchase_would_once(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        kim = await new_customer(session, 501, NOW)
    data = "customer,date,amount\n#1,2026-03-01,100\n#1,2026-03-02,50\n"
    await run(sessions, data, "a", points=True)
    async with sessions.begin() as session:
        earned = await ledger.balance(session, kim.id)
        assert earned == sum(p.points for p in await session.scalars(select(Purchase))) > 0
        assert await session.scalar(select(func.count()).select_from(OutboxMessage)) == 0
    job = await run(sessions, data, "b", points=True)
    assert job.queued == 0
    async with sessions.begin() as session:
        assert await ledger.balance(session, kim.id) == earned


async def test_a_member_imported_before_joining_is_linked_with_their_purchases(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    job = await run(
        sessions,
        "姓名,电话,生日,语言,编号\n"
        "Ann,+86 138 0013 8000,1990-05-17,zh,M-1\nBob,12,,,\nAnn2,+8613800138000,,,\n",
        "members",
    )
    assert job.queued == 1 and job.reasons == {core_imports.BAD: 1, core_imports.DUPLICATE: 1}
    assert job.params["bad"][0]["line"] == 3 and job.params["bad"][0]["code"] == "import.bad_phone"
    history = "customer,date,amount\n+86 138 0013 8000,2026-01-05,20\n+8613800138000,2026-01-06,30\n"
    job = await run(sessions, history, "history")
    assert job.queued == 2 and await _count(sessions, PendingPurchase) == 2
    assert (await run(sessions, history, "again")).queued == 0

    async with sessions.begin() as session:
        ann = await new_customer(session, 777, NOW, name="Ann")
        await customers.set_phone(session, ann, "+86 138-0013-8000")
        assert await imports.link(session, ann, NOW, CONFIG) == 2
        assert await imports.link(session, ann, NOW, CONFIG) == 0  # once
    async with sessions.begin() as session:
        ann = await session.get(Customer, ann.id)
        assert (ann.birthday, ann.external_id) == (Birthday(5, 17, 1990), "M-1")
        assert await ledger.balance(session, ann.id) == 0
        member = await session.scalar(select(PendingMember))
        assert member.linked_customer_id == ann.id
    assert await _count(sessions, Purchase) == 2 and await _count(sessions, PendingPurchase) == 0
    assert (await run(sessions, history, "after joining")).queued == 0  # the same purchases, not new ones


async def test_a_member_list_links_customers_who_joined_already(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        kim = await new_customer(session, 501, NOW)
        await customers.set_phone(session, kim, "+4915700000001")
    await run(sessions, "name,phone,external_id\nKim,+49 157 00000001,K-9\n", "members")
    async with sessions.begin() as session:
        assert (await session.get(Customer, kim.id)).external_id == "K-9"


def test_csv_lines_are_what_excel_reads() -> None:
    assert csvfiles.line([1, None, 'a "b", c']) == '1,,"a ""b"", c"\r\n'
    assert (
        csvfiles.line(["=HYPERLINK(1)", "+4915700000001", "-3", "@x"])
        == "'=HYPERLINK(1),+4915700000001,-3,'@x\r\n"
    )
