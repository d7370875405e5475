from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, TimestampMixin


class Customer(TimestampMixin, Base):
    """A person who accepted the privacy notice. Nothing is stored about anyone who did not."""

    __tablename__ = "customers"
    __table_args__ = (Index("ix_customers_birthday", "birth_month", "birth_day"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    # A birthday may be known without its year ("05/17").
    birth_year: Mapped[int | None]
    birth_month: Mapped[int | None]
    birth_day: Mapped[int | None]
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    consent_at: Mapped[datetime]
    last_seen_at: Mapped[datetime | None]
    # Set when Telegram answers 403 (blocked); cleared when the customer writes again.
    unreachable_at: Mapped[datetime | None]
    # UTC instant of the next birthday greeting (storage.birthdays.next_greeting_at); None without a
    # birthday. Indexed so that a tick with nothing due reads no customer.
    next_birthday_at: Mapped[datetime | None] = mapped_column(index=True)
