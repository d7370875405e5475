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


class CampaignSchedule(Base):
    """A campaign that repeats (storage.campaigns.recurring): a welcome offer `delay_hours` after each
    customer joins, or a yearly send on `holiday` (storage.campaigns.holidays reads it). Nothing goes out
    until an admin activates it; stopping it sends nothing more."""

    __tablename__ = "campaign_schedules"

    campaign_id: Mapped[int] = mapped_column(
        ForeignKey(Campaign.id, ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16))  # welcome | yearly
    delay_hours: Mapped[int | None]  # welcome
    holiday: Mapped[str | None] = mapped_column(String(24))  # yearly: "12-25", "lunar 8-15"
    # Yearly: the local time of day (minutes) in each customer's zone; None: HOLIDAY_CAMPAIGN_HOUR.
    send_minute: Mapped[int | None]
    active: Mapped[bool] = mapped_column(default=False)
    activated_by: Mapped[int | None] = mapped_column(BigInteger)
    activated_at: Mapped[datetime | None]
    stopped_at: Mapped[datetime | None]
    # Welcome: the last customer decided, as (consent_at, id); the tick reads after it on
    # ix_customers_consent_at, so a pass reads only those who joined since.
    cursor_at: Mapped[datetime | None]
    cursor_id: Mapped[int | None]


class CampaignOccurrence(Base):
    """One year's send of a yearly campaign: a campaign of its own (a copy of the schedule's, with its
    own members, offer claims and report), made once per date whichever instance gets there first."""

    __tablename__ = "campaign_occurrences"

    schedule_id: Mapped[int] = mapped_column(
        ForeignKey(CampaignSchedule.campaign_id, ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    on_date: Mapped[date] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey(Campaign.id, ondelete="CASCADE"), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
