from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, TimestampMixin


class Task(TimestampMixin, Base):
    """A follow-up for staff (回访): a callback, a complaint to handle, a customer to win back."""

    __tablename__ = "tasks"
    __table_args__ = (Index("ix_tasks_due", "status", "due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # callback | feedback | survey | winback
    reason: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | cancelled
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    # Business key that makes creation idempotent ("feedback:42", "winback:7:2026-03").
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # When the next reminder card is due: due_at at first, then once more when overdue; None when no
    # reminder is pending (closed, or reminded twice). Indexed: the tick reads only due reminders.
    remind_at: Mapped[datetime | None] = mapped_column(index=True)
    reminders: Mapped[int] = mapped_column(default=0)
    # Send the customer a courtesy message at the follow-up time.
    notify_customer: Mapped[bool] = mapped_column(default=False)
