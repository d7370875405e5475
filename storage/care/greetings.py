"""Birthday greetings: what the birthday tick does with the customers whose next_birthday_at has come,
and the staff's daily digest of today's birthdays (found by next_birthday_at: the birthday is encrypted)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import skip_locked
from storage.core.config import Config
from storage.loyalty import ledger
from storage.people import consent, outbox, preferences
from storage.people.birthdays import Birthday, greeting_date, local_today
from storage.people.customers import schedule_birthday
from storage.people.models import Customer, OutboxMessage

log = logging.getLogger(__name__)
# The tier of a customer (storage.points.tier_of builds one); None means "no tier".
TierOf = Callable[[AsyncSession, Customer], Awaitable[str | None]]
DIGEST_LINES = 40


def greeting_key(customer_id: int, local_year: int) -> str:
    """The greeting's dedupe key, and the bonus's ledger reference: once per customer and local year."""
    return f"birthday:{customer_id}:{local_year}"


def greeting_template(bonus: int, tier: str | None) -> str:
    """A tier's own text when the catalog has one ("a|b": the sender takes the first key it knows); keys
    are lower case ("Gold" → birthday.greeting_gold)."""
    base = "birthday.greeting_bonus" if bonus > 0 else "birthday.greeting"
    return f"{base}_{tier.lower()}|{base}" if tier else base


async def greet_due(
    session: AsyncSession, now: datetime, config: Config, *, limit: int = 500, tier_of: TierOf | None = None
) -> tuple[int, int]:
    """Greet the customers whose greeting time has come, on their local birthday only; returns (customers
    read, greetings queued): fewer read than `limit` means nothing more is due.

    A customer whose local birthday is already over (the bot was down all that day) is not greeted
    late: their next greeting is scheduled instead. Idempotent: the greeting and the bonus carry the
    same key, so a second tick or a second instance adds nothing. PostgreSQL: SKIP LOCKED lets two
    instances share the work.
    """
    due = skip_locked(
        select(Customer)
        .where(Customer.next_birthday_at <= now)
        .order_by(Customer.next_birthday_at)
        .limit(limit)
    )
    greeted = read = unwanted = 0
    rules = config.birthdays
    batch = list(await session.scalars(due))
    # Who turned birthday greetings off (/profile): no message; the bonus is theirs all the same.
    opted_out = await preferences.opted_out(session, [c.id for c in batch], preferences.BIRTHDAY)
    await consent.ask_again(session, opted_out, now)  # an out-of-date notice: the new one instead
    for customer in batch:
        read += 1
        birthday = customer.birthday
        if birthday is None:
            customer.next_birthday_at = None
            continue
        today = local_today(now, customer.timezone)
        if greeting_date(birthday.month, birthday.day, today.year, rules.leap_day_rule) != today:
            schedule_birthday(customer, now, rules, on_or_after=today)  # missed (or early): next one
            continue
        key = greeting_key(customer.id, today.year)
        tier = await tier_of(session, customer) if tier_of is not None else None
        if customer.id in opted_out:
            unwanted += 1
        elif await outbox.enqueue_for_customer(
            session,
            customer,
            dedupe_key=key,
            template=greeting_template(rules.bonus_points, tier),
            params={"name": customer.first_name, "points": rules.bonus_points, "tier": tier or ""},
            now=now,
        ):
            greeted += 1
        if rules.bonus_points > 0:
            await ledger.credit(
                session,
                customer_id=customer.id,
                points=rules.bonus_points,
                kind="birthday",
                reference=key,
                now=now,
                config=config.loyalty,
            )
        schedule_birthday(customer, now, rules, on_or_after=today + timedelta(days=1))
    await session.flush()
    if unwanted:
        log.info("birthday greetings: %d not sent (the customer turned them off)", unwanted)
    return read, greeted


def _near(day: date) -> ColumnElement[bool]:
    """Customers who may celebrate on this date, by next_birthday_at (the birthday itself is encrypted):
    their next greeting is within a day and a half of it (any time zone's local morning), or a year
    later (today's greeting already sent, the next one scheduled)."""
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    windows = [(start - timedelta(days=1), start + timedelta(days=2))]
    windows.append((windows[0][0] + timedelta(days=365), windows[0][1] + timedelta(days=366)))
    return or_(*(Customer.next_birthday_at.between(low, high) for low, high in windows))


def celebrates(birthday: Birthday | None, day: date, leap_day_rule: str) -> bool:
    return (
        birthday is not None and greeting_date(birthday.month, birthday.day, day.year, leap_day_rule) == day
    )


async def queue_digest(session: AsyncSession, now: datetime, config: Config) -> bool:
    """Once per staff-local day from the digest hour: today's birthdays for the staff group."""
    if config.staff_chat_id is None:
        return False
    local = now.astimezone(ZoneInfo(config.staff_timezone))
    if local.hour < config.birthdays.digest_hour:
        return False
    key = f"birthday-digest:{local.date().isoformat()}"
    if await session.scalar(select(OutboxMessage.id).where(OutboxMessage.dedupe_key == key)):
        return False
    # A few days' birthdays are read and decrypted (ix_customers_next_birthday_at), today's kept.
    near = await session.scalars(select(Customer).where(_near(local.date())).order_by(Customer.id))
    rule = config.birthdays.leap_day_rule
    rows = [c for c in near if celebrates(c.birthday, local.date(), rule)][: DIGEST_LINES + 1]
    if not rows:
        return False
    lines = [
        f"• #{c.id} {c.first_name}{' @' + c.username if c.username else ''}" for c in rows[:DIGEST_LINES]
    ]
    if len(rows) > DIGEST_LINES:
        lines.append("…")
    return await outbox.enqueue(
        session,
        dedupe_key=key,
        chat_id=config.staff_chat_id,
        template="birthday.digest",
        language=config.default_language,
        params={"date": local.date().isoformat(), "names": "\n".join(lines)},
        now=now,
    )


async def backfill(session: AsyncSession, now: datetime, config: Config, *, batch: int = 1000) -> int:
    """Customers with a birthday but no next greeting (set before the greeting schedule existed);
    run at start. Returns how many got one."""
    rows = await session.scalars(
        select(Customer)
        .where(Customer.next_birthday_at.is_(None), Customer.birthday.is_not(None))
        .limit(batch)
    )
    count = 0
    for customer in rows:
        schedule_birthday(customer, now, config.birthdays)
        count += 1
    await session.flush()
    return count
