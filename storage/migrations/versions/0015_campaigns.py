"""campaigns: message preferences (opt-out), the outbox's per-customer index (the contact budget),
campaigns and what their fan-out decided for each customer

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 20:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0015"
down_revision: str | Sequence[str] | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, nullable: bool = False, default: bool = False) -> sa.Column[object]:
    server_default = sa.text("(CURRENT_TIMESTAMP)") if default else None
    return sa.Column(
        name, storage.core.models.UTCDateTime(timezone=True), nullable=nullable, server_default=server_default
    )


def _fk(column: str, table: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.create_table(
        "message_preferences",
        sa.Column("customer_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        _when("updated_at"),
        _fk("customer_id", "message_preferences", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("customer_id", "kind", name=op.f("pk_message_preferences")),
    )
    op.create_index("ix_outbox_customer", "outbox", ["customer_id", "not_before"])
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("texts", sa.JSON(), nullable=False),
        sa.Column("audience", sa.String(500), nullable=False),
        sa.Column("reward_id", sa.Integer(), nullable=True),
        sa.Column("holdout_percent", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        _when("sent_at", nullable=True),
        sa.Column("job_id", sa.Integer(), nullable=True),
        _when("created_at", default=True),
        _when("updated_at", default=True),
        _fk("reward_id", "campaigns", "rewards", "SET NULL"),
        _fk("job_id", "campaigns", "bulk_jobs", "SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
        sa.UniqueConstraint("name", name=op.f("uq_campaigns_name")),
    )
    op.create_table(
        "campaign_members",
        sa.Column("campaign_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("customer_id", sa.Integer(), nullable=False, autoincrement=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        _when("created_at"),
        _fk("campaign_id", "campaign_members", "campaigns", "CASCADE"),
        _fk("customer_id", "campaign_members", "customers", "CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id", "customer_id", name=op.f("pk_campaign_members")),
    )
    op.create_index(
        "ix_campaign_members_outcome", "campaign_members", ["campaign_id", "outcome", "customer_id"]
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_members_outcome", "campaign_members")
    op.drop_table("campaign_members")
    op.drop_table("campaigns")
    op.drop_index("ix_outbox_customer", "outbox")
    op.drop_table("message_preferences")
