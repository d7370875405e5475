"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, MetaData, func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from bot.i18n import Catalog
from handlers.staff import followups as staff_followups
from storage import migrate
from storage.care import feedback, followups
from storage.care.models import CustomerNote, FeedbackItem, FollowUp
from storage.core import buttons, conversations, crypto, db
from storage.core.config import SurveyConfig
from storage.core.models import AuditEntry, Base
from storage.loyalty.models import LedgerEntry, Purchase, Voucher
from storage.people import customers, member_codes
from storage.people.birthdays import Birthday
from storage.people.models import OutboxMessage, PendingMember
from tests import databases


async def test_migrations_match_models(engine: AsyncEngine) -> None:
    def diff(connection):
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return compare_metadata(context, Base.metadata)

    async with engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_upgrade_is_idempotent(engine: AsyncEngine) -> None:
    await migrate.upgrade(engine)  # already at head: a second start must not fail
    async with engine.connect() as conn:
        tables = await conn.run_sync(lambda c: set(c.dialect.get_table_names(c)))
    assert {"customers", "outbox", "follow_ups", "audit_entries", "alembic_version"} <= tables


@pytest.fixture
async def empty_database_url(db_kind: str, tmp_path: Path) -> AsyncIterator[str]:
    """A database with no tables yet, to migrate step by step."""
    if db_kind == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'old.db'}"
        return
    databases.postgres_or_skip()
    name = f"engagebot_m_{uuid.uuid4().hex[:12]}"
    await databases._admin(f"CREATE DATABASE {name}")
    url = make_url(databases.POSTGRES_URL).set(database=name).render_as_string(False)
    yield url
    await databases.drop_database(url)


AGENT, STAFF_CHAT = 7, -100
DUE = datetime(2026, 3, 10, 10, 0, tzinfo=UTC)
OLD_ROWS = {  # a follow-up call from a feedback card, as revision 0006 stored it
    "customers": {"id": 1, "telegram_id": 501, "first_name": "Lena", "language": "en", "timezone": "UTC"},
    "tasks": {
        "id": 1,
        "customer_id": 1,
        "kind": "callback",
        "reason": "call about the repair",
        "due_at": DUE,
        "status": "open",
        "source_ref": "feedback:1:callback",
        "remind_at": DUE,
    },
    "feedback_items": {
        "id": 1,
        "customer_id": 1,
        "kind": "feedback",
        "source_ref": "msg:501:9",
        "status": "claimed",
        "claimed_by": AGENT,
        "task_id": 1,
    },
    "buttons": {"token": "oldtoken", "action": "task/done", "payload": {"task_id": 1}},
    "conversations": {
        "chat_id": STAFF_CHAT,
        "user_id": AGENT,
        "step": "callbacks/outcome",
        "payload": {"task_id": 1},
    },
    "outbox": {
        "dedupe_key": "task:1:202603101000:1",
        "chat_id": STAFF_CHAT,
        "template": "callbacks.reminder",
        "params": {"id": 1},
        "language": "en",
        "status": "queued",
        "buttons": [[["@callbacks.done", "b:oldtoken"], ["@callbacks.mine", "b:other"]]],
        "attempts": 0,
    },
}


async def _insert_old_rows(engine: AsyncEngine) -> None:
    meta = MetaData()
    async with engine.begin() as conn:
        await conn.run_sync(meta.reflect)
        for table, row in OLD_ROWS.items():
            stamps = {"created_at": DUE, "consent_at": DUE, "not_before": DUE}
            columns = meta.tables[table].c
            await conn.execute(
                insert(meta.tables[table]).values(**{k: v for k, v in stamps.items() if k in columns}, **row)
            )


async def test_upgrade_keeps_follow_ups_stored_before_the_rename(
    empty_database_url: str, catalog: Catalog
) -> None:
    engine = db.create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine, "0006")
        await _insert_old_rows(engine)
        await migrate.upgrade(engine)
        async with db.create_session_factory(engine).begin() as session:
            # The reminder card's Done button, pressed after the upgrade, still finds its follow-up.
            button = await buttons.resolve(session, "b:oldtoken", AGENT, DUE)
            assert button.action in {f"follow_up/{action}" for action in followups.ACTIONS}
            follow_up = await followups.get_open(session, button.payload["follow_up_id"])
            assert follow_up is not None and follow_up.kind == "call"
            # The outcome note the agent was asked for still closes it.
            pending = await conversations.current(session, STAFF_CHAT, AGENT)
            assert pending is not None and pending.step in staff_followups.STEPS
            # "Call back" again on the old feedback card shows the same follow-up, not a second one.
            item = await session.get(FeedbackItem, 1)
            assert item.follow_up_id == follow_up.id
            again = await feedback.call_back(session, item, AGENT, DUE, SurveyConfig(), "again")
            assert again.id == item.follow_up_id == follow_up.id
            assert await session.scalar(select(func.count()).select_from(FollowUp)) == 1
            assert await followups.complete(session, pending.payload["follow_up_id"], "fixed", DUE)
            # The queued reminder card still renders, buttons and all.
            card = await session.scalar(select(OutboxMessage))
            assert card.dedupe_key == followups.reminder_key(follow_up)  # the tick will not queue it again
            assert catalog.has(card.template)
            assert all(catalog.has(label[1:]) for row in card.buttons for label, _ in row)
        await _downgrade(engine, "0006")
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT kind, source_ref FROM tasks"))).one() == (
                "callback",
                "feedback:1:callback",
            )
            assert (await conn.execute(text("SELECT action FROM buttons"))).scalar() == "task/done"
            assert (await conn.execute(text("SELECT template, dedupe_key FROM outbox"))).one() == (
                "callbacks.reminder",
                "task:1:202603101000:1",
            )
            assert (await conn.execute(text("SELECT task_id FROM feedback_items"))).scalar() == 1
    finally:
        await engine.dispose()


async def _downgrade(engine: AsyncEngine, revision: str) -> None:
    def run(connection: Connection) -> None:
        cfg = migrate.alembic_config()
        cfg.attributes["connection"] = connection
        command.downgrade(cfg, revision)

    async with engine.begin() as conn:
        await conn.run_sync(run)


async def test_0014_gives_every_customer_a_code_and_reads_stored_phones(empty_database_url: str) -> None:
    engine = db.create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine, "0012")
        async with engine.begin() as conn:
            for n, phone in enumerate(["+015123456785", "+4930 1234567", None, "+12"], start=1):
                await conn.execute(
                    text(
                        "INSERT INTO customers (id, telegram_id, first_name, language, timezone, phone,"
                        " consent_at, created_at) VALUES (:n, :tid, 'C', 'en', 'UTC', :phone, :at, :at)"
                    ),
                    {"n": n, "tid": 100 + n, "phone": phone, "at": DUE},
                )
        await migrate.upgrade(engine, "0014", phone_region="DE")
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT phone, member_code FROM customers ORDER BY id"))).all()
        assert [phone for phone, _ in rows] == ["+4915123456785", "+49301234567", None, "+12"]
        codes = [code for _, code in rows]
        assert len(set(codes)) == 4 and all(member_codes.normalize(code) == code for code in codes)
    finally:
        await engine.dispose()


async def test_0024_encrypts_what_was_stored_in_plain_text(empty_database_url: str) -> None:
    engine = db.create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine, "0015")
        async with engine.begin() as conn:
            for n, phone, birthday in [(1, "+4915123456785", (1990, 5, 17)), (2, None, (None, 2, 29))]:
                await conn.execute(
                    text(
                        "INSERT INTO customers (id, telegram_id, first_name, language, timezone, phone,"
                        " birth_year, birth_month, birth_day, consent_at, created_at)"
                        " VALUES (:n, :tid, 'C', 'en', 'UTC', :phone, :y, :m, :d, :at, :at)"
                    ),
                    {"n": n, "tid": 100 + n, "phone": phone, "y": birthday[0], "m": birthday[1],
                     "d": birthday[2], "at": DUE},
                )  # fmt: skip
            for n, phone in [(1, "+8613800138000"), (2, "erased:2")]:
                await conn.execute(
                    text(
                        "INSERT INTO pending_members (id, name, phone, birth_month, birth_day, created_at)"
                        " VALUES (:n, 'M', :phone, 12, 24, :at)"
                    ),
                    {"n": n, "phone": phone, "at": DUE},
                )
            await conn.execute(
                text(
                    "INSERT INTO customer_notes (customer_id, staff_id, text, created_at) VALUES (1, 7, :t, :a)"  # noqa: E501
                ),
                {"t": "calls after 6pm", "a": DUE},
            )
        await migrate.upgrade(engine)
        async with engine.connect() as conn:
            dump = repr((await conn.execute(text("SELECT * FROM customers"))).all())
            dump += repr((await conn.execute(text("SELECT * FROM pending_members"))).all())
            dump += repr((await conn.execute(text("SELECT * FROM customer_notes"))).all())
        for plain in ("15123456785", "13800138000", "1990", "05-17", "12-24", "calls after"):
            assert plain not in dump
        assert "erased:2" in dump  # a tombstone stays one
        sessions = db.create_session_factory(engine)
        async with sessions() as session:
            found = await customers.find(session, "+49 151 23456785", by_phone=True)
            assert found is not None and found.id == 1
            assert found.birthday == Birthday(month=5, day=17, year=1990)
            leap = await customers.by_id(session, 2)
            assert leap is not None and leap.birthday == Birthday(month=2, day=29) and leap.phone is None
            member = await session.get(PendingMember, 1)
            assert member is not None and member.phone == "+8613800138000"
            assert member.birthday == Birthday(month=12, day=24)
            assert member.phone_hash == crypto.blind_index("+8613800138000")
            note = await session.scalar(select(CustomerNote.text))
            assert note == "calls after 6pm"
    finally:
        await engine.dispose()


PLAIN_0026 = {  # what staff wrote about a customer before 0026, in the columns it encrypts
    "customers": {"id": 1, "telegram_id": 501, "first_name": "Lena", "language": "en", "timezone": "UTC"},
    "follow_ups": {
        **{"id": 1, "customer_id": 1, "kind": "call", "due_at": DUE, "status": "done"},
        **{
            "reason": "Lena's blender broke",
            "outcome": "Lena is pregnant, call after May",
            "updated_at": DUE,
        },
    },
    "purchases": {
        "id": 1,
        "customer_id": 1,
        "amount": 12.5,
        "points": 12,
        "note": "gift for her husband",
        "reference": "p1",
    },
    "ledger_entries": {
        **{"id": 1, "customer_id": 1, "kind": "award", "points": 5, "reference": "a1"},
        **{"note": "sorry for the rude waiter", "remaining": 5},
    },
    "rewards": {"id": 1, "title": "Mug", "description": "", "cost": 5, "active": True, "updated_at": DUE},
    "vouchers": {
        **{"id": 1, "code": "V1", "idempotency_key": "k1", "customer_id": 1, "reward_id": 1, "title": "Mug"},
        **{"points": 5, "status": "cancelled", "cancel_reason": "she moved abroad"},
    },
    "outbox": {
        **{"id": 1, "dedupe_key": "o1", "chat_id": 501, "customer_id": 1, "template": "loyalty.awarded"},
        **{"params": {"reason": "sorry for the rude waiter"}, "language": "en", "status": "sent"},
        "attempts": 1,
    },
}
AUDIT_0026 = [  # (action, outcome, detail as stored, detail after 0026)
    ("purchase", "ok", {"amount": "12.50", "note": "gift for her husband"}, {"amount": "12.50"}),
    ("award", "ok", {"points": 5, "reason": "sorry for the rude waiter"}, {"points": 5}),
    ("follow_up/done", "ok", {"outcome": "Lena is pregnant"}, {}),
    ("deduct", "refused", {"reason": "role", "needs": "admin"}, {"reason": "role", "needs": "admin"}),
]
SECRETS_0026 = ("blender", "pregnant", "husband", "rude waiter", "abroad")


async def _dump_0026(engine: AsyncEngine) -> str:
    dump = ""
    async with engine.connect() as conn:
        for table in ("follow_ups", "purchases", "ledger_entries", "vouchers", "outbox", "audit_entries"):
            dump += repr((await conn.execute(text(f"SELECT * FROM {table}"))).all())
    return dump


async def test_0026_encrypts_staff_texts_and_forgets_the_audit_copies(empty_database_url: str) -> None:
    engine = db.create_engine(empty_database_url)
    try:
        await migrate.upgrade(engine, "0024")
        meta = MetaData()
        async with engine.begin() as conn:
            await conn.run_sync(meta.reflect)
            for table, row in PLAIN_0026.items():
                columns = meta.tables[table].c
                stamps = {k: DUE for k in ("created_at", "consent_at", "not_before") if k in columns}
                await conn.execute(insert(meta.tables[table]).values(**stamps, **row))
            for action, outcome, detail, _ in AUDIT_0026:
                await conn.execute(
                    insert(meta.tables["audit_entries"]).values(
                        at=DUE, actor_id=AGENT, action=action, outcome=outcome, detail=detail
                    )
                )
        await migrate.upgrade(engine)
        dump = await _dump_0026(engine)
        assert not [plain for plain in SECRETS_0026 if plain in dump]
        async with db.create_session_factory(engine)() as session:
            follow_up = await session.get(FollowUp, 1)
            assert follow_up is not None and follow_up.reason == "Lena's blender broke"
            assert follow_up.outcome == "Lena is pregnant, call after May"
            assert await session.scalar(select(Purchase.note)) == "gift for her husband"
            assert await session.scalar(select(LedgerEntry.note)) == "sorry for the rude waiter"
            assert await session.scalar(select(Voucher.cancel_reason)) == "she moved abroad"
            assert await session.scalar(select(OutboxMessage.params)) == {
                "reason": "sorry for the rude waiter"
            }
            details = list(await session.scalars(select(AuditEntry.detail).order_by(AuditEntry.id)))
            assert details == [after for *_, after in AUDIT_0026]
        await _downgrade(engine, "0024")  # the texts come back in plain text; the audit copies do not
        dump = await _dump_0026(engine)
        assert [plain for plain in SECRETS_0026 if plain in dump] == list(SECRETS_0026)
    finally:
        await engine.dispose()
