"""yearly campaigns at a local hour: campaign_schedules.send_minute, the time of day each customer gets
a yearly campaign in their own time zone (NULL: HOLIDAY_CAMPAIGN_HOUR, as every yearly one so far)

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | Sequence[str] | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("campaign_schedules", sa.Column("send_minute", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.drop_column("campaign_schedules", "send_minute")
