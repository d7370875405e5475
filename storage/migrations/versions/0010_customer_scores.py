"""customer scores: what each buyer is worth (RFM, pyramid level, P(alive), CLV), monthly snapshots of
segment and level, the scoring runs with the statistics they computed, and the purchase path's mark
that a customer needs re-scoring (loyalty_accounts.rescore_at)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 18:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC_DATETIME = storage.core.models.UTCDateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "customer_scores",
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("last_purchase_at", UTC_DATETIME, nullable=False),
        sa.Column("purchases", sa.Integer(), nullable=False),
        sa.Column("recency_days", sa.Integer(), nullable=False),
        sa.Column("frequency", sa.Integer(), nullable=False),
        sa.Column("monetary", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("r_score", sa.SmallInteger(), nullable=False),
        sa.Column("f_score", sa.SmallInteger(), nullable=False),
        sa.Column("m_score", sa.SmallInteger(), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.Column("p_alive", sa.Float(), nullable=False),
        sa.Column("expected_purchases_90d", sa.Float(), nullable=False),
        sa.Column("clv_12m", sa.Numeric(precision=14, scale=2), nullable=False),
        sa.Column("scored_at", UTC_DATETIME, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_customer_scores_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("customer_id", name=op.f("pk_customer_scores")),
    )
    op.create_index("ix_customer_scores_segment", "customer_scores", ["segment", "customer_id"])
    op.create_index("ix_customer_scores_level", "customer_scores", ["level", "customer_id"])
    op.create_table(
        "score_history",
        sa.Column("period", sa.Date(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("segment", sa.String(length=16), nullable=False),
        sa.Column("level", sa.String(length=8), nullable=False),
        sa.ForeignKeyConstraint(
            ["customer_id"],
            ["customers.id"],
            name=op.f("fk_score_history_customer_id_customers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("period", "customer_id", name=op.f("pk_score_history")),
    )
    op.create_table(
        "insight_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("as_of", UTC_DATETIME, nullable=False),
        sa.Column("population", sa.JSON(), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.Column("repeat_buyers", sa.Integer(), nullable=False),
        sa.Column("snapshot", sa.Date(), nullable=True),
        sa.Column("due_at", UTC_DATETIME, nullable=True),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("scored", sa.Integer(), nullable=False),
        sa.Column("started_at", UTC_DATETIME, nullable=False),
        sa.Column("finished_at", UTC_DATETIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_insight_runs")),
        sa.UniqueConstraint("key", name=op.f("uq_insight_runs_key")),
    )
    where = sa.text("due_at IS NOT NULL")
    op.create_index(
        "ix_insight_runs_due", "insight_runs", ["due_at", "id"], sqlite_where=where, postgresql_where=where
    )

    with op.batch_alter_table("loyalty_accounts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("rescore_at", UTC_DATETIME, nullable=True))
    # Every customer with purchases is scored once by the first tick after this migration (the first
    # run covers everybody; nothing needs marking).
    where = sa.text("rescore_at IS NOT NULL")
    op.create_index(
        "ix_loyalty_accounts_rescore",
        "loyalty_accounts",
        ["rescore_at", "customer_id"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_loyalty_accounts_rescore", table_name="loyalty_accounts")
    with op.batch_alter_table("loyalty_accounts", schema=None) as batch_op:
        batch_op.drop_column("rescore_at")
    op.drop_index("ix_insight_runs_due", table_name="insight_runs")
    op.drop_table("insight_runs")
    op.drop_table("score_history")
    op.drop_index("ix_customer_scores_level", table_name="customer_scores")
    op.drop_index("ix_customer_scores_segment", table_name="customer_scores")
    op.drop_table("customer_scores")
