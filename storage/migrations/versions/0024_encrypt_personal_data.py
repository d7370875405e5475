"""personal data encrypted at rest: phones and birthdays of customers and imported members, and the
free texts that identify a person (survey answers, feedback and its replies, customer notes)

The data step encrypts what is stored in plain text with the key the app uses (ENGAGEBOT_SECRET_KEY:
the keyring the app configured before migrating, else read from the environment here), in batches,
in the migration's own transaction: all rows or none. A database with such rows and no key refuses to
migrate (nothing is lost). customers.phone and the birth_* columns are dropped once copied;
pending_members.phone, unique, is renamed phone_hash (SQLite cannot drop a UNIQUE column without
rebuilding the table, which would cascade to pending_purchases) and holds the blind index.

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-10 10:00:00.000000
"""

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from storage.core import crypto
from storage.migrations import encrypting

revision: str = "0024"
down_revision: str | Sequence[str] | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREE_TEXT = {
    "survey_answers": ("text",),
    "feedback_items": ("comment", "resolution"),
    "feedback_messages": ("text",),
    "customer_notes": ("text",),
}
NO_KEY = (
    "Revision 0024 encrypts the phone numbers, birthdays and free texts stored so far and needs the "
    f"key: set {crypto.KEY_ENV} (engagebot writes one into .env on its first run) and migrate again."
)


def _birthday(year: int | None, month: int | None, day: int | None) -> str | None:
    if month is None or day is None:
        return None
    return f"{year:04d}-{month:02d}-{day:02d}" if year else f"--{month:02d}-{day:02d}"


def _people(table: sa.Table, change: Callable[[sa.Row[Any]], dict[str, Any] | None]) -> None:
    for rows in encrypting.batches(table, "phone", "birth_year", "birth_month", "birth_day"):
        encrypting.update(table, [{"row_id": row.id, **v} for row in rows if (v := change(row)) is not None])


def _encrypt_customer(row: sa.Row[Any]) -> dict[str, Any] | None:
    birthday = _birthday(row.birth_year, row.birth_month, row.birth_day)
    if row.phone is None and birthday is None:
        return None
    ring = encrypting.keyring(NO_KEY)
    return {
        "phone_encrypted": ring.encrypt(row.phone) if row.phone else None,
        "phone_hash": ring.blind_index(row.phone) if row.phone else None,
        "birthday_encrypted": ring.encrypt(birthday) if birthday else None,
    }


def _encrypt_member(row: sa.Row[Any]) -> dict[str, Any] | None:
    birthday = _birthday(row.birth_year, row.birth_month, row.birth_day)
    ring = encrypting.keyring(NO_KEY)
    if row.phone.startswith("erased:"):  # an erased member's tombstone stays as it is
        return None
    return {
        "phone_hash": ring.blind_index(row.phone),
        "phone_encrypted": ring.encrypt(row.phone),
        "birthday_encrypted": ring.encrypt(birthday) if birthday else None,
    }


def _old_people(name: str, phone: str) -> sa.Table:
    return sa.Table(
        name,
        sa.MetaData(),
        sa.Column("id", sa.Integer),
        sa.Column(phone, sa.String(32), key="phone"),
        *(sa.Column(c, sa.Integer) for c in ("birth_year", "birth_month", "birth_day")),
        sa.Column("phone_encrypted", sa.Text),
        sa.Column("phone_hash", sa.String(32)),
        sa.Column("birthday_encrypted", sa.Text),
    )


def upgrade() -> None:
    op.add_column("customers", sa.Column("birthday_encrypted", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("phone_encrypted", sa.Text(), nullable=True))
    op.add_column("customers", sa.Column("phone_hash", sa.String(length=32), nullable=True))
    op.add_column("pending_members", sa.Column("phone_encrypted", sa.Text(), nullable=True))
    op.add_column("pending_members", sa.Column("birthday_encrypted", sa.Text(), nullable=True))
    op.add_column("pending_members", sa.Column("phone_hash", sa.String(length=32), nullable=True))
    _people(_old_people("customers", "phone"), _encrypt_customer)
    _people(_old_people("pending_members", "phone"), _encrypt_member)
    encrypting.texts(FREE_TEXT, encrypt=True, no_key=NO_KEY)
    op.drop_index("ix_customers_birthday", table_name="customers")
    op.drop_index("ix_customers_phone", table_name="customers")
    for column in ("phone", "birth_year", "birth_month", "birth_day"):
        op.drop_column("customers", column)
    for column in ("birth_year", "birth_month", "birth_day"):
        op.drop_column("pending_members", column)
    # The unique plain phone becomes the unique blind index: the hash written beside it replaces it
    # (an erased member's tombstone is kept), then the columns swap names.
    members = _old_people("pending_members", "phone")
    op.get_bind().execute(
        members.update()
        .where(members.c.phone_hash.is_not(None))
        .values(phone=members.c.phone_hash, phone_hash=None)
    )
    op.drop_column("pending_members", "phone_hash")
    op.execute("ALTER TABLE pending_members RENAME COLUMN phone TO phone_hash")
    op.create_index(op.f("ix_customers_phone_hash"), "customers", ["phone_hash"], unique=False)


def _decrypt_customer(row: sa.Row[Any]) -> dict[str, Any] | None:
    if row.phone_encrypted is None and row.birthday_encrypted is None:
        return None
    ring = encrypting.keyring(NO_KEY)
    year = month = day = None
    if row.birthday_encrypted is not None:
        text = ring.decrypt(row.birthday_encrypted)
        head, month, day = ("", *text[2:].split("-")) if text.startswith("--") else text.split("-")
        year = int(head) if head else None
    return {
        "phone": ring.decrypt(row.phone_encrypted) if row.phone_encrypted else None,
        "birth_year": year,
        "birth_month": int(month) if month else None,
        "birth_day": int(day) if day else None,
    }


def downgrade() -> None:
    op.drop_index(op.f("ix_customers_phone_hash"), table_name="customers")
    op.execute("ALTER TABLE pending_members RENAME COLUMN phone_hash TO phone")
    for table in ("customers", "pending_members"):
        for column in ("birth_year", "birth_month", "birth_day"):
            op.add_column(table, sa.Column(column, sa.Integer(), nullable=True))
    op.add_column("customers", sa.Column("phone", sa.String(length=32), nullable=True))
    meta = sa.MetaData()
    for name in ("customers", "pending_members"):
        people = sa.Table(
            name,
            meta,
            sa.Column("id", sa.Integer),
            sa.Column("phone", sa.String(32)),
            *(sa.Column(c, sa.Integer) for c in ("birth_year", "birth_month", "birth_day")),
            sa.Column("phone_encrypted", sa.Text),
            sa.Column("birthday_encrypted", sa.Text),
        )
        for rows in encrypting.batches(people, "phone_encrypted", "birthday_encrypted"):
            values = [{"row_id": r.id, **v} for r in rows if (v := _decrypt_customer(r)) is not None]
            if name == "pending_members":  # the phone column holds the index: keep tombstones
                values = [{k: v for k, v in value.items() if k != "phone" or v} for value in values]
                encrypting.update(people, [v for v in values if "phone" in v])
                encrypting.update(
                    people, [{k: v for k, v in value.items() if k != "phone"} for value in values]
                )
            else:
                encrypting.update(people, values)
    for table in ("customers", "pending_members"):
        op.drop_column(table, "phone_encrypted")
        op.drop_column(table, "birthday_encrypted")
    op.drop_column("customers", "phone_hash")
    encrypting.texts(FREE_TEXT, encrypt=False, no_key=NO_KEY)
    op.create_index("ix_customers_phone", "customers", ["phone"], unique=False)
    op.create_index("ix_customers_birthday", "customers", ["birth_month", "birth_day", "id"], unique=False)
