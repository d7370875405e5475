"""The tables of the campaigns context."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.core.models import Base, TimestampMixin, utcnow


class Campaign(TimestampMixin, Base):
    """A campaign: drafted, then sent once (its bulk job), then reported."""

    __tablename__ = "campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    # The message per language (checked Telegram HTML, storage.core.telegram_html); the default
    # language's text stands in for a language without one.
    texts: Mapped[dict[str, str]] = mapped_column(JSON)
    audience: Mapped[str] = mapped_column(String(500))  # as storage.surveys.audiences.parse reads it
    reward_id: Mapped[int | None] = mapped_column(ForeignKey("rewards.id", ondelete="SET NULL"))
    holdout_percent: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | sending
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    sent_at: Mapped[datetime | None]  # Confirm: the start of the report's window
    job_id: Mapped[int | None] = mapped_column(ForeignKey("bulk_jobs.id", ondelete="SET NULL"))
    # The send time (storage.campaigns.sendtime): none, now; a local wall-clock minute of the day in each
    # customer's own time zone, on `send_date`, or (no date) at its next occurrence after Confirm.
    send_date: Mapped[date | None] = mapped_column(Date)
    send_minute: Mapped[int | None]
    photo: Mapped[str | None] = mapped_column(
        String(256)
    )  # a Telegram file_id: sent with the text as caption


class CampaignMember(Base):
    """What the fan-out decided for one customer of the audience: sent (queued to the outbox),
    held_out, opted_out, over_budget or unreachable. Written insert-if-absent, so a batch done twice
    decides nothing twice; the report compares `sent` with `held_out`."""

    __tablename__ = "campaign_members"
    __table_args__ = (Index("ix_campaign_members_outcome", "campaign_id", "outcome", "customer_id"),)

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey(Campaign.id, ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    outcome: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
