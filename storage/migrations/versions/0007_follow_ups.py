"""follow-ups: table tasks becomes follow_ups, feedback_items.task_id becomes follow_up_id

"callback" meant a follow-up call; in a Telegram bot it reads as a callback query. The stored values
that carried the old words are rewritten here, so rows written before this revision keep working:
kind "callback" is "call"; source_ref "feedback:<id>:callback" is "feedback:<id>:call"; the reminder
cards' buttons (action "task/<action>", payload task_id) are "follow_up/<action>" with follow_up_id;
a pending outcome note (step "callbacks/outcome") is "followups/outcome"; queued outbox rows use the
locale area "followups" and dedupe keys "follow_up:…". Audit entries are history and stay as written.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 09:00:00.000000
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (old, new) prefixes of the stored strings, rewritten forwards on upgrade and back on downgrade.
KIND = ("callback", "call")
BUTTON_ACTION = ("task/", "follow_up/")
PAYLOAD_KEY = ("task_id", "follow_up_id")
STEP = ("callbacks/outcome", "followups/outcome")
DEDUPE = ("task:", "follow_up:")
TEMPLATE = ("callbacks.", "followups.")
LABEL = ("@callbacks.", "@followups.")
SOURCE_SUFFIX = (":callback", ":call")

buttons = sa.table(
    "buttons", sa.column("token", sa.String), sa.column("action", sa.String), sa.column("payload", sa.JSON)
)
conversations = sa.table(
    "conversations",
    sa.column("chat_id", sa.BigInteger),
    sa.column("user_id", sa.BigInteger),
    sa.column("step", sa.String),
    sa.column("payload", sa.JSON),
)
outbox = sa.table(
    "outbox",
    sa.column("id", sa.Integer),
    sa.column("dedupe_key", sa.String),
    sa.column("template", sa.String),
    sa.column("buttons", sa.JSON),
)


def _starts(column: sa.ColumnClause[str], prefix: str) -> sa.ColumnElement[bool]:
    # substr, not LIKE: "_" in a prefix is a LIKE wildcard.
    return sa.func.substr(column, 1, len(prefix)) == prefix


def _swap_prefix(column: sa.ColumnClause[str], old: str, new: str) -> sa.ColumnElement[str]:
    return sa.literal(new) + sa.func.substr(column, len(old) + 1)


def _rename_key(payload: dict[str, Any] | None, old: str, new: str) -> dict[str, Any]:
    return {new if key == old else key: value for key, value in (payload or {}).items()}


def _stored_values(table: str, forward: bool) -> None:
    """Rewrite the stored strings from old to new words (forward) or back."""

    def pair(names: tuple[str, str]) -> tuple[str, str]:
        return names if forward else (names[1], names[0])

    bind = op.get_bind()
    old, new = pair(KIND)
    bind.execute(sa.text(f"UPDATE {table} SET kind = :new WHERE kind = :old"), {"old": old, "new": new})
    old, new = pair(SOURCE_SUFFIX)
    bind.execute(
        sa.text(
            f"UPDATE {table} SET source_ref = substr(source_ref, 1, length(source_ref) - :cut) || :new "
            "WHERE substr(source_ref, 1, 9) = 'feedback:' "
            "AND substr(source_ref, length(source_ref) - :cut + 1) = :old"
        ),
        {"old": old, "new": new, "cut": len(old)},
    )

    old, new = pair(BUTTON_ACTION)
    key_old, key_new = pair(PAYLOAD_KEY)
    for token, action, payload in bind.execute(
        sa.select(buttons.c.token, buttons.c.action, buttons.c.payload).where(_starts(buttons.c.action, old))
    ).all():
        bind.execute(
            buttons.update()
            .where(buttons.c.token == token)
            .values(action=new + action[len(old) :], payload=_rename_key(payload, key_old, key_new))
        )

    old, new = pair(STEP)
    for chat_id, user_id, payload in bind.execute(
        sa.select(conversations.c.chat_id, conversations.c.user_id, conversations.c.payload).where(
            conversations.c.step == old
        )
    ).all():
        bind.execute(
            conversations.update()
            .where(conversations.c.chat_id == chat_id, conversations.c.user_id == user_id)
            .values(step=new, payload=_rename_key(payload, key_old, key_new))
        )

    old, new = pair(TEMPLATE)
    bind.execute(
        outbox.update()
        .where(_starts(outbox.c.template, old))
        .values(template=_swap_prefix(outbox.c.template, old, new))
    )
    old, new = pair(DEDUPE)
    bind.execute(
        outbox.update()
        .where(_starts(outbox.c.dedupe_key, old))
        .values(dedupe_key=_swap_prefix(outbox.c.dedupe_key, old, new))
    )
    # Reminder and win-back cards (their keys are follow-up keys now) label buttons with catalog keys.
    label_old, label_new = pair(LABEL)
    for row_id, rows in bind.execute(
        sa.select(outbox.c.id, outbox.c.buttons).where(
            _starts(outbox.c.dedupe_key, new), outbox.c.buttons.is_not(None)
        )
    ).all():
        relabelled = [
            [
                [label_new + label[len(label_old) :] if label.startswith(label_old) else label, *rest]
                for label, *rest in row
            ]
            for row in rows
        ]
        bind.execute(outbox.update().where(outbox.c.id == row_id).values(buttons=relabelled))


def _rename_follow_ups(old: str, new: str, link: str) -> None:
    """The table and the indexes, keys and constraints named after it (storage.core.models.NAMING).
    `link` is feedback_items' column that points at it."""
    op.rename_table(old, new)
    for index, columns in (
        ("due", ["status", "due_at"]),
        ("customer_id", ["customer_id"]),
        ("remind_at", ["remind_at"]),
    ):
        op.drop_index(f"ix_{old}_{index}", table_name=new)
        op.create_index(f"ix_{new}_{index}", new, columns, unique=False)
    if op.get_bind().dialect.name != "sqlite":
        for name in ("pk_{}", "uq_{}_source_ref", "fk_{}_customer_id_customers"):
            op.execute(f"ALTER TABLE {new} RENAME CONSTRAINT {name.format(old)} TO {name.format(new)}")
        op.execute(f"ALTER SEQUENCE {old}_id_seq RENAME TO {new}_id_seq")
        return
    # SQLite keeps constraint names in the CREATE TABLE: the table is copied under the new names. The
    # copy drops the old table, which (foreign keys on) nulls feedback_items' links: they are put back.
    bind = op.get_bind()
    links = bind.execute(sa.text(f"SELECT id, {link} FROM feedback_items WHERE {link} IS NOT NULL")).all()
    with op.batch_alter_table(new, schema=None, recreate="always") as batch_op:
        batch_op.create_primary_key(f"pk_{new}", ["id"])
        batch_op.drop_constraint(f"uq_{old}_source_ref", type_="unique")
        batch_op.drop_constraint(f"fk_{old}_customer_id_customers", type_="foreignkey")
        batch_op.create_unique_constraint(f"uq_{new}_source_ref", ["source_ref"])
        batch_op.create_foreign_key(
            f"fk_{new}_customer_id_customers", "customers", ["customer_id"], ["id"], ondelete="CASCADE"
        )
    for item_id, target in links:
        bind.execute(
            sa.text(f"UPDATE feedback_items SET {link} = :target WHERE id = :id"),
            {"target": target, "id": item_id},
        )


def _rename_feedback_link(old_table: str, new_table: str, old_column: str, new_column: str) -> None:
    """feedback_items' column (SQLite: RENAME COLUMN rewrites its foreign key; no batch copy, which
    would cascade to feedback_messages)."""
    op.execute(f"ALTER TABLE feedback_items RENAME COLUMN {old_column} TO {new_column}")
    if op.get_bind().dialect.name == "sqlite":
        return
    op.execute(
        f"ALTER TABLE feedback_items RENAME CONSTRAINT fk_feedback_items_{old_column}_{old_table} "
        f"TO fk_feedback_items_{new_column}_{new_table}"
    )


def upgrade() -> None:
    _rename_feedback_link("tasks", "follow_ups", "task_id", "follow_up_id")
    _rename_follow_ups("tasks", "follow_ups", link="follow_up_id")
    _stored_values("follow_ups", forward=True)


def downgrade() -> None:
    _stored_values("follow_ups", forward=False)
    _rename_feedback_link("follow_ups", "tasks", "follow_up_id", "task_id")
    _rename_follow_ups("follow_ups", "tasks", link="task_id")
