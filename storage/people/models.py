"""The tables of the people context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column, validates
from sqlalchemy.types import TypeDecorator

from storage.core import crypto
from storage.core.crypto import Encrypted, EncryptedJSON
from storage.core.models import Base, TimestampMixin, utcnow
from storage.people.birthdays import Birthday
from storage.people.member_codes import new_code


class EncryptedBirthday(TypeDecorator[Birthday]):
    """A birthday stored as its encrypted ISO form ("1990-05-17", "--05-17" without the year)."""

    impl = Encrypted
    cache_ok = True

    def process_bind_param(self, value: Birthday | None, dialect: Dialect) -> str | None:
        return None if value is None else value.iso()

    def process_result_value(self, value: str | None, dialect: Dialect) -> Birthday | None:
        return None if value is None else Birthday.from_iso(value)


def phone_index(phone: str | None) -> str | None:
    """The blind index stored beside an encrypted phone (E.164), by which staff find it."""
    return crypto.blind_index(phone) if phone else None


class Customer(TimestampMixin, Base):
    """A person who accepted the privacy notice. Nothing is stored about anyone who did not."""

    __tablename__ = "customers"
    # Who joined since a point, in join order (storage.campaigns.recurring: the welcome offer's tick).
    __table_args__ = (Index("ix_customers_consent_at", "consent_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    telegram_id: Mapped[int] = mapped_column(BigInteger, unique=True)
    first_name: Mapped[str] = mapped_column(String(128))
    last_name: Mapped[str | None] = mapped_column(String(128))
    username: Mapped[str | None] = mapped_column(String(64), index=True)
    language: Mapped[str] = mapped_column(String(8))
    timezone: Mapped[str] = mapped_column(String(64))
    # Personal data, encrypted at rest (storage.core.crypto): read and written as plain values. A
    # birthday may be known without its year ("05/17"). The phone is E.164; phone_hash, its blind
    # index, is what a search by phone compares (set with it, below).
    birthday: Mapped[Birthday | None] = mapped_column("birthday_encrypted", EncryptedBirthday())
    phone: Mapped[str | None] = mapped_column("phone_encrypted", Encrypted())
    phone_hash: Mapped[str | None] = mapped_column(
        String(32), index=True, info={"blind_index_of": "phone_encrypted"}
    )
    consent_at: Mapped[datetime]
    # The privacy notice's version accepted at consent_at (storage.people.consent.NOTICE_VERSION).
    consent_version: Mapped[str | None] = mapped_column(String(16))
    consent_withdrawn_at: Mapped[datetime | None]
    last_seen_at: Mapped[datetime | None]
    # Set when Telegram answers 403 (blocked); cleared when the customer writes again.
    unreachable_at: Mapped[datetime | None]
    # UTC instant of the next birthday greeting (storage.birthdays.next_greeting_at); None without a
    # birthday. Indexed so that a tick with nothing due reads no customer, and the staff digest finds
    # today's birthdays by it. Not encrypted: it reveals the birthday's day and month (to within the
    # time zone's offset), never the year.
    next_birthday_at: Mapped[datetime | None] = mapped_column(index=True)
    # The shop's own member number, from an imported member list (storage.loyalty.imports.link).
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    # Set when the customer's data was erased (storage.privacy): the row stays, anonymous, for the
    # books; telegram_id is then a tombstone (minus the row's id).
    erased_at: Mapped[datetime | None]
    # The staff member who looks after this customer (/owner): regular care tasks go to them.
    account_manager_id: Mapped[int | None] = mapped_column(BigInteger, index=True)
    # The code the customer shows at the counter (storage.people.member_codes); a default, so every
    # insert gets one; nullable only for rows written by raw SQL (the migration back-fills them).
    member_code: Mapped[str | None] = mapped_column(String(16), unique=True, index=True, default=new_code)

    @validates("phone")
    def _index_phone(self, key: str, phone: str | None) -> str | None:
        self.phone_hash = phone_index(phone)
        return phone


class StaffMember(TimestampMixin, Base):
    """A staff member seen in the staff group, with a role: agent < admin < owner."""

    __tablename__ = "staff_members"

    telegram_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    role: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(160))
    username: Mapped[str | None] = mapped_column(String(64))


class OutboxMessage(Base):
    """A proactive message waiting to be sent. The text is a template key rendered at send time in
    the recipient's language, so storage never needs the catalogs."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "not_before"),
        # A batch's contact budget (storage.people.contact_budget): its customers' recent rows.
        Index("ix_outbox_customer", "customer_id", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    chat_id: Mapped[int] = mapped_column(BigInteger)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    template: Mapped[str] = mapped_column(String(96))
    # Encrypted at rest: a message's parameters can quote staff's words about the customer (a
    # follow-up's reason, a feedback's resolution, why points were given or a voucher cancelled).
    params: Mapped[dict[str, Any]] = mapped_column(EncryptedJSON(), default=dict)
    language: Mapped[str] = mapped_column(String(8))
    # Rows of [label template key or literal, callback_data]; see storage.outbox.
    buttons: Mapped[list[list[list[str]]] | None] = mapped_column(JSON)
    # queued | paused (its bulk job is paused) | sending | sent | failed | skipped (recipient unreachable
    # when it came due, or its bulk job stopped before it was sent)
    status: Mapped[str] = mapped_column(String(16), default="queued")
    not_before: Mapped[datetime] = mapped_column(default=utcnow)
    attempts: Mapped[int] = mapped_column(default=0)
    claimed_by: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None] = mapped_column(index=True)
    message_id: Mapped[int | None] = mapped_column(BigInteger)
    error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    photo: Mapped[str | None] = mapped_column(
        String(256)
    )  # a Telegram file_id: a photo, the text its caption
    # The bulk job that queued it (storage.core.bulk): its progress counts these rows.
    bulk_job_id: Mapped[int | None] = mapped_column(
        ForeignKey("bulk_jobs.id", ondelete="SET NULL"), index=True
    )


class MessagePreference(Base):
    """A customer's choice about one kind of message (storage.people.preferences.KINDS); no row: on."""

    __tablename__ = "message_preferences"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customers.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    enabled: Mapped[bool]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class PendingMember(Base):
    """A member from an imported list who has not joined the bot: never sent anything (no consent).
    Linked to the customer who joins and shares the same phone (storage.loyalty.imports.link)."""

    __tablename__ = "pending_members"
    # Named for the column before revision 0024 renamed it (phone → phone_hash).
    __table_args__ = (UniqueConstraint("phone_hash", name="uq_pending_members_phone"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(160))
    # The phone's blind index (one member per number; "erased:<id>" once erased) and the phone itself
    # (as customers.normalize_phone writes it), encrypted; both set by import, the index from `phone`.
    phone_hash: Mapped[str] = mapped_column(String(32), info={"blind_index_of": "phone_encrypted"})
    phone: Mapped[str | None] = mapped_column("phone_encrypted", Encrypted())
    birthday: Mapped[Birthday | None] = mapped_column("birthday_encrypted", EncryptedBirthday())
    language: Mapped[str | None] = mapped_column(String(8))
    external_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    linked_customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    linked_at: Mapped[datetime | None]
