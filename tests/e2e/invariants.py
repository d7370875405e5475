"""What a test compares before and after someone acts: the state only staff may change, and the
ledger's invariants (cached balance = sum of entries = sum of lot remainders)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

State = dict[str, list[tuple[Any, ...]]]

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
    "follow_ups": "id, customer_id, status, assignee_id, due_at, outcome",
    "feedback_items": "id, status, claimed_by, resolved_by, follow_up_id, resolution",
    "feedback_messages": "id, direction, author_id",
    "outbox": "id, chat_id, template",
    "bulk_jobs": "id, kind, state",
    "pending_members": "id, phone, linked_customer_id",
    "campaigns": "id, name, status",
    "bot_settings": "key, value",  # the staff group chosen in Telegram (owners only)
}


async def staff_state(sessions: async_sessionmaker[AsyncSession]) -> dict[str, list[tuple[Any, ...]]]:
    async with sessions() as session:
        return {
            table: [
                tuple(row) for row in await session.execute(text(f"SELECT {cols} FROM {table} ORDER BY 1"))
            ]
            for table, cols in STAFF_STATE.items()
        }


# A customer who erases their data (/privacy) changes their own rows (vouchers cancelled, follow-ups
# closed, texts blanked): what only staff change is judged on everyone else's.
KEPT = "customer_id NOT IN (SELECT id FROM customers WHERE erased_at IS NOT NULL)"

# What only staff change: the same snapshot as STAFF_STATE, less what customers change themselves by
# redeeming, answering surveys and sending feedback (their vouchers, redeem/survey entries, new items).
STAFF_ONLY = {
    "staff_members": "SELECT telegram_id, role FROM staff_members",
    "purchases": "SELECT id, amount FROM purchases",
    "staff_entries": "SELECT id, points FROM ledger_entries"
    " WHERE kind IN ('earn', 'award', 'deduct', 'refund')",
    "rewards": "SELECT id, title, cost, stock, per_customer_limit, min_tier, active FROM rewards",
    "used_vouchers": f"SELECT id, status FROM vouchers WHERE status IN ('used', 'cancelled') AND {KEPT}",
    "surveys": "SELECT id, name, status, general FROM surveys",
    "follow_ups": f"SELECT id, status, assignee_id, due_at, outcome FROM follow_ups WHERE {KEPT}",
    "handled_feedback": "SELECT id, status, claimed_by, resolved_by, follow_up_id, resolution"
    " FROM feedback_items"
    f" WHERE (status <> 'open' OR claimed_by IS NOT NULL) AND {KEPT}",
    "staff_messages": "SELECT id FROM feedback_messages WHERE direction IN ('to_customer', 'note_prompt')",
    "bulk_jobs": "SELECT id, kind FROM bulk_jobs",
    "pending_members": "SELECT id, phone FROM pending_members"
    " WHERE linked_customer_id IS NULL OR linked_customer_id NOT IN"
    " (SELECT id FROM customers WHERE erased_at IS NOT NULL)",
    "notes": f"SELECT id, text FROM customer_notes WHERE {KEPT}",
    "tags": f"SELECT customer_id, tag FROM customer_tags WHERE {KEPT}",
    "campaigns": "SELECT id, name, status FROM campaigns",
    "bot_settings": "SELECT key, value FROM bot_settings",
}
# What only admins and owners change.
ADMIN_ONLY = {
    "staff_members": "SELECT telegram_id, role FROM staff_members WHERE role <> 'agent'",
    "deductions": "SELECT id, points FROM ledger_entries WHERE kind IN ('deduct', 'refund')",
    "rewards": STAFF_ONLY["rewards"],
    "cancelled_vouchers": f"SELECT id FROM vouchers WHERE status = 'cancelled' AND {KEPT}",
    "surveys": STAFF_ONLY["surveys"],
    "bulk_jobs": "SELECT id, kind FROM bulk_jobs"
    " WHERE kind LIKE 'import%' OR kind LIKE 'export%' OR kind LIKE 'campaign%'",
    "pending_members": STAFF_ONLY["pending_members"],
    "campaigns": STAFF_ONLY["campaigns"],
    "bot_settings": "SELECT key, value FROM bot_settings",
}


async def _snapshot(sessions: async_sessionmaker[AsyncSession], queries: dict[str, str]) -> State:
    async with sessions() as session:
        return {
            name: [tuple(r) for r in await session.execute(text(f"{sql} ORDER BY 1"))]
            for name, sql in queries.items()
        }


async def staff_only_state(sessions: async_sessionmaker[AsyncSession]) -> State:
    return await _snapshot(sessions, STAFF_ONLY)


async def admin_only_state(sessions: async_sessionmaker[AsyncSession]) -> State:
    return await _snapshot(sessions, ADMIN_ONLY)


def changed(before: State, after: State) -> list[str]:
    return [name for name in before if before[name] != after[name]]


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
