"""A large, quiet business for benchmarks and query-plan tests: `n` customers, each with a purchase, a
points account, lots (one live, one spent and expired), a sent greeting, an invitation to the one
survey weeks ago, and every tenth a follow-up and a bulk job long done; nothing due at `now`. One
INSERT … SELECT over a generated series per table (no ORM, no rows in Python), so a million customers
take seconds, not minutes.

Every schedule column holds what a real database would hold: next birthdays spread over the year, lapse
times weeks ahead, lots' warnings beyond the warning horizon, most purchase surveys already handled
(NULL), a few follow-ups open and not yet due, sent messages and a few queued for tomorrow."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from bot.i18n import Catalog
from jobs import birthdays, complaints, expiry, followups, purchase_surveys, scoring, winback
from jobs import bulk as bulk_jobs
from jobs.sender import Sender
from storage.core import crypto
from storage.core.clock import Clock
from storage.core.config import Config
from storage.loyalty import points
from storage.people import consent
from tests.jobs.fakes import FakeMessage

# Tables with an integer id the seed sets itself; PostgreSQL's sequences are moved past them.
SEQUENCES = (
    "customers",
    "purchases",
    "ledger_entries",
    "follow_ups",
    "outbox",
    "surveys",
    "survey_invitations",
    "bulk_jobs",
    "feedback_items",
    "feedback_messages",
    "insight_runs",
)


def _dialect_sql(dialect: str) -> tuple[str, str, str]:
    """(WITH clause, FROM clause, the instant `now + {days} days` as SQL) for a dialect; {days} may
    be any integer expression of the series' `i`."""
    if dialect == "sqlite":
        # strftime per value would be most of the work: instants come from a table of days (_DAYS).
        return (
            "WITH RECURSIVE seq(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM seq WHERE i < :n) ",
            "FROM seq",
            "(SELECT at FROM bulk_days WHERE d = ({days}))",
        )
    return (
        "",
        "FROM generate_series(1, :n) AS seq(i)",
        "(CAST(:now AS TIMESTAMPTZ) + ({days}) * INTERVAL '1 day')",
    )


# SQLite: now + d days for every offset the tables use, as storage.core.models.UTCDateTime stores an
# instant there (naive UTC text, six fractional digits).
_DAYS = (
    "CREATE TEMP TABLE bulk_days (d INTEGER PRIMARY KEY, at TEXT)",
    "WITH RECURSIVE seq(d) AS (SELECT -1000 UNION ALL SELECT d + 1 FROM seq WHERE d < 1000) "
    "INSERT INTO bulk_days SELECT d, strftime('%Y-%m-%d %H:%M:%f', :now, d || ' days') || '000' FROM seq",
)
# Secondary indexes (not those behind a primary key or unique constraint): dropped for the load and
# built again after it, which is several times faster than keeping them up to date row by row.
_INDEXES = {
    "sqlite": "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL",
    "postgresql": "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
    "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
}


BULK_SURVEY_QUESTIONS = (
    '[{"id": "score", "type": "csat", "text": null, "min": 1, "max": 5, "optional": false}]'
)
# The statistics of a scoring run (storage.insight.scoring.Population) for a small base: fixed cut
# points, no pyramid, no model.
RUN_POPULATION = (
    '{"rfm": {"recency": [30, 60, 120, 240], "frequency": [1, 2, 3, 5], "monetary": [50, 150, 400, 1000], '
    '"quintiles": false}, "pyramid": null, "model": {"bgnbd": null, "spend": null}}'
)
# Column lists and per-row expressions; {at:EXPR} is replaced by the instant now + EXPR days.
TABLES: dict[str, dict[str, str]] = {
    "customers": {
        "id": "i",
        "telegram_id": "1000000000 + i",
        "first_name": "'C' || i",
        "language": "'en'",
        "timezone": "'UTC'",
        "birthday_encrypted": "{secret:--06-15}",  # one token for all: encrypting is per value, in Python
        "consent_at": "{at:-400}",
        "consent_version": f"'{consent.NOTICE_VERSION}'",  # the notice in force: they may be messaged
        "last_seen_at": "{at:-(i % 90)}",
        "unreachable_at": "CASE WHEN i % 50 = 0 THEN {at:-10} END",
        "next_birthday_at": "{at:1 + i % 360}",
        "created_at": "{at:-400}",
        "updated_at": "{at:-1}",
    },
    "purchases": {
        "id": "i",
        "customer_id": "i",
        "amount": "10 + i % 500",
        "points": "10 + i % 500",
        "reference": "'bulk-purchase:' || i",
        "created_at": "{at:-(1 + i % 20)}",
        # Handled long ago, except a few invitations due tomorrow.
        "survey_due_at": "CASE WHEN i % 100 = 0 THEN {at:1} END",
    },
    "loyalty_accounts": {
        "customer_id": "i",
        "balance": "100 + i % 900",
        "winback_due_at": "{at:59 - i % 20}",
        "winback_purchase_id": "i",
        "created_at": "{at:-400}",
        "updated_at": "{at:-1}",
    },
    # Two lots per customer: the live one (warned about two weeks before it expires) and an old one,
    # spent, past its expiry.
    "ledger_entries": {
        "id": "2 * i - 1",
        "customer_id": "i",
        "kind": "'earn'",
        "points": "100 + i % 900",
        "reference": "'bulk-live:' || i",
        "created_at": "{at:-(1 + i % 20)}",
        "expires_at": "{at:30 + i % 300}",
        "remaining": "100 + i % 900",
        "warn_at": "{at:30 + i % 300}",
    },
    "ledger_entries ": {  # the second lot (the trailing space keeps the key apart)
        "id": "2 * i",
        "customer_id": "i",
        "kind": "'earn'",
        "points": "50",
        "reference": "'bulk-spent:' || i",
        "created_at": "{at:-400}",
        "expires_at": "{at:-(35 + i % 300)}",
        "remaining": "0",
        "warn_at": "NULL",
    },
    "follow_ups": {
        "id": "i / 10",
        "customer_id": "i",
        "kind": "'call'",
        "reason": "{secret:bulk}",
        "due_at": "{at:CASE WHEN i % 100 = 0 THEN 2 ELSE -(i % 300) END}",
        "status": "CASE WHEN i % 100 = 0 THEN 'open' ELSE 'done' END",
        "source_ref": "'bulk-follow-up:' || i",
        "remind_at": "CASE WHEN i % 100 = 0 THEN {at:2} END",
        "reminders": "0",
        "notify_customer": "FALSE",
        "created_at": "{at:-(i % 300)}",
        "updated_at": "{at:-(i % 300)}",
    },
    "outbox": {
        "id": "i",
        "dedupe_key": "'bulk-message:' || i",
        "chat_id": "1000000000 + i",
        "customer_id": "i",
        "template": "'birthday.greeting'",
        "params": "{secret-json:{}}",
        "language": "'en'",
        "status": "CASE WHEN i % 1000 = 0 THEN 'queued' WHEN i % 50 = 0 THEN 'skipped' ELSE 'sent' END",
        "not_before": "{at:CASE WHEN i % 1000 = 0 THEN 1 ELSE -(1 + i % 300) END}",
        "attempts": "CASE WHEN i % 1000 = 0 THEN 0 ELSE 1 END",
        "sent_at": "CASE WHEN i % 1000 = 0 OR i % 50 = 0 THEN NULL ELSE {at:-(1 + i % 300)} END",
        "created_at": "{at:-(1 + i % 300)}",
    },
    # A choice per customer (/profile, "Stop offers"), one kind in turn, every 20th turned off: the
    # table the fan-outs and the birthday tick ask.
    "message_preferences": {
        "customer_id": "i",
        "kind": "CASE i % 3 WHEN 0 THEN 'offers' WHEN 1 THEN 'surveys' ELSE 'birthday' END",
        "enabled": "i % 20 <> 0",
        "updated_at": "{at:-(1 + i % 300)}",
    },
    # One survey (active), to which every customer was invited weeks ago (outside the throttle window);
    # bulk jobs long done (a send every few days for years).
    "surveys": {
        "id": "i",
        "name": "'bulk-survey'",
        "kind": "'csat'",
        "questions": "'" + BULK_SURVEY_QUESTIONS + "'",
        "status": "'active'",
        "general": "FALSE",
        "activated_at": "{at:-400}",
        "created_at": "{at:-400}",
        "updated_at": "{at:-400}",
    },
    "bulk_jobs": {
        "id": "i / 10",
        "key": "'bulk-job:' || i",
        "kind": "'survey_send'",
        "params": "'{}'",
        "state": "'done'",
        "cursor": "i",
        "total": "1000",
        "queued": "1000",
        "skipped": "0",
        "reasons": "'{}'",
        "failures": "0",
        "requested_by": "1",
        "language": "'en'",
        "created_at": "{at:-(40 + i % 300)}",
        "finished_at": "{at:-(40 + i % 300)}",
    },
    "feedback_items": {  # every 5th customer wrote once, long resolved: the clock has nothing to do
        "id": "i / 5",
        "customer_id": "i",
        "kind": "'feedback'",
        "source_ref": "'bulk-feedback:' || i",
        "comment": "{secret:ok}",
        "status": "'resolved'",
        "priority": "'normal'",
        "alerts_sent": "4",
        "reopened": "0",
        "created_at": "{at:-(40 + i % 300)}",
        "updated_at": "{at:-(40 + i % 300)}",
    },
    "feedback_messages": {  # and was answered once
        "id": "i / 5",
        "feedback_id": "i / 5",
        "direction": "'to_customer'",
        "author_id": "1",
        "source_chat_id": "-100",
        "source_message_id": "i",
        "text": "{secret:thanks}",
        "created_at": "{at:-(39 + i % 300)}",
    },
    # Every other customer has bought and been scored (the scoring tick keeps these current).
    "customer_scores": {
        "customer_id": "i",
        "last_purchase_at": "{at:-(40 + i % 300)}",
        "purchases": "1 + i % 7",
        "recency_days": "40 + i % 300",
        "frequency": "1 + i % 7",
        "monetary": "20 + i % 500",
        "r_score": "1 + i % 5",
        "f_score": "1 + i % 5",
        "m_score": "1 + i % 5",
        "segment": "'loyal'",
        "level": "CASE WHEN i % 100 = 0 THEN 'key' ELSE 'regular' END",
        "p_alive": "0.8",
        "expected_purchases_90d": "0.5",
        "clv_12m": "100",
        "scored_at": "{at:-1}",
    },
    # Nightly scoring runs, long finished (one a night for years); today's is added by _load.
    "insight_runs": {
        "id": "i / 10",
        "key": "'2000-old-' || i",  # before any real date, as the earlier nights' keys are
        "as_of": "{at:-(2 + i % 1000)}",
        "population": "'" + RUN_POPULATION + "'",
        "buyers": "i",
        "repeat_buyers": "i / 2",
        "cursor": "i",
        "scored": "i",
        "started_at": "{at:-(2 + i % 1000)}",
        "finished_at": "{at:-(2 + i % 1000)}",
    },
    "survey_invitations": {
        "id": "i",
        "token": "'bulk' || i",
        "survey_id": "1",
        "customer_id": "i",
        "dedupe_key": "'bulk-invitation:' || i",
        "source": "'send'",
        "status": "CASE WHEN i % 3 = 0 THEN 'completed' ELSE 'invited' END",
        "position": "0",
        "created_at": "{at:-(40 + i % 300)}",
        "expires_at": "{at:-(33 + i % 300)}",
    },
}
WHERE = {
    "customer_scores": "i % 2 = 0",
    "follow_ups": "i % 10 = 0",
    "surveys": "i = 1",
    "bulk_jobs": "i % 10 = 0",
    "feedback_items": "i % 5 = 0",
    "feedback_messages": "i % 5 = 0",
    "insight_runs": "i % 10 = 0",
}


def _expression(template: str, at: str) -> str:
    # {secret:TEXT}: TEXT encrypted (storage.core.crypto), the same token on every row;
    # {secret-json:JSON}: as an EncryptedJSON column stores it (the token as a JSON string).
    if template.startswith("{secret-json:"):
        return "'\"" + crypto.keyring().encrypt(template[len("{secret-json:") : -1]) + "\"'"
    if template.startswith("{secret:"):
        return "'" + crypto.keyring().encrypt(template[len("{secret:") : -1]) + "'"
    while "{at:" in template:
        start = template.index("{at:")
        depth, end = 0, start
        for end in range(start, len(template)):  # the matching brace (expressions may hold CASE … END)
            depth += {"{": 1, "}": -1}.get(template[end], 0)
            if depth == 0:
                break
        template = template[:start] + at.format(days=template[start + 4 : end]) + template[end + 1 :]
    return template


def insert_statements(dialect: str) -> list[str]:
    """The INSERT … SELECT per table, in foreign-key order."""
    with_clause, from_clause, at = _dialect_sql(dialect)
    statements = []
    for key, columns in TABLES.items():
        table = key.strip()
        values = ", ".join(_expression(expr, at) for expr in columns.values())
        where = f" WHERE {WHERE[table]}" if table in WHERE else ""
        statements.append(
            f"{with_clause}INSERT INTO {table} ({', '.join(columns)}) SELECT {values} {from_clause}{where}"
        )
    return statements


async def _load(conn: AsyncConnection, n: int, now: datetime) -> None:
    dialect = conn.dialect.name
    stamp: str | datetime = now.astimezone(UTC)
    if dialect == "sqlite":
        stamp = now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        for statement in _DAYS:
            await conn.execute(text(statement), {"now": stamp})
    else:  # the rows are consistent by construction: no foreign key checks, row by row (superuser)
        await conn.execute(text("SET LOCAL session_replication_role = replica"))
        await conn.execute(text("SET LOCAL maintenance_work_mem = '256MB'"))
    indexes = (await conn.execute(text(_INDEXES[dialect]))).all()
    for name, _ in indexes:
        await conn.execute(text(f"DROP INDEX {name}"))
    for statement in insert_statements(dialect):
        await conn.execute(text(statement), {"n": n, "now": stamp})
    # Today's scoring run (keyed by the staff-local date: the tests' configs use UTC), finished: the
    # scoring tick has nothing to start.
    await conn.execute(
        text(
            "INSERT INTO insight_runs (id, key, as_of, population, buyers, repeat_buyers, cursor, scored, "
            "started_at, finished_at) VALUES (:id, :key, :at, :population, :n, 0, :n, :n, :at, :at)"
        ),
        {
            "id": n // 10 + 1,
            "key": now.astimezone(UTC).date().isoformat(),
            "at": now.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if dialect == "sqlite" else stamp,
            "population": RUN_POPULATION,
            "n": n,
        },
    )
    for _, create in indexes:
        await conn.execute(text(create))
    if dialect == "sqlite":
        await conn.execute(text("DROP TABLE bulk_days"))
    else:
        for table in SEQUENCES:
            await conn.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
            )


async def seed_quiet_business(engine: AsyncEngine, n: int, now: datetime) -> None:
    """Fill a migrated, empty database (see the module's docstring) in one transaction; on PostgreSQL
    then ANALYZE, as autovacuum would after such a load. SQLite gets no statistics: the bot never runs
    ANALYZE."""
    async with engine.begin() as conn:
        await _load(conn, n, now)
    if engine.dialect.name == "postgresql":
        async with engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


# --- every tick, one pass each (as bot.ticks and the sender's loop run them) --------------------------


class LocalBot:
    """The sender's bot, without a network: accepts whatever it is given (a staff digest the birthday
    tick queued)."""

    async def send_message(self, *args: Any, **kwargs: Any) -> FakeMessage:
        return FakeMessage(1)


Tick = Callable[[], Awaitable[object]]
# What a pass that found nothing due returns, per tick.
IDLE: dict[str, object] = {
    "birthdays": 0,
    "followups": 0,
    "expiry": (0, 0),
    "winback": 0,
    "purchase_surveys": Counter(),
    "sender": 0,
    "bulk": 0,
    "complaints": 0,
    "scoring": 0,
}


def ticks(sessions: async_sessionmaker[AsyncSession], clock: Clock, config: Config) -> dict[str, Tick]:
    """One pass of each tick, by name (the sender: one round of its loop; bulk: the fan-out of bulk jobs,
    whose progress edits are handlers')."""
    tier_of = points.tier_of(clock.now, config.loyalty)
    sender = Sender(LocalBot(), sessions, clock, Catalog.load(), config.sender)  # type: ignore[arg-type]
    return {
        "birthdays": lambda: birthdays.tick(sessions, clock, config, tier_of=tier_of),
        "followups": lambda: followups.tick(sessions, clock, config),
        "expiry": lambda: expiry.tick(sessions, clock, config),
        "winback": lambda: winback.tick(sessions, clock, config),
        "purchase_surveys": lambda: purchase_surveys.tick(sessions, clock, config),
        "sender": sender.drain_once,
        "bulk": lambda: bulk_jobs.tick(sessions, clock, config, reads=sessions),
        "complaints": lambda: complaints.tick(sessions, clock, config),
        "scoring": lambda: scoring.tick(sessions, clock, config, reads=sessions),
    }
