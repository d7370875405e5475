"""What a test compares before and after someone acts: the state only staff may change, and the
ledger's invariants (cached balance = sum of entries = sum of lot remainders)."""

from __future__ import annotations

from collections.abc import Collection
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
    "bulk_jobs": "id, kind, state, paused_at",
    "pending_members": "id, phone_hash, linked_customer_id",
    "campaigns": "id, name, status, send_date, send_minute, photo",
    "campaign_schedules": "campaign_id, kind, delay_hours, holiday, active",
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


# A customer changes some rows of their own without staff (erasing their data with /privacy cancels
# their vouchers and follow-ups and blanks their texts; 👎 under a resolution reopens their item): the
# queries of the rows a customer owns start with customer_id, and `changed` leaves out the acting
# customer's rows (the fuzz suite passes their ids), judging everyone else's.
OWNED = {"used_vouchers", "follow_ups", "handled_feedback", "notes", "tags", "cancelled_vouchers"}

# What only staff change: the same snapshot as STAFF_STATE, less what customers change themselves by
# redeeming, answering surveys and sending feedback (their vouchers, redeem/survey entries, new items).
STAFF_ONLY = {
    "staff_members": "SELECT telegram_id, role FROM staff_members",
    "purchases": "SELECT id, amount FROM purchases",
    "staff_entries": "SELECT id, points FROM ledger_entries"
    " WHERE kind IN ('earn', 'award', 'deduct', 'refund')",
    "rewards": "SELECT id, title, cost, stock, per_customer_limit, min_tier, active FROM rewards",
    "used_vouchers": "SELECT customer_id, id, status FROM vouchers WHERE status IN ('used', 'cancelled')",
    "surveys": "SELECT id, name, status, general FROM surveys",
    "follow_ups": "SELECT customer_id, id, status, assignee_id, due_at, outcome FROM follow_ups",
    "handled_feedback": "SELECT customer_id, id, status, claimed_by, resolved_by, follow_up_id, resolution"
    " FROM feedback_items"
    " WHERE status <> 'open' OR claimed_by IS NOT NULL",
    "staff_messages": "SELECT id FROM feedback_messages WHERE direction IN ('to_customer', 'note_prompt')",
    "bulk_jobs": "SELECT id, kind FROM bulk_jobs",
    "pending_members": "SELECT id, phone_hash FROM pending_members"
    " WHERE linked_customer_id IS NULL OR linked_customer_id NOT IN"
    " (SELECT id FROM customers WHERE erased_at IS NOT NULL)",
    "notes": "SELECT customer_id, id, text FROM customer_notes",
    "tags": "SELECT customer_id, tag FROM customer_tags",
    "campaigns": "SELECT id, name, status, send_date, send_minute, photo FROM campaigns",
    "campaign_schedules": "SELECT campaign_id, kind, delay_hours, holiday, active FROM campaign_schedules",
    "bot_settings": "SELECT key, value FROM bot_settings",
}
# What only admins and owners change.
ADMIN_ONLY = {
    "staff_members": "SELECT telegram_id, role FROM staff_members WHERE role <> 'agent'",
    "deductions": "SELECT id, points FROM ledger_entries WHERE kind IN ('deduct', 'refund')",
    "rewards": STAFF_ONLY["rewards"],
    "cancelled_vouchers": "SELECT customer_id, id FROM vouchers WHERE status = 'cancelled'",
    "surveys": STAFF_ONLY["surveys"],
    "bulk_jobs": "SELECT id, kind, paused_at FROM bulk_jobs"
    " WHERE kind LIKE 'import%' OR kind LIKE 'export%' OR kind LIKE 'campaign%'",
    "pending_members": STAFF_ONLY["pending_members"],
    "campaigns": STAFF_ONLY["campaigns"],
    "campaign_schedules": STAFF_ONLY["campaign_schedules"],
    "bot_settings": "SELECT key, value FROM bot_settings",
}


async def _snapshot(sessions: async_sessionmaker[AsyncSession], queries: dict[str, str]) -> State:
    async with sessions() as session:
        return {
            name: sorted((tuple(r) for r in await session.execute(text(sql))), key=repr)
            for name, sql in queries.items()
        }


async def staff_only_state(sessions: async_sessionmaker[AsyncSession]) -> State:
    return await _snapshot(sessions, STAFF_ONLY)


async def admin_only_state(sessions: async_sessionmaker[AsyncSession]) -> State:
    return await _snapshot(sessions, ADMIN_ONLY)


def changed(before: State, after: State, acting: Collection[int] = ()) -> list[str]:
    """The snapshots that differ, leaving out the rows the acting customers own (OWNED)."""

    def theirs(name: str, rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        return [r for r in rows if r[0] not in acting] if name in OWNED else rows

    return [name for name in before if theirs(name, before[name]) != theirs(name, after[name])]


async def customer_ids(sessions: async_sessionmaker[AsyncSession], telegram_id: int) -> set[int]:
    """The customer rows of a Telegram user: their own, and, once erased, its tombstone's."""
    async with sessions() as session:
        rows = await session.execute(
            text("SELECT id FROM customers WHERE telegram_id = :t"), {"t": telegram_id}
        )
        return {r[0] for r in rows}


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
