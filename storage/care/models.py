"""The tables of the care context."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.core.crypto import Encrypted
from storage.core.models import Base, TimestampMixin, utcnow


class FollowUp(TimestampMixin, Base):
    """A follow-up for staff (回访): a call to make, a customer to win back."""

    __tablename__ = "follow_ups"
    __table_args__ = (
        Index("ix_follow_ups_due", "status", "due_at"),
        # The reminders the follow-ups tick reads: open ones whose remind_at has come, in that order.
        # (status, remind_at), not remind_at alone: SQLite without statistics prefers an index that
        # matches `status = ?`, and ix_follow_ups_due would read every open follow-up.
        Index(
            "ix_follow_ups_reminders",
            "status",
            "remind_at",
            sqlite_where=text("remind_at IS NOT NULL"),
            postgresql_where=text("remind_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(24))  # call | winback
    # What the task is about and what came of the call: staff's words about the customer (a feedback
    # task quotes their comment), so encrypted at rest like notes.
    reason: Mapped[str] = mapped_column(Encrypted())
    due_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | done | cancelled
    assignee_id: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    # Business key that makes creation idempotent ("feedback:42:call", "winback:7:2026-03").
    source_ref: Mapped[str | None] = mapped_column(String(120), unique=True)
    outcome: Mapped[str | None] = mapped_column(Encrypted())
    closed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]
    # When the next reminder card is due: due_at at first, then once more when overdue; None when no
    # reminder is pending (closed, or reminded twice). Indexed: the tick reads only due reminders.
    remind_at: Mapped[datetime | None]
    reminders: Mapped[int] = mapped_column(default=0)
    # Send the customer a courtesy message at the follow-up time.
    notify_customer: Mapped[bool] = mapped_column(default=False)


class FeedbackItem(TimestampMixin, Base):
    """Something staff must look at: a /feedback message or a detractor's score, with the card posted
    in the staff group and who handles it."""

    __tablename__ = "feedback_items"
    __table_args__ = (
        Index(
            "ix_feedback_items_alert",
            "alert_at",
            "id",
            sqlite_where=text("alert_at IS NOT NULL"),
            postgresql_where=text("alert_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # feedback | detractor
    # Idempotency: "msg:<chat>:<message>" for /feedback, "survey:<invitation>" for a detractor.
    source_ref: Mapped[str] = mapped_column(String(120), unique=True)
    survey_id: Mapped[int | None] = mapped_column(ForeignKey("surveys.id", ondelete="SET NULL"))
    score_kind: Mapped[str | None] = mapped_column(String(8))  # csat | nps
    score: Mapped[int | None]
    comment: Mapped[str | None] = mapped_column(Encrypted())  # what the customer wrote
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | claimed | resolved
    claimed_by: Mapped[int | None] = mapped_column(BigInteger)
    claimed_at: Mapped[datetime | None]
    follow_up_id: Mapped[int | None] = mapped_column(ForeignKey("follow_ups.id", ondelete="SET NULL"))
    resolved_by: Mapped[int | None] = mapped_column(BigInteger)
    resolved_at: Mapped[datetime | None]
    resolution: Mapped[str | None] = mapped_column(Encrypted())
    card_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    card_message_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The clock (storage.care.complaints): targets by priority, the first response, the next alert.
    priority: Mapped[str] = mapped_column(String(8), default="normal")  # high | normal
    respond_by: Mapped[datetime | None]
    resolve_by: Mapped[datetime | None]
    first_response_at: Mapped[datetime | None]
    # When the next reminder or escalation is due; None when none is (answered and resolved, or all
    # sent). Partial index: the tick reads only due alerts.
    alert_at: Mapped[datetime | None]
    alerts_sent: Mapped[int] = mapped_column(default=0)  # which alerts of this round went out
    category: Mapped[str | None] = mapped_column(String(24))
    reopened: Mapped[int] = mapped_column(default=0)
    round_at: Mapped[datetime | None]  # when the current round of deadlines began (reopened), else created
    solved: Mapped[bool | None]  # the customer's 👍 (True) or 👎 (False) after the resolution


class FeedbackMessage(Base):
    """A message relayed between the staff group and a customer about a feedback item (or the prompt
    for a resolution note). The source is unique, so a redelivered update is relayed once; the relay
    is what a later Telegram reply points at."""

    __tablename__ = "feedback_messages"
    __table_args__ = (
        UniqueConstraint("source_chat_id", "source_message_id"),
        Index("ix_feedback_messages_relay", "relay_chat_id", "relay_message_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback_items.id", ondelete="CASCADE"), index=True)
    direction: Mapped[str] = mapped_column(String(16))  # to_customer | to_staff | note_prompt
    author_id: Mapped[int] = mapped_column(BigInteger)
    source_chat_id: Mapped[int] = mapped_column(BigInteger)
    source_message_id: Mapped[int] = mapped_column(BigInteger)
    relay_chat_id: Mapped[int | None] = mapped_column(BigInteger)
    relay_message_id: Mapped[int | None] = mapped_column(BigInteger)
    text: Mapped[str | None] = mapped_column(Encrypted())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerNote(Base):
    """A note staff keep about a customer (/note): shown on the card, newest first."""

    __tablename__ = "customer_notes"
    __table_args__ = (Index("ix_customer_notes_customer", "customer_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    staff_id: Mapped[int] = mapped_column(BigInteger)
    text: Mapped[str] = mapped_column(Encrypted())
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CustomerTag(Base):
    """A label staff give a customer (/tag): on the card, and an audience (`tag vip`)."""

    __tablename__ = "customer_tags"
    # The primary key (customer_id, tag) serves the card; an audience reads every customer with one tag.
    __table_args__ = (Index("ix_customer_tags_tag", "tag", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    tag: Mapped[str] = mapped_column(String(32), primary_key=True)
    staff_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CadenceMark(Base):
    """When a regular-care rule (storage.care.cadences) last made a task for a customer."""

    __tablename__ = "cadence_marks"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    rule: Mapped[str] = mapped_column(String(48), primary_key=True)
    last_at: Mapped[datetime]
