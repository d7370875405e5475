"""What a test compares before and after someone acts: the state only staff may change, and the
ledger's invariants (cached balance = sum of entries = sum of lot remainders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

# Table → the columns that only staff actions (or the customer's own, for their rows) change. Activity
# bookkeeping (last seen) and the audit trail (refusals are recorded) are left out on purpose.
STAFF_STATE = {
    "staff_members": "telegram_id, role",
    "purchases": "id, customer_id, amount, points",
    "ledger_entries": "id, customer_id, kind, points, remaining",
    "loyalty_accounts": "customer_id, balance",
    "rewards": "id, title, cost, stock, per_customer_limit, min_tier, active",
    "vouchers": "id, code, status, used_by, cancelled_by",
    "surveys": "id, name, status, general",
    "survey_invitations": "id, customer_id, survey_id",
    "tasks": "id, customer_id, status, assignee_id, due_at, outcome",
    "feedback_items": "id, status, claimed_by, resolved_by, task_id, resolution",
    "feedback_messages": "id, direction, author_id",
    "outbox": "id, chat_id, template",
}


async def staff_state(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    async with sessions() as session:
        return {
            table: [
                tuple(row) for row in await session.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1"))
            ]
            for table, cols in STAFF_STATE.items()
        }


def changed(before: dict[str, list[tuple[Any, ...]]], after: dict[str, list[tuple[Any, ...]]]) -> list[str]:
    return [table for table in STAFF_STATE if before[table] != after[table]]


async def ledger_problems(sessions: async_sessionmaker[AsyncSession]) -> list[str]:
    """Accounts whose cached balance differs from the sum of their entries or of their lots."""
    sql = text(
        "SELECT a.customer_id, a.balance,"
        " (SELECT COALESCE(SUM(points), 0) FROM ledger_entries e WHERE e.customer_id = a.customer_id),"
        " (SELECT COALESCE(SUM(remaining), 0) FROM ledger_entries e WHERE e.customer_id = a.customer_id)"
        " FROM loyalty_accounts a"
    )
    async with sessions() as session:
        rows = (await session.execute(sql)).all()
    return [
        f"customer {cid}: balance {balance}, entries {entries}, lots {lots}"
        for cid, balance, entries, lots in rows
        if not balance == entries == lots or balance < 0
    ]
