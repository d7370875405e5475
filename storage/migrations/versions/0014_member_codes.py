"""member codes: every customer gets the short code shown at the counter (customers.member_code, unique),
and stored phone numbers are re-normalised to E.164 with phonenumbers where it can read them

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from storage.people import member_codes, phones

revision: str = "0014"
down_revision: str | Sequence[str] | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    # In place, not in batch mode: a rebuilt customers table would cascade deletes to every row that
    # references it (see 0012).
    op.add_column("customers", sa.Column("member_code", sa.String(length=16), nullable=True))
    op.create_index(op.f("ix_customers_member_code"), "customers", ["member_code"], unique=True)
    connection = op.get_bind()
    customers = sa.table(
        "customers", sa.column("id", sa.Integer), sa.column("member_code"), sa.column("phone")
    )
    _backfill_codes(connection, customers)
    _renormalise_phones(connection, customers)


def _backfill_codes(connection: sa.Connection, customers: sa.TableClause) -> None:
    taken: set[str] = set()
    after = 0
    while True:
        ids = list(
            connection.scalars(
                sa.select(customers.c.id)
                .where(customers.c.member_code.is_(None), customers.c.id > after)
                .order_by(customers.c.id)
                .limit(_BATCH)
            )
        )
        if not ids:
            return
        rows = []
        for row_id in ids:
            code = member_codes.new_code()
            while code in taken:  # unique within the back-fill; the index guards the rest
                code = member_codes.new_code()
            taken.add(code)
            rows.append({"row_id": row_id, "code": code})
        connection.execute(
            customers.update()
            .where(customers.c.id == sa.bindparam("row_id"))
            .values(member_code=sa.bindparam("code")),
            rows,
        )
        after = ids[-1]


def _renormalise_phones(connection: sa.Connection, customers: sa.TableClause) -> None:
    """ "+4915123456785" stays; "+015123456785" (a national number stored before phonenumbers) becomes
    E.164 with DEFAULT_REGION; a number two customers would then share, or one phonenumbers cannot
    read, is left as it was."""
    region = op.get_context().config.attributes.get("phone_region")  # type: ignore[union-attr]
    rows = connection.execute(
        sa.select(customers.c.id, customers.c.phone).where(customers.c.phone.is_not(None))
    ).all()
    stored = {phone for _, phone in rows}
    changes = []
    for row_id, phone in rows:
        national = phone[1:] if phone.startswith("+0") else phone  # "+0151…" was typed as "0151…"
        better = phones.parse(national, region)
        if better is not None and better != phone and better not in stored:
            stored.add(better)
            changes.append({"row_id": row_id, "phone": better})
    if changes:
        connection.execute(
            customers.update()
            .where(customers.c.id == sa.bindparam("row_id"))
            .values(phone=sa.bindparam("phone")),
            changes,
        )


def downgrade() -> None:
    # Phones stay in E.164 (the old code reads them as they are).
    op.drop_index(op.f("ix_customers_member_code"), table_name="customers")
    op.drop_column("customers", "member_code")  # in place (SQLite 3.35+): no rebuild, no cascade
