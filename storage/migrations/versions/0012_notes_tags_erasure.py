"""notes, tags and erasure: what staff write about a customer (/note), the labels they give them (/tag),
and when a customer's data was erased (customers.erased_at)

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "customer_notes",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "customer_id", sa.Integer(), sa.ForeignKey("customers.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("created_at", storage.core.models.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_notes_customer", "customer_notes", ["customer_id", "id"])
    op.create_table(
        "customer_tags",
        sa.Column(
            "customer_id",
            sa.Integer(),
            sa.ForeignKey("customers.id", ondelete="CASCADE"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("tag", sa.String(32), primary_key=True),
        sa.Column("staff_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", storage.core.models.UTCDateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_customer_tags_tag", "customer_tags", ["tag", "customer_id"])
    with op.batch_alter_table("customers") as batch:
        batch.add_column(
            sa.Column("erased_at", storage.core.models.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade() -> None:
    op.drop_column("customers", "erased_at")  # in place (SQLite 3.35+): no rebuild, no cascade
    op.drop_index("ix_customer_tags_tag", "customer_tags")
    op.drop_table("customer_tags")
    op.drop_index("ix_customer_notes_customer", "customer_notes")
    op.drop_table("customer_notes")
