"""campaigns: a send time (a date and a local hour), an image; bulk jobs: paused; outbox rows: a photo

Revision ID: 0019
Revises: 0015
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0019"
down_revision: str | Sequence[str] | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain add_column (nullable, no default): no table is rebuilt.
    op.add_column("campaigns", sa.Column("send_date", sa.Date(), nullable=True))
    op.add_column("campaigns", sa.Column("send_minute", sa.Integer(), nullable=True))
    op.add_column("campaigns", sa.Column("photo", sa.String(256), nullable=True))
    op.add_column(
        "bulk_jobs", sa.Column("paused_at", storage.core.models.UTCDateTime(timezone=True), nullable=True)
    )
    op.add_column("outbox", sa.Column("photo", sa.String(256), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "photo")
    op.drop_column("bulk_jobs", "paused_at")
    op.drop_column("campaigns", "photo")
    op.drop_column("campaigns", "send_minute")
    op.drop_column("campaigns", "send_date")
