"""regular care: each customer's account manager (/owner) and when each cadence rule last made a task

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0017"
down_revision: str | Sequence[str] | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # In place (not batch mode): a rebuilt customers table would cascade to every row referencing it.
    op.add_column("customers", sa.Column("account_manager_id", sa.BigInteger(), nullable=True))
    op.create_index("ix_customers_account_manager_id", "customers", ["account_manager_id"])
    op.create_table(
        "cadence_marks",
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("rule", sa.String(48), primary_key=True),
        sa.Column("last_at", storage.core.models.UTCDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cadence_marks")
    op.drop_index("ix_customers_account_manager_id", "customers")
    op.drop_column("customers", "account_manager_id")
