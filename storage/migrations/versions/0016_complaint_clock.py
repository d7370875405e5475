"""complaint clock: response and resolution targets on feedback items, reminders and escalations,
categories, reopening and the customer's verdict

Revision ID: 0016
Revises: 0012
Create Date: 2026-12-04 19:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0016"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WHEN = storage.core.models.UTCDateTime(timezone=True)
COLUMNS: tuple[sa.Column[Any], ...] = (
    sa.Column("priority", sa.String(8), nullable=False, server_default="normal"),
    sa.Column("respond_by", WHEN, nullable=True),
    sa.Column("resolve_by", WHEN, nullable=True),
    sa.Column("first_response_at", WHEN, nullable=True),
    sa.Column("alert_at", WHEN, nullable=True),
    sa.Column("alerts_sent", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("category", sa.String(24), nullable=True),
    sa.Column("reopened", sa.Integer(), nullable=False, server_default="0"),
    sa.Column("round_at", WHEN, nullable=True),
    sa.Column("solved", sa.Boolean(), nullable=True),
)


def upgrade() -> None:
    # Plain ADD COLUMNs: batch mode would rebuild the table on SQLite, cascading to its messages.
    for column in COLUMNS:
        op.add_column("feedback_items", column)
    op.create_index(
        "ix_feedback_items_alert",
        "feedback_items",
        ["alert_at", "id"],
        sqlite_where=sa.text("alert_at IS NOT NULL"),
        postgresql_where=sa.text("alert_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_feedback_items_alert", "feedback_items")
    for column in reversed(COLUMNS):
        op.drop_column("feedback_items", column.name)
