"""The tables of the loyalty context."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, Numeric, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from storage.core.crypto import Encrypted
from storage.core.models import Base, TimestampMixin, utcnow


class LoyaltyAccount(TimestampMixin, Base):
    """The points balance of one customer: a cache of the ledger, updated in the same transaction."""

    __tablename__ = "loyalty_accounts"
    __table_args__ = (
        CheckConstraint("balance >= 0", name="balance_not_negative"),
        # The win-back tick's range, in its order (storage.core.claims.claim_due); only scheduled rows.
        Index(
            "ix_loyalty_accounts_winback_due",
            "winback_due_at",
            "customer_id",
            sqlite_where=text("winback_due_at IS NOT NULL"),
            postgresql_where=text("winback_due_at IS NOT NULL"),
        ),
        # Customers whose purchases changed since they were last scored (storage.insight.scoring).
        Index(
            "ix_loyalty_accounts_rescore",
            "rescore_at",
            "customer_id",
            sqlite_where=text("rescore_at IS NOT NULL"),
            postgresql_where=text("rescore_at IS NOT NULL"),
        ),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    balance: Mapped[int] = mapped_column(default=0)
    # The tier last announced to the customer (None: the first tier), so a change is noticed once.
    tier: Mapped[str | None] = mapped_column(String(32))
    # Win-back schedule (storage.winback): when the customer counts as lapsed if they buy nothing
    # more, and the last purchase that time refers to. Cleared once the lapse is handled; indexed,
    # so the tick reads only due rows.
    winback_due_at: Mapped[datetime | None]
    winback_purchase_id: Mapped[int | None]
    # When the customer's purchase history last changed, until what is derived from it (their scores,
    # storage.insight) has caught up: set with every purchase, claimed and cleared by the scoring tick.
    rescore_at: Mapped[datetime | None]


class LedgerEntry(Base):
    """An append-only points movement. Positive entries that can expire are lots: `remaining` is
    what is left unspent of them, consumed first in, first out."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_lots", "customer_id", "expires_at"),
        # Unspent lots by expiry: what storage.ledger.expire_due reads, without the spent history
        # (the query must say `remaining > 0` literally: SQLite matches a partial index's condition
        # only to the same text, not to a bound parameter).
        Index(
            "ix_ledger_unspent_expiry",
            "expires_at",
            sqlite_where=text("remaining > 0"),
            postgresql_where=text("remaining > 0"),
        ),
        # The expiry warnings' range, in the tick's order; only lots still to be warned about.
        Index(
            "ix_ledger_entries_warn",
            "warn_at",
            "id",
            sqlite_where=text("warn_at IS NOT NULL"),
            postgresql_where=text("warn_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    # earn | redeem | award | deduct | expire | refund | birthday | referral | survey
    kind: Mapped[str] = mapped_column(String(16))
    points: Mapped[int]  # signed: + credits, - debits
    reference: Mapped[str] = mapped_column(String(160), unique=True)
    note: Mapped[str | None] = mapped_column(Encrypted())  # staff's words (a reason), encrypted at rest
    actor_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    expires_at: Mapped[datetime | None]
    remaining: Mapped[int] = mapped_column(default=0)
    # The lot's expiry, until the customer was warned about it (storage.expiry); then None.
    warn_at: Mapped[datetime | None]


class Purchase(Base):
    """A purchase staff recorded; `reference` makes recording it idempotent."""

    __tablename__ = "purchases"
    __table_args__ = (
        CheckConstraint("amount > 0", name="amount_positive"),
        # The purchase-survey tick's range, in its order; only purchases whose invitation is pending.
        Index(
            "ix_purchases_survey_due",
            "survey_due_at",
            "id",
            sqlite_where=text("survey_due_at IS NOT NULL"),
            postgresql_where=text("survey_due_at IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    points: Mapped[int] = mapped_column(default=0)
    note: Mapped[str | None] = mapped_column(Encrypted())  # staff's words (a reason), encrypted at rest
    reference: Mapped[str] = mapped_column(String(160), unique=True)
    staff_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # When this purchase's survey invitation is due (None: none pending); indexed for the tick.
    survey_due_at: Mapped[datetime | None]
    category: Mapped[str | None] = mapped_column(String(64))  # from an imported file


class Reward(TimestampMixin, Base):
    """A catalog entry. `stock` None means unlimited; `min_tier` None means every tier."""

    __tablename__ = "rewards"
    __table_args__ = (
        CheckConstraint("cost > 0", name="cost_positive"),
        CheckConstraint("stock IS NULL OR stock >= 0", name="stock_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int]
    stock: Mapped[int | None]
    per_customer_limit: Mapped[int | None]
    min_tier: Mapped[str | None] = mapped_column(String(32))
    active: Mapped[bool] = mapped_column(default=True)
    # The title and description in other languages ({"zh": "…"}); the columns above hold the default
    # language's (storage.core.localized).
    titles: Mapped[dict[str, str] | None] = mapped_column(JSON)
    descriptions: Mapped[dict[str, str] | None] = mapped_column(JSON)


class Voucher(Base):
    """One confirmed redemption. `idempotency_key` (the Confirm button's token) is unique, so a
    double press or a duplicate update redeems once. Status: active | used | cancelled; an active
    voucher past `expires_at` reads as expired."""

    __tablename__ = "vouchers"
    __table_args__ = (Index("ix_vouchers_customer_reward", "customer_id", "reward_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(64), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    reward_id: Mapped[int] = mapped_column(ForeignKey("rewards.id"))
    title: Mapped[str] = mapped_column(String(120))  # as redeemed, if the catalog changes later
    titles: Mapped[dict[str, str] | None] = mapped_column(JSON)  # its other languages, as redeemed
    points: Mapped[int]
    status: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    used_by: Mapped[int | None] = mapped_column(BigInteger)
    cancelled_at: Mapped[datetime | None]
    cancelled_by: Mapped[int | None] = mapped_column(BigInteger)
    cancel_reason: Mapped[str | None] = mapped_column(Encrypted())  # staff's words, encrypted at rest


class ReferralCode(Base):
    """The code in a customer's invitation link (t.me/<bot>?start=ref_<code>)."""

    __tablename__ = "referral_codes"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    code: Mapped[str] = mapped_column(String(16), unique=True)


class Referral(Base):
    """Who brought whom; `rewarded_at` is set once, when both got the bonus."""

    __tablename__ = "referrals"

    referee_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    referrer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rewarded_at: Mapped[datetime | None]


class PendingPurchase(Base):
    """An imported purchase of a member who has not joined yet (people.PendingMember): booked as a
    Purchase, with the same reference, when they join and share the same phone."""

    __tablename__ = "pending_purchases"

    id: Mapped[int] = mapped_column(primary_key=True)
    pending_member_id: Mapped[int] = mapped_column(
        ForeignKey("pending_members.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(160), unique=True)
    amount: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    category: Mapped[str | None] = mapped_column(String(64))
    purchased_at: Mapped[datetime]
