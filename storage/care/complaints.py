"""Complaints with a clock: every feedback item and detractor card gets a first-response and a resolution
deadline by priority, a reminder in the staff group before each runs out and an escalation to the
admins after; the customer is told when their item is taken up and when it is resolved, and then asked
"Solved? 👍 / 👎" (👎 reopens it, with a new round of deadlines).

The clock is data: `alert_at` says when the item must be looked at. The desk sets it to now when
something happens (a claim, a reply to the customer, a resolution: storage.care.feedback.touch) and
this module sets it to the next reminder or deadline, so the `complaints` tick reads only due rows
(partial index) and does everything here: start the clock, notice the first response and the
resolution, send what is due, schedule the next look. Notices and alerts are outbox rows with a dedupe
key per item, round (reopened count) and kind, so a tick repeated after a crash sends each once."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import FeedbackItem, FeedbackMessage
from storage.core.claims import skip_locked
from storage.core.config import ComplaintConfig, Config
from storage.core.refusals import Refused
from storage.core.when import local_iso
from storage.insight.models import CustomerScore
from storage.people import outbox, staff
from storage.people.models import Customer
from storage.people.staff import Role

# The alerts of one round, in order; a respond alert is skipped once someone has responded.
ALERTS = ("respond_reminder", "respond_overdue", "resolve_reminder", "resolve_overdue")
HIGH_LEVELS = frozenset({"key", "major"})  # value levels (storage.insight) whose complaints come first
VOTE_PREFIX = "cs:"  # "cs:<item>:y" / "cs:<item>:n" under the resolution notice


class VoteRefused(Refused):
    """`code` names the localized reason."""


def priority_for(level: str | None) -> str:
    return "high" if level in HIGH_LEVELS else "normal"


def _deadline(item: FeedbackItem, alert: str) -> datetime:
    deadline = item.respond_by if alert.startswith("respond") else item.resolve_by
    assert deadline is not None  # set when the clock starts
    return deadline


def alert_time(item: FeedbackItem, alert: str, config: ComplaintConfig) -> datetime:
    """When an alert of the item's round is due: a reminder when `remind_at` of the window has gone."""
    deadline = _deadline(item, alert)
    if alert.endswith("overdue"):
        return deadline
    hours = (config.respond_hours if alert.startswith("respond") else config.resolve_hours)[item.priority]
    return deadline - timedelta(hours=hours * (1 - config.remind_at))


def next_alert(item: FeedbackItem, now: datetime, config: ComplaintConfig) -> tuple[int, datetime] | None:
    """The next alert still to send (index in ALERTS, when), or None. A reminder whose deadline has
    passed already is skipped: the overdue alert says more."""
    if item.status == "resolved":
        return None
    for index in range(item.alerts_sent, len(ALERTS)):
        alert = ALERTS[index]
        if alert.startswith("respond") and item.first_response_at is not None:
            continue
        if alert.endswith("reminder") and _deadline(item, alert) <= now:
            continue
        return index, alert_time(item, alert, config)
    return None


def start(item: FeedbackItem, since: datetime, priority: str, config: ComplaintConfig) -> None:
    """A new round of deadlines from `since` (the item's creation, or its reopening)."""
    item.priority = priority
    item.respond_by = since + timedelta(hours=config.respond_hours[priority])
    item.resolve_by = since + timedelta(hours=config.resolve_hours[priority])
    item.alerts_sent = 0


def _key(item: FeedbackItem, what: str) -> str:
    return f"complaint:{item.id}:{item.reopened}:{what}"


async def _first_replies(session: AsyncSession, item_ids: Sequence[int]) -> dict[int, datetime]:
    rows = await session.execute(
        select(FeedbackMessage.feedback_id, func.min(FeedbackMessage.created_at))
        .where(FeedbackMessage.feedback_id.in_(item_ids), FeedbackMessage.direction == "to_customer")
        .group_by(FeedbackMessage.feedback_id)
    )
    return {item_id: at for item_id, at in rows}


async def _admins(session: AsyncSession) -> str:
    members = await staff.list_staff(session)
    handles = [f"@{m.username}" if m.username else m.name for m in members if m.role >= Role.ADMIN]
    return " ".join(handles) or "—"


async def tick(session: AsyncSession, now: datetime, config: Config, *, limit: int = 200) -> tuple[int, int]:
    """Look at the items due (FOR UPDATE SKIP LOCKED; a second instance takes others); returns (items
    read, messages queued). Without a staff group nothing is read: the items wait."""
    if config.staff_chat_id is None:
        return 0, 0
    # The due items first, then their customers and levels by id: a join in one statement let
    # PostgreSQL's planner choose to scan customers and customer_scores whole once statistics said
    # many items were due.
    items = list(
        await session.scalars(
            skip_locked(
                select(FeedbackItem)
                .where(FeedbackItem.alert_at <= now)
                .order_by(FeedbackItem.alert_at, FeedbackItem.id)
                .limit(limit),
                FeedbackItem,
            )
        )
    )
    if not items:
        return 0, 0
    ids = {item.customer_id for item in items}
    people = {c.id: c for c in await session.scalars(select(Customer).where(Customer.id.in_(ids)))}
    levels = await session.execute(
        select(CustomerScore.customer_id, CustomerScore.level).where(CustomerScore.customer_id.in_(ids))
    )
    level_of: dict[int, str] = {customer_id: level for customer_id, level in levels.all()}
    rows = [(item, people[item.customer_id], level_of.get(item.customer_id)) for item in items]
    replies = await _first_replies(session, [item.id for item, _, _ in rows])
    handlers = await staff.names(session, (item.claimed_by for item, _, _ in rows))
    admins = await _admins(session)
    queued = 0
    for item, customer, level in rows:
        item.alert_at = None
        if item.respond_by is None:  # new or reopened: a round of deadlines from then
            priority = priority_for(level)  # the customer's value level now
            start(item, item.round_at or item.created_at, priority, config.complaints)
            if item.reopened:
                queued += await outbox.enqueue(
                    session,
                    dedupe_key=_key(item, "reopened"),
                    chat_id=config.staff_chat_id,
                    template="complaints.reopened",
                    language=config.default_language,
                    params={"id": item.id, "customer_id": customer.id, "name": customer.first_name},
                    now=now,
                )
        responses = [at for at in (item.claimed_at, replies.get(item.id)) if at is not None]
        if item.first_response_at is None and responses:
            item.first_response_at = min(responses)
            queued += await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=_key(item, "taken"),
                template="complaints.taken_up",
                params={"id": item.id},
                now=now,
            )
        if item.status == "resolved" and customer.erased_at is None:
            queued += await outbox.enqueue_for_customer(
                session,
                customer,
                dedupe_key=_key(item, "resolved"),
                template="complaints.resolved",
                params={"id": item.id, "resolution": item.resolution or ""},
                now=now,
                buttons=[
                    [
                        ("@complaints.solved_yes", f"{VOTE_PREFIX}{item.id}:y"),
                        ("@complaints.solved_no", f"{VOTE_PREFIX}{item.id}:n"),
                    ]
                ],
            )
            continue
        due = next_alert(item, now, config.complaints)
        while due is not None and due[1] <= now:  # what is due now goes out (at most one of each kind)
            index, _ = due
            alert = ALERTS[index]
            queued += await outbox.enqueue(
                session,
                dedupe_key=_key(item, alert),
                chat_id=config.staff_chat_id,
                template=f"complaints.{alert}",
                language=config.default_language,
                params={
                    "id": item.id,
                    "customer_id": customer.id,
                    "name": customer.first_name,
                    "mark": "🔴 " if item.priority == "high" else "",
                    "deadline": local_iso(_deadline(item, alert), config.staff_timezone),
                    "handler": handlers.get(item.claimed_by or 0, "—"),
                    "admins": admins,
                },
                now=now,
            )
            item.alerts_sent = index + 1
            due = next_alert(item, now, config.complaints)
        item.alert_at = due[1] if due is not None else None
    return len(rows), queued


def parse_vote(data: str) -> tuple[int, bool] | None:
    """(item id, solved) from "cs:12:y"; None for anything else."""
    body = data.removeprefix(VOTE_PREFIX)
    raw_id, _, answer = body.partition(":")
    if (
        not data.startswith(VOTE_PREFIX)
        or answer not in ("y", "n")
        or not raw_id.isdigit()
        or len(raw_id) > 10
    ):
        return None
    return int(raw_id), answer == "y"


async def vote(session: AsyncSession, customer: Customer, item_id: int, solved: bool, now: datetime) -> str:
    """The customer's 👍 / 👎 under a resolution: "thanks", or "reopened" (a new round of deadlines,
    the staff group alerted by the tick). Refused for someone else's item or one no longer resolved
    (a second 👎, or a press after staff reopened it)."""
    item = await session.get(FeedbackItem, item_id, with_for_update=True)
    if item is None or item.customer_id != customer.id:
        raise VoteRefused("button.stale")
    if item.status != "resolved":
        raise VoteRefused("complaints.vote_stale")
    item.solved = solved
    if solved:
        return "thanks"
    item.status, item.resolved_by, item.resolved_at = "open", None, None
    item.claimed_by, item.claimed_at, item.first_response_at = None, None, None
    item.reopened += 1
    item.respond_by, item.round_at = None, now  # the tick starts a new round from now
    item.alert_at = now
    return "reopened"
