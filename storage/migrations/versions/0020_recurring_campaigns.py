"""recurring campaigns: a welcome offer after joining and yearly (holiday) campaigns, each year's send a
campaign of its own; customers in join order for the welcome tick

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0020"
down_revision: str | Sequence[str] | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = True) -> sa.Column[object]:
    return sa.Column(name, storage.core.models.UTCDateTime(timezone=True), nullable=nullable)


def _fk(column: str, table: str, target: str, key: str = "id") -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.{key}"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete="CASCADE"
    )


def upgrade() -> None:
    # In place (not batch mode): a rebuilt customers table would cascade to every row referencing it.
    op.create_index("ix_customers_consent_at", "customers", ["consent_at", "id"])
    op.create_table(
        "campaign_schedules",
        sa.Column("campaign_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("delay_hours", sa.Integer(), nullable=True),
        sa.Column("holiday", sa.String(24), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("activated_by", sa.BigInteger(), nullable=True),
        _when("activated_at"),
        _when("stopped_at"),
        _when("cursor_at"),
        sa.Column("cursor_id", sa.Integer(), nullable=True),
        _fk("campaign_id", "campaign_schedules", "campaigns"),
        sa.PrimaryKeyConstraint("campaign_id", name=op.f("pk_campaign_schedules")),
    )
    op.create_table(
        "campaign_occurrences",
        sa.Column("schedule_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("on_date", sa.Date(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        _when("created_at", nullable=False),
        _fk("schedule_id", "campaign_occurrences", "campaign_schedules", "campaign_id"),
        _fk("campaign_id", "campaign_occurrences", "campaigns"),
        sa.PrimaryKeyConstraint("schedule_id", "on_date", name=op.f("pk_campaign_occurrences")),
        sa.UniqueConstraint("campaign_id", name=op.f("uq_campaign_occurrences_campaign_id")),
    )


def downgrade() -> None:
    op.drop_table("campaign_occurrences")
    op.drop_table("campaign_schedules")
    op.drop_index("ix_customers_consent_at", "customers")
