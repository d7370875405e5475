"""the remaining free texts that describe a person, encrypted at rest: follow-ups' reasons and
outcomes, purchase and ledger notes, vouchers' cancel reasons, and outbox messages' parameters (they
quote those texts and feedback resolutions); the audit trail keeps no free text any more

The data step is 0024's (storage.migrations.encrypting): every stored value encrypted with the app's
key, in batches, in the migration's own transaction. No column changes type: a text stays Text, and
an outbox message's parameters stay JSON (the token kept as a JSON string). Audit entries of a
purchase, points given or taken, a cancelled voucher or a closed follow-up lose the note, reason or
outcome they copied (the text stays, encrypted, where it was written); a downgrade cannot bring those
copies back.

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-12 10:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa

from storage.core import crypto
from storage.migrations import encrypting

revision: str = "0026"
down_revision: str | Sequence[str] | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FREE_TEXT = {
    "follow_ups": ("reason", "outcome"),
    "purchases": ("note",),
    "ledger_entries": ("note",),
    "vouchers": ("cancel_reason",),
}
DOCUMENTS = {"outbox": ("params",)}
# The audit actions whose detail copied a staff member's words, and the key they were under (only
# entries of things done: a refusal's "reason" is the refusal's code).
AUDIT_COPIES = {
    "purchase": "note",
    "award": "reason",
    "deduct": "reason",
    "cancel": "reason",
    "follow_up/done": "outcome",
}
NO_KEY = (
    "Revision 0026 encrypts the follow-up, purchase and voucher notes stored so far and needs the "
    f"key: set {crypto.KEY_ENV} (engagebot writes one into .env on its first run) and migrate again."
)


def _forget_audit_copies() -> None:
    entries = sa.Table(
        "audit_entries",
        sa.MetaData(),
        sa.Column("id", sa.Integer),
        sa.Column("action", sa.String(64)),
        sa.Column("outcome", sa.String(16)),
        sa.Column("detail", sa.JSON),
    )
    copies = AUDIT_COPIES
    for rows in encrypting.batches(
        entries, "action", "detail", where=entries.c.action.in_(copies) & (entries.c.outcome == "ok")
    ):
        encrypting.update(
            entries,
            [
                {"row_id": row.id, "detail": {k: v for k, v in row.detail.items() if k != copies[row.action]}}
                for row in rows
                if isinstance(row.detail, dict) and copies[row.action] in row.detail
            ],
        )


def upgrade() -> None:
    encrypting.texts(FREE_TEXT, encrypt=True, no_key=NO_KEY)
    encrypting.documents(DOCUMENTS, encrypt=True, no_key=NO_KEY)
    _forget_audit_copies()


def downgrade() -> None:
    encrypting.documents(DOCUMENTS, encrypt=False, no_key=NO_KEY)
    encrypting.texts(FREE_TEXT, encrypt=False, no_key=NO_KEY)
