"""Purchase histories and member lists imported from CSV, and linking an imported member to the
customer who joins with the same phone.

A purchases row names its customer the way /purchase does (customers.find_many: "#id", "@username",
a Telegram id, a phone number), or the phone of an imported member who has not joined: then the
purchase waits (pending_purchases) and is booked when they join (`link`). Each row is keyed by its
`reference` when it has one, else by a hash of what it says (customer, date, amount, category): the
key is the purchase's unique reference, written insert-if-absent, so importing a file again adds
nothing. Imported purchases earn no points unless the admin asked for them (`points`), and then
exactly what purchases.record gives, once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import crypto, csvfiles
from storage.core.config import Config
from storage.core.csvfiles import Table
from storage.core.imports import Outcome, Problem, RowRefused, Rows, quoted
from storage.core.models import BulkJob
from storage.core.upsert import insert_ignore_many
from storage.loyalty import purchases
from storage.loyalty.models import PendingPurchase, Purchase
from storage.loyalty.points import PointsRefused
from storage.people import customers
from storage.people import imports as members
from storage.people.models import Customer, PendingMember

KIND = "import_purchases"
ALIASES = {
    "customer": "customer", "客户": "customer",
    "date": "date", "日期": "date",
    "amount": "amount", "金额": "amount",
    "category": "category", "类别": "category",
    "reference": "reference", "单号": "reference",
}  # fmt: skip
REQUIRED = frozenset({"customer", "date", "amount"})
# The kinds of file an import recognises by their header, tried in this order.
FILES = {KIND: (ALIASES, REQUIRED), members.KIND: (members.ALIASES, members.REQUIRED)}
CATEGORY_MAX = 64
REFERENCE_MAX = 100  # the stored reference adds a prefix; the column holds 160
DATE_CHARS = 40
EARLIEST = date(1970, 1, 1)
REFERENCE_PREFIX = "import:"


def read_file(data: bytes) -> tuple[str, Table]:
    """The kind of import (KIND or members.KIND) and its rows; csvfiles.FileRefused otherwise."""
    return csvfiles.read(data, FILES)


@dataclass(frozen=True)
class Row:
    customer: str  # as written
    at: datetime
    amount: Decimal
    category: str | None
    reference: str  # the purchase's unique reference


def parse_date(text: str, timezone: str, now: datetime) -> datetime:
    """An ISO date (midnight) or date-time, in the staff time zone unless it says its own offset;
    from 1970 to today."""
    if not text or len(text) > DATE_CHARS or not text.isascii():
        raise RowRefused("import.bad_date", value=quoted(text))
    try:
        parsed = (
            datetime.combine(date.fromisoformat(text), time())
            if len(text) <= len("2026-12-31")
            else datetime.fromisoformat(text)
        )
    except ValueError:
        raise RowRefused("import.bad_date", value=quoted(text)) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(timezone))
    if parsed.date() < EARLIEST or parsed > now + timedelta(days=1):
        raise RowRefused("import.date_out_of_range", value=quoted(text))
    return parsed


def _key(customer: str, at: datetime, amount: Decimal, category: str | None) -> str:
    """The reference of a row without one: what it says, hashed (the same row, the same key)."""
    who = customer.strip().lower()
    if who.startswith("+"):
        who = customers.normalize_phone(who)
    said = "|".join((who, at.isoformat(), f"{amount:.2f}", category or ""))
    return "h:" + hashlib.sha256(said.encode()).hexdigest()[:40]


def parse_row(data: dict[str, str], config: Config, now: datetime) -> Row:
    customer = data.get("customer", "")
    if not customer:
        raise RowRefused("import.missing", field="customer")
    at = parse_date(data.get("date", ""), config.staff_timezone, now)
    raw_amount = data.get("amount", "")
    try:
        amount = purchases.parse_amount(raw_amount, config.loyalty)
    except PointsRefused:
        raise RowRefused("import.bad_amount", value=quoted(raw_amount)) from None
    category = data.get("category") or None
    if category is not None and len(category) > CATEGORY_MAX:
        raise RowRefused("import.too_long", field="category", max=CATEGORY_MAX)
    reference = data.get("reference") or None
    if reference is not None and len(reference) > REFERENCE_MAX:
        raise RowRefused("import.too_long", field="reference", max=REFERENCE_MAX)
    key = f"r:{reference}" if reference else _key(customer, at, amount, category)
    return Row(customer, at, amount, category, REFERENCE_PREFIX + key)


async def handle(session: AsyncSession, job: BulkJob, rows: Rows, now: datetime, config: Config) -> Outcome:
    """A batch of a purchase history: each good row booked once (to a customer, or waiting for an
    imported member who has not joined), a row naming nobody known is bad."""
    outcome = Outcome()
    parsed: list[tuple[int, Row]] = []
    for line, data in rows:
        try:
            parsed.append((line, parse_row(data, config, now)))
        except RowRefused as refused:
            outcome.problems.append(Problem(line, refused.code, dict(refused.params)))
    by_phone = bool(job.params.get("by_phone"))
    found = await customers.find_many(session, {row.customer for _, row in parsed}, by_phone=by_phone)
    waiting = await _pending_members(
        session, {row.customer for _, row in parsed if row.customer not in found}
    )
    booked: list[tuple[Customer, Row]] = []
    staged: list[dict[str, Any]] = []
    for line, row in parsed:
        if (customer := found.get(row.customer)) is not None:
            booked.append((customer, row))
        elif (member := waiting.get(row.customer)) is not None:
            staged.append(_pending(member, row))
        else:
            outcome.problems.append(Problem(line, "import.customer_unknown", {"value": quoted(row.customer)}))
    if job.params.get("points"):
        new = await _record(session, booked, job.requested_by, config)
    else:
        values = [_purchase(customer.id, row, job.requested_by) for customer, row in booked]
        new = len(await insert_ignore_many(session, Purchase, values, ["reference"], returning=[Purchase.id]))
    new_staged = await insert_ignore_many(
        session, PendingPurchase, staged, ["reference"], returning=[PendingPurchase.id]
    )
    outcome.imported = new + len(new_staged)
    outcome.duplicates = len(booked) + len(staged) - outcome.imported
    return outcome


async def _pending_members(session: AsyncSession, references: set[str]) -> dict[str, PendingMember]:
    """The imported members not yet joined whose phone these references are."""
    phones: dict[str, str] = {}  # reference -> phone (several ways of writing one number)
    for ref in references:
        try:
            phones[ref] = members.parse_phone(ref)
        except RowRefused:
            continue
    if not phones:
        return {}
    indexes = {index: phone for phone in set(phones.values()) for index in crypto.blind_indexes(phone)}
    rows = await session.execute(
        select(PendingMember.phone_hash, PendingMember).where(
            PendingMember.phone_hash.in_(indexes), PendingMember.linked_customer_id.is_(None)
        )
    )
    by_phone = {indexes[index]: member for index, member in rows}
    return {ref: by_phone[phone] for ref, phone in phones.items() if phone in by_phone}


def _purchase(customer_id: int, row: Row, staff_id: int) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "amount": row.amount,
        "points": 0,
        "reference": row.reference,
        "category": row.category,
        "staff_id": staff_id,
        "created_at": row.at,
        "survey_due_at": None,
    }


def _pending(member: PendingMember, row: Row) -> dict[str, Any]:
    return {
        "pending_member_id": member.id,
        "reference": row.reference,
        "amount": row.amount,
        "category": row.category,
        "purchased_at": row.at,
    }


async def _record(
    session: AsyncSession, booked: list[tuple[Customer, Row]], staff_id: int, config: Config
) -> int:
    """`/import points`: each purchase through purchases.record, as /purchase books it (dated when
    it happened), so it earns exactly those points, once per reference."""
    new = 0
    for customer, row in sorted(booked, key=lambda pair: pair[1].at):
        recorded = await purchases.record(
            session,
            customer,
            amount=row.amount,
            reference=row.reference,
            now=row.at,
            config=config.loyalty,
            staff_id=staff_id,
            surveys=config.surveys,
            winback_config=config.winback,
            category=row.category,
            imported=True,
        )
        new += not recorded.duplicate
    return new


async def link(session: AsyncSession, customer: Customer, now: datetime, config: Config) -> int:
    """The customer shared a phone an imported member has: the member is linked to them (birthday and
    external id copied where the profile has none) and the member's imported purchases are booked to
    them (no points), in the caller's transaction, once. How many purchases were booked."""
    member = await members.pending_for(session, customer)
    if member is None:
        return 0
    await members.link_member(session, customer, member, now, config)
    waiting = list(
        await session.scalars(
            select(PendingPurchase)
            .where(PendingPurchase.pending_member_id == member.id)
            .order_by(PendingPurchase.id)
        )
    )
    values = [
        {
            "customer_id": customer.id,
            "amount": p.amount,
            "points": 0,
            "reference": p.reference,
            "category": p.category,
            "created_at": p.purchased_at,
            "survey_due_at": None,
        }
        for p in waiting
    ]
    booked = await insert_ignore_many(session, Purchase, values, ["reference"], returning=[Purchase.id])
    await session.execute(delete(PendingPurchase).where(PendingPurchase.pending_member_id == member.id))
    return len(booked)
