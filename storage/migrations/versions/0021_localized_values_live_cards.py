"""localized values and live cards: reward titles and descriptions, voucher titles and survey intros
in other languages (JSON beside the default-language column); the one live card of each kind per chat

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-10 12:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0021"
down_revision: str | Sequence[str] | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Plain add_column/drop_column: no batch rebuild (it would cascade deletes on SQLite).
COLUMNS = (("rewards", "titles"), ("rewards", "descriptions"), ("vouchers", "titles"), ("surveys", "intros"))


def upgrade() -> None:
    for table, column in COLUMNS:
        op.add_column(table, sa.Column(column, sa.JSON(), nullable=True))
    op.create_table(
        "live_cards",
        sa.Column("chat_id", sa.BigInteger(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", storage.core.models.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("chat_id", "kind", name=op.f("pk_live_cards")),
    )


def downgrade() -> None:
    op.drop_table("live_cards")
    for table, column in reversed(COLUMNS):
        op.drop_column(table, column)
