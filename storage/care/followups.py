"""Follow-up tasks for staff (回访): creation (idempotent by source_ref), the reminder schedule
(remind_at: the due time, then once more when overdue), and what staff do with one."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import FollowUp
from storage.core import buttons
from storage.core.claims import skip_locked
from storage.core.config import Config, FollowUpConfig
from storage.core.db import changed_rows
from storage.core.when import local_iso
from storage.insight import pyramid
from storage.insight.models import CustomerScore
from storage.people import outbox, staff
from storage.people.models import Customer

LIST_LIMIT = 30
REASON_MAX = 1000  # why a follow-up is needed, as staff type it
OUTCOME_MAX = 4096  # the note that closes it: a whole Telegram message is kept


async def create(
    session: AsyncSession,
    *,
    customer_id: int,
    kind: str,
    reason: str,
    due_at: datetime,
    created_by: int | None = None,
    assignee_id: int | None = None,
    source_ref: str | None = None,
    notify_customer: bool = False,
) -> FollowUp:
    """A new open follow-up; with a source_ref, creating it again returns the existing one."""
    if source_ref is not None:
        existing = await session.scalar(select(FollowUp).where(FollowUp.source_ref == source_ref))
        if existing is not None:
            return existing
    follow_up = FollowUp(
        customer_id=customer_id,
        kind=kind,
        reason=reason,
        due_at=due_at,
        status="open",
        created_by=created_by,
        assignee_id=assignee_id,
        source_ref=source_ref,
        remind_at=due_at,
        reminders=0,
        notify_customer=notify_customer,
    )
    session.add(follow_up)
    await session.flush()
    return follow_up


async def remind_due(
    session: AsyncSession, now: datetime, config: Config, *, limit: int = 200
) -> tuple[int, int]:
    """Queue the reminders that have come (index ix_follow_ups_reminders); returns (follow-ups read,
    cards queued): fewer read than `limit` means nothing more is due. Each card goes to the staff group
    (overdue the second time), a note to the assignee, and on the first reminder the optional courtesy
    message to the customer. PostgreSQL skips rows another instance is reminding. Without a staff
    group nothing is read: the follow-ups wait in /followups."""
    if config.staff_chat_id is None:
        return 0, 0
    rows = (
        await session.execute(
            skip_locked(
                select(FollowUp, Customer, CustomerScore.level)
                .join(Customer, Customer.id == FollowUp.customer_id)
                .outerjoin(CustomerScore, CustomerScore.customer_id == FollowUp.customer_id)
                .where(FollowUp.remind_at <= now, FollowUp.status == "open")
                .order_by(FollowUp.remind_at)
                .limit(limit),
                FollowUp,
            )
        )
    ).all()
    assignees = await staff.names(session, (follow_up.assignee_id for follow_up, _, _ in rows))
    queued = 0
    for follow_up, customer, level in rows:
        params = {
            "id": follow_up.id,
            "customer_id": customer.id,
            "name": customer.first_name,
            "username": f"@{customer.username}" if customer.username else "",
            "reason": follow_up.reason,
            "due": local_iso(follow_up.due_at, config.staff_timezone),
            "assignee": assignees.get(follow_up.assignee_id or 0, "—"),
            "value": pyramid.STARS.get(level or "", ""),  # the customer's value level, in any language
        }
        key = reminder_key(follow_up)
        queued += await outbox.enqueue(
            session,
            dedupe_key=key,
            chat_id=config.staff_chat_id,
            template="followups.overdue" if follow_up.reminders else "followups.reminder",
            language=config.default_language,
            params=params,
            now=now,
            buttons=await card_buttons(session, follow_up, now),
        )
        if follow_up.assignee_id is not None:
            await outbox.enqueue(
                session,
                dedupe_key=f"{key}:assignee",
                chat_id=follow_up.assignee_id,
                template="followups.assignee_note",
                language=config.default_language,
                params=params,
                now=now,
            )
        if follow_up.notify_customer and follow_up.reminders == 0:
            await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=f"follow_up:{follow_up.id}:courtesy",
                template="followups.courtesy",
                params={"name": customer.first_name},
                now=now,
            )
        reminded(follow_up, now, config.followups)
    return len(rows), queued


def reminded(follow_up: FollowUp, now: datetime, config: FollowUpConfig) -> None:
    """After a reminder: one more when still open after the overdue delay, then none."""
    follow_up.reminders += 1
    follow_up.reminded_at = now
    follow_up.remind_at = now + timedelta(hours=config.overdue_hours) if follow_up.reminders == 1 else None


def reminder_key(follow_up: FollowUp) -> str:
    """The reminder card's dedupe key: one per follow-up, due time and reminder number."""
    return f"follow_up:{follow_up.id}:{follow_up.due_at:%Y%m%d%H%M}:{follow_up.reminders + 1}"


async def get_open(session: AsyncSession, follow_up_id: int) -> FollowUp | None:
    follow_up = await session.get(FollowUp, follow_up_id)
    return follow_up if follow_up is not None and follow_up.status == "open" else None


async def complete(session: AsyncSession, follow_up_id: int, outcome: str, now: datetime) -> bool:
    """Close an open follow-up with its outcome, stored whole (a Text column; one message, at most 4096
    characters); False when it was closed already (a second Done)."""
    result = await changed_rows(
        session,
        update(FollowUp)
        .where(FollowUp.id == follow_up_id, FollowUp.status == "open")
        .values(status="done", outcome=outcome, closed_at=now, remind_at=None),
    )
    return bool(result)


async def snooze(session: AsyncSession, follow_up: FollowUp, delay: timedelta, now: datetime) -> None:
    """Due again after `delay`, with a fresh reminder schedule."""
    follow_up.due_at = now + delay
    follow_up.remind_at = follow_up.due_at
    follow_up.reminders = 0
    await session.flush()


async def assign(session: AsyncSession, follow_up: FollowUp, assignee_id: int) -> None:
    follow_up.assignee_id = assignee_id
    await session.flush()


async def open_by_due(
    session: AsyncSession, limit: int = LIST_LIMIT
) -> list[tuple[FollowUp, Customer, str | None]]:
    """Open tasks with their customer and value level: the most valuable customers first (key, major,
    regular, small, not scored), then by due time."""
    rows = await session.execute(
        select(FollowUp, Customer, CustomerScore.level)
        .join(Customer, Customer.id == FollowUp.customer_id)
        .outerjoin(CustomerScore, CustomerScore.customer_id == FollowUp.customer_id)
        .where(FollowUp.status == "open")
        .order_by(pyramid.rank(CustomerScore.level), FollowUp.due_at, FollowUp.id)
        .limit(limit)
    )
    return [(follow_up, customer, level) for follow_up, customer, level in rows.all()]


async def recent_outcomes(session: AsyncSession, customer_id: int, limit: int = 3) -> list[FollowUp]:
    """The customer's latest closed tasks, for their card."""
    rows = await session.scalars(
        select(FollowUp)
        .where(FollowUp.customer_id == customer_id, FollowUp.status == "done")
        .order_by(FollowUp.closed_at.desc(), FollowUp.id.desc())
        .limit(limit)
    )
    return list(rows)


# Reminder-card buttons (storage.buttons rows for staff, no owner), routed by action "follow_up/<action>".
ACTIONS = ("done", "snooze_1h", "snooze_1d", "mine")
SNOOZES = {"follow_up/snooze_1h": timedelta(hours=1), "follow_up/snooze_1d": timedelta(days=1)}


async def card_buttons(
    session: AsyncSession, follow_up: FollowUp, now: datetime
) -> list[list[tuple[str, str]]]:
    """The rows of a reminder card's buttons (outbox form: "@" labels are catalog keys)."""
    data = {
        action: await buttons.issue(
            session, f"follow_up/{action}", {"follow_up_id": follow_up.id}, user_id=None, now=now
        )
        for action in ACTIONS
    }
    return [
        [("@followups.done", data["done"]), ("@followups.mine", data["mine"])],
        [("@followups.snooze_1h", data["snooze_1h"]), ("@followups.snooze_1d", data["snooze_1d"])],
    ]
