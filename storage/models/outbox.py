from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, utcnow


class OutboxMessage(Base):
    """A proactive message waiting to be sent. The text is a template key rendered at send time in
    the recipient's language, so storage never needs the catalogs."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "not_before"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(String(96))
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    language: Mapped[str] = mapped_column(String(8))
    # Rows of [label template key or literal, callback_data]; see storage.outbox.
    buttons: Mapped[list[list[list[str]]] | None] = mapped_column(JSON)
    # queued | sending | sent | failed | skipped (recipient unreachable when it came due)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
