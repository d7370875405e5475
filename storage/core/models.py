"""The tables of the core context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, ForeignKey, Index, MetaData, String, Text, func, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Stores instants in UTC and always hands back aware datetimes (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value
        return stored.replace(tzinfo=UTC) if stored.tzinfo is None else stored.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime()}  # noqa: RUF012


def utcnow() -> datetime:
    return datetime.now(UTC)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, server_default=func.now())


class AuditEntry(Base):
    """Append-only record of staff actions and refused attempts."""

    __tablename__ = "audit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor_id: Mapped[int] = mapped_column(BigInteger, index=True)
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    action: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # "ok" or "refused"
    target: Mapped[str | None] = mapped_column(String(128))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Button(Base):
    """An inline button's meaning, behind the short opaque token carried in callback_data."""

    __tablename__ = "buttons"

    token: Mapped[str] = mapped_column(String(16), primary_key=True)
    action: Mapped[str] = mapped_column(String(48))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Who may press it: one Telegram user, or None for any staff member in the staff group.
    user_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]


class Conversation(TimestampMixin, Base):
    """What the bot is waiting for from a user in a chat ("the birthday", "a comment"), so that a
    restart continues where the person was."""

    __tablename__ = "conversations"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    user_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    step: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class LiveCard(Base):
    """The newest message of a kind (the profile card, the rewards catalog, a step's prompt) in a chat:
    its buttons work; an older card of the kind has lost its buttons (storage.core.live_cards)."""

    __tablename__ = "live_cards"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    message_id: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class BulkJob(Base):
    """Bulk work done in the background (a survey sent to an audience; later campaigns, imports,
    exports): fanned out in batches of one transaction each, resumable from `cursor`, with the staff
    message that shows its progress. storage.core.bulk keeps its rules; storage.background runs it."""

    __tablename__ = "bulk_jobs"
    # The bulk tick's two ranges, in their order; only scheduled rows (most jobs are long finished).
    __table_args__ = (
        Index(
            "ix_bulk_jobs_due",
            "due_at",
            "id",
            sqlite_where=text("due_at IS NOT NULL"),
            postgresql_where=text("due_at IS NOT NULL"),
        ),
        Index(
            "ix_bulk_jobs_report",
            "report_at",
            "id",
            sqlite_where=text("report_at IS NOT NULL"),
            postgresql_where=text("report_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Idempotency key (the Confirm button's token): a second press records no second job.
    key: Mapped[str] = mapped_column(String(160), unique=True)
    kind: Mapped[str] = mapped_column(String(32))  # whose step fans it out (storage.background.KINDS)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # queued | running (fanning out) | done (fanned out) | cancelled (stopped by staff) | failed
    state: Mapped[str] = mapped_column(String(16), default="queued")
    # When its next batch is due (None once it has fanned out, stopped or failed; later after a failure).
    due_at: Mapped[datetime | None]
    # The last key a committed batch handled (customers go in id order): a crash resumes after it.
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int | None]  # how many the job expects to handle (the preview's count), for the ETA
    queued: Mapped[int] = mapped_column(default=0)  # outbox rows it wrote (their fate: the outbox)
    skipped: Mapped[int] = mapped_column(default=0)  # left out while fanning out, by reason in `reasons`
    reasons: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    failures: Mapped[int] = mapped_column(default=0)  # batches that raised in a row (then: failed)
    error: Mapped[str | None] = mapped_column(Text)
    requested_by: Mapped[int] = mapped_column(BigInteger)
    # The staff message edited with the progress, and its language.
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    language: Mapped[str] = mapped_column(String(8))
    # When the message is next due an edit (None: the final summary is decided); what it last showed.
    report_at: Mapped[datetime | None]
    shown: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # Paused by staff (storage.background.pause): no batch runs and its outbox rows wait as "paused".
    paused_at: Mapped[datetime | None]


class ImportChunk(Base):
    """Rows of an imported CSV file, staged (STAGE_ROWS to a chunk, so recording a big file is a few
    hundred inserts) when the import is asked for, and handled (then deleted) by the import's batches in
    `id` order: the job's cursor is the last chunk handled."""

    __tablename__ = "import_chunks"
    __table_args__ = (Index("ix_import_chunks_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="CASCADE"))
    # [[line, {field: value as written}], ...]; a line counts the header as line 1, as spreadsheets do.
    rows: Mapped[list[Any]] = mapped_column(JSON)


class ExportChunk(Base):
    """A batch of an export's CSV text, written by the batch's transaction; the finished file is
    these chunks in `id` order (then they are deleted)."""

    __tablename__ = "export_chunks"
    __table_args__ = (Index("ix_export_chunks_job", "job_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="CASCADE"))
    data: Mapped[str] = mapped_column(Text)


class BotSetting(Base):
    """A setting chosen inside Telegram (the staff group) or a value the bot keeps for itself (the set-up
    code's hash), by key; what the environment sets wins over what is stored here."""

    __tablename__ = "bot_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
