"""Customers: joining with consent, the profile, and finding a customer from what staff type."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import crypto, inputs
from storage.core.config import LANGUAGES, BirthdayConfig, Config
from storage.core.db import changed_rows
from storage.people import consent, member_codes, phones
from storage.people.birthdays import Birthday, local_today, next_greeting_at
from storage.people.models import Customer
from storage.people.timezones import is_valid_timezone

LAST_SEEN_EVERY = timedelta(minutes=5)
SEARCH_LIMIT = 10
_MAX_REMEMBERED = 100_000  # people a SeenBuffer remembers before it starts afresh


@dataclass(frozen=True)
class TelegramProfile:
    """What Telegram tells us about a user; used only once they accepted the privacy notice."""

    telegram_id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = None


def language_from_code(language_code: str | None, default: str) -> str:
    """Telegram's IETF tag ("zh-hans", "en-US") to one of our languages."""
    code = (language_code or "").lower().split("-")[0]
    return code if code in LANGUAGES else default


async def get(session: AsyncSession, telegram_id: int) -> Customer | None:
    return await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))


async def by_id(session: AsyncSession, customer_id: int) -> Customer | None:
    """The customer with our id (the `customer_id` other rows hold)."""
    return await session.get(Customer, customer_id)


async def join(session: AsyncSession, profile: TelegramProfile, config: Config, now: datetime) -> Customer:
    """Create the customer on consent (idempotent: pressing Accept twice keeps the first consent)."""
    customer = await get(session, profile.telegram_id)
    if customer is None:
        customer = Customer(
            telegram_id=profile.telegram_id,
            language=language_from_code(profile.language_code, config.default_language),
            timezone=config.default_timezone,
            consent_at=now,
            consent_version=consent.NOTICE_VERSION,
            last_seen_at=now,
            created_at=now,  # the clock the bot runs on, not the database's
            member_code=await _free_code(session),
        )
        session.add(customer)
    customer.first_name = profile.first_name[:128]
    customer.last_name = (profile.last_name or None) and profile.last_name[:128]
    customer.username = profile.username
    await session.flush()
    return customer


async def _free_code(session: AsyncSession) -> str:
    """A member code nobody has (a clash is one in tens of thousands even with a million members)."""
    while True:
        code = member_codes.new_code()
        if await session.scalar(select(Customer.id).where(Customer.member_code == code)) is None:
            return code


async def by_code(session: AsyncSession, code: str) -> Customer | None:
    """The customer whose member code is `code` as typed or scanned (any case), or None."""
    normal = member_codes.normalize(code)
    if normal is None:
        return None
    return await session.scalar(select(Customer).where(Customer.member_code == normal))


def schedule_birthday(
    customer: Customer, now: datetime, config: BirthdayConfig, on_or_after: date | None = None
) -> None:
    """Keep next_birthday_at (the indexed instant the birthday tick reads) in step with the profile."""
    if customer.birthday is None:
        customer.next_birthday_at = None
        return
    customer.next_birthday_at = next_greeting_at(
        customer.birthday.month,
        customer.birthday.day,
        customer.timezone,
        on_or_after or local_today(now, customer.timezone),
        hour=config.hour,
        minute=config.minute,
        leap_day_rule=config.leap_day_rule,
    )


async def set_birthday(
    session: AsyncSession,
    customer: Customer,
    birthday: Birthday,
    *,
    now: datetime | None = None,
    config: BirthdayConfig | None = None,
) -> None:
    customer.birthday = birthday
    schedule_birthday(customer, now or datetime.now(UTC), config or BirthdayConfig())
    await session.flush()


async def remove_birthday(session: AsyncSession, customer: Customer) -> bool:
    """Forget the birthday and the greeting it scheduled; False when there was none."""
    had = customer.birthday is not None
    customer.birthday = None
    customer.next_birthday_at = None
    await session.flush()
    return had


async def remove_phone(session: AsyncSession, customer: Customer) -> bool:
    """Forget the phone; False when there was none."""
    had = customer.phone is not None
    customer.phone = None
    await session.flush()
    return had


def normalize_phone(phone: str, region: str | None = None) -> str:
    """E.164 where phonenumbers reads the number (a national one with `region`), else "+digits"."""
    return phones.normalize(phone, region)


async def set_phone(session: AsyncSession, customer: Customer, phone: str, region: str | None = None) -> None:
    customer.phone = normalize_phone(phone, region) or None
    await session.flush()


async def set_timezone(
    session: AsyncSession,
    customer: Customer,
    name: str,
    *,
    now: datetime | None = None,
    config: BirthdayConfig | None = None,
) -> None:
    """A new time zone moves the next greeting to local morning there (a greeting already sent this
    year is not repeated: its dedupe key is per local year)."""
    if not is_valid_timezone(name):
        raise ValueError(f"unknown time zone {name!r}")
    customer.timezone = name
    schedule_birthday(customer, now or datetime.now(UTC), config or BirthdayConfig())
    await session.flush()


async def set_language(session: AsyncSession, customer: Customer, language: str) -> None:
    if language not in LANGUAGES:
        raise ValueError(f"unsupported language {language!r}")
    customer.language = language
    await session.flush()


class SeenBuffer:
    """Who was seen when, since the last flush; each person at most every LAST_SEEN_EVERY per process."""

    def __init__(self) -> None:
        self.pending: dict[int, datetime] = {}
        self.noted: dict[int, datetime] = {}

    def note(self, user_id: int, now: datetime) -> None:
        seen = self.noted.get(user_id)
        if seen is not None and now - seen < LAST_SEEN_EVERY:
            return
        if len(self.noted) >= _MAX_REMEMBERED:
            self.noted.clear()
        self.noted[user_id] = now
        self.pending[user_id] = now

    def take(self) -> dict[int, datetime]:
        taken, self.pending = self.pending, {}
        return taken


async def touch(session: AsyncSession, telegram_id: int, now: datetime) -> None:
    """Record activity at most every few minutes; a customer who writes is reachable again."""
    await record_seen(session, {telegram_id: now})


async def record_seen(session: AsyncSession, seen: Mapping[int, datetime]) -> None:
    """touch() for many people in one statement (the activity buffer's flush)."""
    if not seen:
        return
    # Core, not ORM: an executemany UPDATE keyed by telegram_id (not the primary key).
    table = cast(Table, Customer.__table__)
    statement = (
        update(table)
        .where(
            table.c.telegram_id == bindparam("who"),
            or_(
                table.c.last_seen_at.is_(None),
                table.c.last_seen_at < bindparam("stale"),
                table.c.unreachable_at.is_not(None),
            ),
        )
        .values(last_seen_at=bindparam("at"), unreachable_at=None)
    )
    rows = [{"who": who, "at": at, "stale": at - LAST_SEEN_EVERY} for who, at in seen.items()]
    await session.execute(statement, rows)


def like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _form(reference: str, by_phone: bool, region: str | None = None) -> tuple[str, int | str] | None:
    """What a reference names: ("id", our id), ("username", lowercased), ("code", a member code),
    ("phone", E.164; only `by_phone`) or ("telegram", a Telegram id, which `by_phone` also tries as a
    phone number). A number written with "+", "(", a leading 0 or spaces is a phone number."""
    ref = reference.strip()
    if ref.startswith("#"):
        row_id = inputs.int_or_none(ref, low=1, high=inputs.MAX_ID, hash_ok=True)
        return ("id", row_id) if row_id is not None else None
    if ref.startswith("@") and len(ref) > 1:
        return "username", ref[1:].lower()
    if (code := member_codes.normalize(ref)) is not None:
        return "code", code
    if (telegram_id := inputs.int_or_none(ref, low=1, high=inputs.MAX_TELEGRAM_ID)) is not None:
        if not ref.startswith("0"):
            return "telegram", telegram_id
    if phones.looks_like_phone(ref) and (phone := normalize_phone(ref, region)):
        return ("phone", phone) if by_phone else None
    return None


_COLUMNS: dict[str, Any] = {
    "id": Customer.id,
    "username": func.lower(Customer.username),
    "code": Customer.member_code,
    "phone": Customer.phone_hash,  # the phone is encrypted: its blind index is compared
    "telegram": Customer.telegram_id,
}


def _lookup(kind: str, value: int | str) -> list[Any]:
    """The values of `kind`'s column that mean `value`: a phone's blind index under every key (a
    key rotation may be midway), anything else itself."""
    return crypto.blind_indexes(str(value)) if kind == "phone" else [value]


def _by_phone(numbers: Iterable[str]) -> dict[str, str]:
    """Blind index (any key) -> the E.164 number it stands for."""
    return {index: number for number in numbers for index in crypto.blind_indexes(number)}


async def find(
    session: AsyncSession, reference: str, *, by_phone: bool = False, region: str | None = None
) -> Customer | None:
    """Exactly one customer from "#12" (our id), "@name", a member code, a Telegram id or, when
    `by_phone` (the role may see phone numbers: staff.can_see_personal_data), a phone number in any
    common format (national ones read in `region`)."""
    form = _form(reference, by_phone, region)
    if form is None:
        return None
    kind, value = form
    if kind == "id":
        return await session.get(Customer, value)
    found = await session.scalar(select(Customer).where(_COLUMNS[kind].in_(_lookup(kind, value))).limit(1))
    if found is None and kind == "telegram" and by_phone:
        ref = reference.strip()
        numbers = _by_phone({f"+{ref}", normalize_phone(f"+{ref}")})  # a number typed without its "+"
        found = await session.scalar(select(Customer).where(Customer.phone_hash.in_(numbers)).limit(1))
    return found


async def find_many(
    session: AsyncSession, references: Iterable[str], *, by_phone: bool = False
) -> dict[str, Customer]:
    """find() for many references at once (an imported file's batch): one query per form of
    reference; the references that name nobody are left out."""
    forms = {ref: form for ref in set(references) if (form := _form(ref, by_phone)) is not None}
    found: dict[str, Customer] = {}
    for kind, column in _COLUMNS.items():
        wanted = {ref: value for ref, (k, value) in forms.items() if k == kind}
        if wanted:
            looked_up = {v: value for value in set(wanted.values()) for v in _lookup(kind, value)}
            rows = await session.execute(select(column, Customer).where(column.in_(looked_up)))
            by_value = {looked_up[row[0]]: row[1] for row in rows}
            found |= {ref: by_value[value] for ref, value in wanted.items() if value in by_value}
    fallback = {
        f"+{ref.strip()}": ref for ref, (k, _) in forms.items() if k == "telegram" and ref not in found
    }
    if fallback and by_phone:
        indexes = _by_phone(fallback)
        by_phone_found = await session.execute(
            select(Customer.phone_hash, Customer).where(Customer.phone_hash.in_(indexes))
        )
        found |= {fallback[indexes[str(index)]]: customer for index, customer in by_phone_found}
    return found


async def search(
    session: AsyncSession,
    query: str,
    *,
    by_phone: bool = False,
    limit: int = SEARCH_LIMIT,
    region: str | None = None,
) -> list[Customer]:
    """Customers matching a name, @username, Telegram id, #id or (when `by_phone`) a whole phone
    number; exact references first. Whoever may not see phone numbers may not search by them. Part of
    a number finds nobody: the number is encrypted, only its blind index can be compared."""
    query = query.strip()
    exact = await find(session, query, by_phone=by_phone, region=region)
    if exact is not None:
        return [exact]
    if not query:
        return []
    pattern = like_pattern(query.lstrip("@"))
    conditions = [
        func.lower(Customer.first_name).like(pattern, escape="\\"),
        func.lower(Customer.last_name).like(pattern, escape="\\"),
        func.lower(Customer.username).like(pattern, escape="\\"),
        func.lower(Customer.first_name + " " + func.coalesce(Customer.last_name, "")).like(
            pattern, escape="\\"
        ),
        # 李伟: family name first, as Chinese, Japanese and Korean names are written
        func.lower(func.coalesce(Customer.last_name, "") + Customer.first_name).like(pattern, escape="\\"),
    ]
    rows = await session.scalars(select(Customer).where(or_(*conditions)).order_by(Customer.id).limit(limit))
    return list(rows)


async def set_account_manager(session: AsyncSession, customer: Customer, staff_id: int | None) -> None:
    """Who looks after the customer (regular care tasks go to them); None: the team."""
    customer.account_manager_id = staff_id
    await session.flush()


async def reassign_customers(session: AsyncSession, from_staff: int, to_staff: int | None) -> int:
    """Hand every customer of a staff member (one who is leaving) to another, or to the team; how many."""
    return await changed_rows(
        session,
        update(Customer).where(Customer.account_manager_id == from_staff).values(account_manager_id=to_staff),
    )
