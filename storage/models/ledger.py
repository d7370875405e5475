from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.models.base import Base, TimestampMixin, utcnow


class LoyaltyAccount(TimestampMixin, Base):
    """The points balance of one customer: a cache of the ledger, updated in the same transaction."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (CheckConstraint("balance >= 0", name="balance_not_negative"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    balance: Mapped[int] = mapped_column(default=0)
    # The tier last announced to the customer (None: the first tier), so a change is noticed once.
    tier: Mapped[str | None] = mapped_column(String(32))
    # Win-back schedule (storage.winback): when the customer counts as lapsed if they buy nothing
    # more, and the last purchase that time refers to. Cleared once the lapse is handled; indexed,
    # so the tick reads only due rows.
    winback_due_at: Mapped[datetime | None] = mapped_column(index=True)
    winback_purchase_id: Mapped[int | None]


class LedgerEntry(Base):
    """An append-only points movement. Positive entries that can expire are lots: `remaining` is
    what is left unspent of them, consumed first in, first out."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_lots", "customer_id", "expires_at"),
        # Unspent lots by expiry: what storage.ledger.expire_due reads, without the spent history.
        Index(
            "ix_ledger_unspent_expiry",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    # earn | redeem | award | deduct | expire | refund | birthday | referral | survey
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]  # signed: + credits, - debits
    reference: Mapped[str] = mapped_column(String(160), unique=True)
    note: Mapped[str | None] = mapped_column(Text)
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime | None]
    remaining: Mapped[int] = mapped_column(default=0)
    # The lot's expiry, until the customer was warned about it (storage.expiry); then None.
    warn_at: Mapped[datetime | None] = mapped_column(index=True)
