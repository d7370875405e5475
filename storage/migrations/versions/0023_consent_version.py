"""consent version: which privacy notice each customer accepted, and when they withdrew consent

Every customer so far accepted the notice now called version "1" (storage.people.consent.NOTICE_VERSION
at this revision), so they are back-filled with it: nobody is asked again until the text changes.

Revision ID: 0023
Revises: 0021
Create Date: 2026-12-04 21:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import storage.core.models

revision: str = "0023"
down_revision: str | Sequence[str] | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FIRST_VERSION = "1"  # a literal: a later NOTICE_VERSION must not rewrite what these customers accepted


def upgrade() -> None:
    # In place, not in batch mode: a rebuilt customers table would cascade deletes (see 0012).
    op.add_column("customers", sa.Column("consent_version", sa.String(length=16), nullable=True))
    op.add_column(
        "customers",
        sa.Column("consent_withdrawn_at", storage.core.models.UTCDateTime(timezone=True), nullable=True),
    )
    customers = sa.table("customers", sa.column("consent_version"), sa.column("erased_at"))
    op.execute(
        customers.update().where(customers.c.erased_at.is_(None)).values(consent_version=_FIRST_VERSION)
    )


def downgrade() -> None:
    op.drop_column("customers", "consent_withdrawn_at")
    op.drop_column("customers", "consent_version")
