"""due indexes: every tick's "what is due" query reads an index range, in the order it asks for

The schedule columns (loyalty_accounts.winback_due_at, purchases.survey_due_at, ledger_entries.warn_at,
follow_ups.remind_at) are NULL for most rows once their work is done: their indexes become partial (IS
NOT NULL: both SQLite and PostgreSQL prove `column <= ?` implies it, whatever the value) and carry the
tie-breaker the ticks order by, so PostgreSQL stops after a batch instead of sorting every due row.
The reminders' index leads with status: SQLite, without statistics, otherwise prefers
ix_follow_ups_due and reads every open follow-up. ix_customers_birthday gains id, so the staff digest
(today's birthdays by id, the first few) is read in order on PostgreSQL.

Revision ID: 0009
Revises: 0008 (written beside it on another branch, on 0007; re-parented when both met)
Create Date: 2026-12-07 10:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (table, old index, its columns, new index, its columns, the new index's condition or None)
CHANGES = (
    (
        "loyalty_accounts",
        "ix_loyalty_accounts_winback_due_at",
        ["winback_due_at"],
        "ix_loyalty_accounts_winback_due",
        ["winback_due_at", "customer_id"],
        "winback_due_at IS NOT NULL",
    ),
    (
        "purchases",
        "ix_purchases_survey_due_at",
        ["survey_due_at"],
        "ix_purchases_survey_due",
        ["survey_due_at", "id"],
        "survey_due_at IS NOT NULL",
    ),
    (
        "ledger_entries",
        "ix_ledger_entries_warn_at",
        ["warn_at"],
        "ix_ledger_entries_warn",
        ["warn_at", "id"],
        "warn_at IS NOT NULL",
    ),
    (
        "follow_ups",
        "ix_follow_ups_remind_at",
        ["remind_at"],
        "ix_follow_ups_reminders",
        ["status", "remind_at"],
        "remind_at IS NOT NULL",
    ),
    (
        "customers",
        "ix_customers_birthday",
        ["birth_month", "birth_day"],
        "ix_customers_birthday",
        ["birth_month", "birth_day", "id"],
        None,
    ),
)


def _create(table: str, name: str, columns: list[str], where: str | None) -> None:
    condition: dict[str, Any] = {}
    if where is not None:
        condition = {"sqlite_where": sa.text(where), "postgresql_where": sa.text(where)}
    op.create_index(name, table, columns, unique=False, **condition)


def upgrade() -> None:
    for table, old, _, new, columns, where in CHANGES:
        op.drop_index(old, table_name=table)
        _create(table, new, columns, where)


def downgrade() -> None:
    for table, old, old_columns, new, _, _ in reversed(CHANGES):
        op.drop_index(new, table_name=table)
        _create(table, old, old_columns, None)
