"""A member list imported from CSV: each row a pre-registered member (pending_members) who has not
joined the bot, so is never sent anything; linked to the customer who joins and shares the same phone
(link_member; storage.loyalty.imports.link also books their imported purchases)."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import crypto
from storage.core.config import LANGUAGES, Config
from storage.core.imports import Outcome, Problem, RowRefused, Rows, quoted
from storage.core.models import BulkJob
from storage.core.upsert import insert_ignore_many
from storage.people import customers
from storage.people.birthdays import Birthday, BirthdayError, parse_birthday
from storage.people.models import Customer, PendingMember, phone_index

KIND = "import_members"
ALIASES = {
    "name": "name", "姓名": "name", "名字": "name",
    "phone": "phone", "电话": "phone", "手机": "phone",
    "birthday": "birthday", "生日": "birthday",
    "language": "language", "语言": "language",
    "external_id": "external_id", "external id": "external_id",
    "编号": "external_id", "会员编号": "external_id",
}  # fmt: skip
REQUIRED = frozenset({"name", "phone"})
NAME_MAX = 160
EXTERNAL_ID_MAX = 64
PHONE_DIGITS = (6, 15)  # E.164 numbers have at most 15 digits
_PHONE_CHARS = re.compile(r"[0-9+()\-. ]+")


def parse_phone(text: str) -> str:
    """A phone number as customers.normalize_phone stores it ("+8613800138000")."""
    digits = len(re.sub(r"[^0-9]", "", text))
    if (
        not _PHONE_CHARS.fullmatch(text)
        or not text.isascii()
        or not PHONE_DIGITS[0] <= digits <= PHONE_DIGITS[1]
    ):
        raise RowRefused("import.bad_phone", value=quoted(text))
    return customers.normalize_phone(text)


def parse_member(data: dict[str, str], today: date) -> dict[str, Any]:
    """A row's pending member (column values), or RowRefused with the reason."""
    name = data.get("name", "")
    if not name:
        raise RowRefused("import.missing", field="name")
    if len(name) > NAME_MAX:
        raise RowRefused("import.too_long", field="name", max=NAME_MAX)
    if not data.get("phone"):
        raise RowRefused("import.missing", field="phone")
    birthday = Birthday(month=0, day=0)
    if raw := data.get("birthday", ""):
        try:
            birthday = parse_birthday(raw, today)
        except BirthdayError:
            raise RowRefused("import.bad_birthday", value=quoted(raw)) from None
    language = data.get("language", "").lower() or None
    if language is not None and language not in LANGUAGES:
        raise RowRefused("import.bad_language", value=quoted(language))
    external_id = data.get("external_id") or None
    if external_id is not None and len(external_id) > EXTERNAL_ID_MAX:
        raise RowRefused("import.too_long", field="external_id", max=EXTERNAL_ID_MAX)
    return {
        "name": name,
        "phone": parse_phone(data["phone"]),
        "birthday": birthday if birthday.month else None,
        "language": language,
        "external_id": external_id,
    }


async def handle(session: AsyncSession, job: BulkJob, rows: Rows, now: datetime, config: Config) -> Outcome:
    """A batch of a member list: new phones become pending members (a phone or external id seen
    before is a duplicate); a phone that belongs to a customer already links at once."""
    outcome = Outcome()
    members: dict[str, dict[str, Any]] = {}
    for line, data in rows:
        try:
            member = parse_member(data, now.date())
        except RowRefused as refused:
            outcome.problems.append(Problem(line, refused.code, dict(refused.params)))
            continue
        if member["phone"] in members:
            outcome.duplicates += 1
            continue
        members[member["phone"]] = {**member, "phone_hash": phone_index(member["phone"]), "created_at": now}
    inserted = await insert_ignore_many(
        session, PendingMember, list(members.values()), None, returning=[PendingMember.id]
    )
    outcome.imported = len(inserted)
    outcome.duplicates += len(members) - len(inserted)
    if inserted:
        indexes = [index for phone in members for index in crypto.blind_indexes(phone)]
        joined = await session.scalars(select(Customer).where(Customer.phone_hash.in_(indexes)))
        for customer in joined:
            pending = await pending_for(session, customer)
            if pending is not None:
                await link_member(session, customer, pending, now, config)
    return outcome


async def pending_for(session: AsyncSession, customer: Customer) -> PendingMember | None:
    """The imported member not yet linked whose phone is this customer's."""
    if not customer.phone:
        return None
    return await session.scalar(
        select(PendingMember)
        .where(
            PendingMember.phone_hash.in_(crypto.blind_indexes(customer.phone)),
            PendingMember.linked_customer_id.is_(None),
        )
        .limit(1)
        .with_for_update()
    )


async def link_member(
    session: AsyncSession, customer: Customer, member: PendingMember, now: datetime, config: Config
) -> None:
    """The member is this customer: what the list knew and the profile does not (birthday, external
    id) is copied; the member is linked, once."""
    if customer.birthday is None and member.birthday is not None:
        await customers.set_birthday(session, customer, member.birthday, now=now, config=config.birthdays)
    if customer.external_id is None and member.external_id is not None:
        taken = await session.scalar(select(Customer.id).where(Customer.external_id == member.external_id))
        if taken is None:
            customer.external_id = member.external_id
    member.linked_customer_id, member.linked_at = customer.id, now
    await session.flush()
