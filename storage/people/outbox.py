"""The outbox: every proactive message is a row, written in the same transaction as its cause, with a
unique dedupe key; one sender claims due rows and records what Telegram answered."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.claims import skip_locked
from storage.core.models import BulkJob
from storage.core.row_updates import update_rows
from storage.core.upsert import insert_ignore, insert_ignore_many
from storage.people.models import Customer, OutboxMessage

# A claim older than this is taken to belong to a sender that died mid-send.
CLAIM_TIMEOUT = timedelta(minutes=5)
# The error of a row its bulk job's Stop withdrew before it was sent (status "skipped").
WITHDRAWN = "withdrawn"
QUEUED, PAUSED = "queued", "paused"  # a paused row is never claimed (its bulk job is paused)

# A label is text, a catalog key after "@", or a per-language value (storage.core.localized).
Buttons = list[list[tuple[Any, str]]]  # (str | dict[str, str], data): lists are invariant


def _row(
    *,
    dedupe_key: str,
    chat_id: int,
    template: str,
    language: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    buttons: Buttons | None = None,
    bulk_job_id: int | None = None,
    photo: str | None = None,
) -> dict[str, Any]:
    return {
        "dedupe_key": dedupe_key,
        "chat_id": chat_id,
        "customer_id": customer_id,
        "template": template,
        "params": params or {},
        "language": language,
        "buttons": [[list(b) for b in row] for row in buttons] if buttons else None,
        "status": "queued",
        "not_before": not_before or now,
        "attempts": 0,
        "created_at": now,
        "bulk_job_id": bulk_job_id,
        "photo": photo,
    }


async def enqueue(
    session: AsyncSession,
    *,
    dedupe_key: str,
    chat_id: int,
    template: str,
    language: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    customer_id: int | None = None,
    not_before: datetime | None = None,
    buttons: Buttons | None = None,
) -> bool:
    """Queue a message once per dedupe key; False when that key was queued before.

    `buttons` rows hold (label, callback_data); a label starting with "@" is a template key.
    """
    row = _row(
        dedupe_key=dedupe_key,
        chat_id=chat_id,
        customer_id=customer_id,
        template=template,
        params=params,
        language=language,
        now=now,
        not_before=not_before,
        buttons=buttons,
    )
    return await insert_ignore(session, OutboxMessage, row, ["dedupe_key"])


@dataclass(frozen=True)
class Message:
    """One message of a wave (enqueue_many) to a customer (their id, Telegram chat and language)."""

    customer_id: int
    chat_id: int
    language: str
    dedupe_key: str
    template: str
    params: dict[str, Any] = field(default_factory=dict)
    buttons: Buttons | None = None
    not_before: datetime | None = None  # later than now: quiet hours (storage.people.contact_budget)
    photo: str | None = None  # a Telegram file_id: sent as a photo with the text as its caption


async def enqueue_many(
    session: AsyncSession, messages: list[Message], *, now: datetime, bulk_job_id: int | None = None
) -> None:
    """Queue messages to customers, each once per dedupe key (a key queued before is left alone), in
    one executemany, not one statement per message. `bulk_job_id` names the job they belong to (its
    progress counts them)."""
    rows = [
        _row(
            dedupe_key=m.dedupe_key,
            chat_id=m.chat_id,
            customer_id=m.customer_id,
            template=m.template,
            params=m.params,
            language=m.language,
            now=now,
            buttons=m.buttons,
            not_before=m.not_before,
            bulk_job_id=bulk_job_id,
            photo=m.photo,
        )
        for m in messages
    ]
    await insert_ignore_many(session, OutboxMessage, rows, ["dedupe_key"])


async def enqueue_for_customer(
    session: AsyncSession,
    customer: Customer,
    *,
    dedupe_key: str,
    template: str,
    now: datetime,
    params: dict[str, Any] | None = None,
    not_before: datetime | None = None,
    buttons: Buttons | None = None,
) -> bool:
    return await enqueue(
        session,
        dedupe_key=dedupe_key,
        chat_id=customer.telegram_id,
        customer_id=customer.id,
        template=template,
        language=customer.language,
        params=params,
        now=now,
        not_before=not_before,
        buttons=buttons,
    )


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row claimed for sending: what the sender needs, read as plain values (no ORM object, identity
    map or attribute instrumentation per message)."""

    id: int
    chat_id: int
    customer_id: int | None
    template: str
    params: dict[str, Any]
    language: str
    buttons: list[list[list[Any]]] | None  # [label, data]; a label as in Buttons
    attempts: int  # including this claim
    photo: str | None = None


_T = cast(Table, OutboxMessage.__table__)
_CLAIMED = (_T.c.id, _T.c.chat_id, _T.c.customer_id, _T.c.template, _T.c.params, _T.c.language, _T.c.buttons)


async def claim_due(
    session: AsyncSession,
    *,
    worker: str,
    now: datetime,
    limit: int,
    lease: timedelta = CLAIM_TIMEOUT,
) -> list[Claimed]:
    """Claim up to `limit` due rows for this worker, earliest first.

    PostgreSQL: FOR UPDATE SKIP LOCKED, so two instances never claim the same row. SQLite: the
    transaction already holds the write lock (BEGIN IMMEDIATE), so select-then-update is atomic.
    A row claimed by a sender that died (claim older than `lease`) is due again. Rows of customers
    who blocked the bot are not sent: they become "skipped" when they come due (a greeting queued
    while someone blocked us is stale by the time they write again), and count as such in /outbox.
    Three statements whatever `limit` is: the due ids, the skipped ones, the claim (UPDATE … RETURNING).
    """
    # The recipient's state as a subquery per row claimed, not a join: PostgreSQL's generic plan (asyncpg
    # keeps the statement prepared) guesses a third of the outbox is due and would hash-join every customer.
    unreachable = (
        select(Customer.unreachable_at).where(Customer.id == OutboxMessage.customer_id).scalar_subquery()
    )
    due = skip_locked(
        select(OutboxMessage.id, unreachable)
        .where(
            (
                (OutboxMessage.status == "queued")
                | ((OutboxMessage.status == "sending") & (OutboxMessage.claimed_at < now - lease))
            ),
            OutboxMessage.not_before <= now,
        )
        .order_by(OutboxMessage.not_before, OutboxMessage.id)
        .limit(limit),
        OutboxMessage,
    )
    found = (await session.execute(due)).all()
    skipped = [row_id for row_id, unreachable in found if unreachable is not None]
    ids = [row_id for row_id, unreachable in found if unreachable is None]
    if skipped:
        await session.execute(
            update(_T)
            .where(_T.c.id.in_(skipped))
            .values(status="skipped", error="unreachable", claimed_by=None, claimed_at=None)
        )
    if not ids:
        return []
    claimed = await session.execute(
        update(_T)
        .where(_T.c.id.in_(ids))
        .values(status="sending", claimed_by=worker, claimed_at=now, attempts=_T.c.attempts + 1)
        .returning(*_CLAIMED, _T.c.attempts, _T.c.photo)
    )
    order = {row_id: position for position, row_id in enumerate(ids)}
    rows = [Claimed(*row) for row in claimed.all()]
    rows.sort(key=lambda row: order[row.id])
    return rows


# What the sender learnt about one claimed row; `record` applies them in bulk, one UPDATE per kind.
@dataclass(frozen=True, slots=True)
class Sent:
    id: int
    message_id: int
    sent_at: datetime


@dataclass(frozen=True, slots=True)
class Failed:
    id: int
    error: str


@dataclass(frozen=True, slots=True)
class Again:
    """Back to the queue, due at `not_before`."""

    id: int
    not_before: datetime
    attempts: int
    error: str | None


Outcome = Sent | Failed | Again


def sent(row: Claimed, telegram_message_id: int, now: datetime) -> Sent:
    return Sent(row.id, telegram_message_id, now)


def failed(row: Claimed, error: str) -> Failed:
    return Failed(row.id, error[:2000])


def again(row: Claimed, not_before: datetime, error: str | None, *, count_attempt: bool = True) -> Again:
    """Back to the queue; without count_attempt (a rate-limit deferral) the claim's attempt is undone."""
    attempts = row.attempts if count_attempt else max(row.attempts - 1, 0)
    return Again(row.id, not_before, attempts, error[:2000] if error else None)


async def record(session: AsyncSession, outcomes: Sequence[Outcome]) -> None:
    """Apply outcomes (from sent/failed/again): one set-based UPDATE per kind present, by primary key."""
    sent_rows = [(o.id, o.message_id, o.sent_at) for o in outcomes if isinstance(o, Sent)]
    failed_rows = [(o.id, o.error) for o in outcomes if isinstance(o, Failed)]
    again_rows = [(o.id, o.not_before, o.attempts, o.error) for o in outcomes if isinstance(o, Again)]
    await update_rows(session, _T, ("message_id", "sent_at"), sent_rows, {"status": "sent", "error": None})
    await update_rows(session, _T, ("error",), failed_rows, {"status": "failed"})
    await update_rows(
        session,
        _T,
        ("not_before", "attempts", "error"),
        again_rows,
        {"status": "queued", "claimed_by": None, "claimed_at": None},
    )
    if again_rows:  # a row in flight when its job was paused waits with the others
        paused_jobs = select(BulkJob.id).where(BulkJob.paused_at.is_not(None))
        await session.execute(
            update(_T)
            .where(_T.c.id.in_([row[0] for row in again_rows]), _T.c.bulk_job_id.in_(paused_jobs))
            .values(status=PAUSED)
        )


async def mark_unreachable(session: AsyncSession, chat_ids: list[int], now: datetime) -> None:
    """Telegram said these customers blocked us: their due messages are skipped until they write again."""
    if chat_ids:
        await session.execute(
            update(Customer).where(Customer.telegram_id.in_(chat_ids)).values(unreachable_at=now)
        )


@dataclass(frozen=True)
class OutboxProgress:
    queued_due: int  # queued and due now
    queued_later: int
    paused: int  # held by a paused bulk job
    sending: int
    sent_last_hour: int
    sent_last_minute: int
    failed_last_day: int
    skipped_last_day: int

    def eta_seconds(self, configured_rate: float) -> float:
        """Time to drain what is due: at the rate of the last minute, else the configured rate."""
        backlog = self.queued_due + self.sending
        rate = self.sent_last_minute / 60 if self.sent_last_minute else configured_rate
        return backlog / rate if rate > 0 else 0.0


async def progress(session: AsyncSession, now: datetime) -> OutboxProgress:
    """Counts for staff; each one reads an index (status+not_before, sent_at), never the whole table."""

    async def count(*where: Any) -> int:
        return await session.scalar(select(func.count()).select_from(OutboxMessage).where(*where)) or 0

    recent = OutboxMessage.not_before >= now - timedelta(days=1)
    return OutboxProgress(
        queued_due=await count(OutboxMessage.status == "queued", OutboxMessage.not_before <= now),
        queued_later=await count(OutboxMessage.status == "queued", OutboxMessage.not_before > now),
        paused=await count(OutboxMessage.status == PAUSED),
        sending=await count(OutboxMessage.status == "sending"),
        sent_last_hour=await count(OutboxMessage.sent_at >= now - timedelta(hours=1)),
        sent_last_minute=await count(OutboxMessage.sent_at >= now - timedelta(minutes=1)),
        failed_last_day=await count(OutboxMessage.status == "failed", recent),
        skipped_last_day=await count(OutboxMessage.status == "skipped", recent),
    )


async def sent_since(session: AsyncSession, since: datetime) -> list[tuple[int, datetime]]:
    """(chat_id, sent_at) of messages sent since `since`, oldest first (reads the sent_at index)."""
    rows = await session.execute(
        select(OutboxMessage.chat_id, OutboxMessage.sent_at)
        .where(OutboxMessage.sent_at >= since)
        .order_by(OutboxMessage.sent_at)
    )
    return [(chat_id, sent_at) for chat_id, sent_at in rows.all() if sent_at is not None]


@dataclass(frozen=True)
class Delivery:
    """How far the outbox is with the rows of one bulk job."""

    pending: int = 0  # queued, paused or being sent
    paused: int = 0  # of those, held by a Pause
    sent: int = 0
    failed: int = 0
    skipped: int = 0  # the customer was unreachable when it came due
    withdrawn: int = 0  # the job was stopped before it was sent
    sent_last_minute: int = 0


async def delivery(session: AsyncSession, job_ids: list[int], now: datetime) -> dict[int, Delivery]:
    """Delivery of each job's rows: one grouped query over the bulk_job_id index."""
    if not job_ids:
        return {}
    withdrawn = (OutboxMessage.status == "skipped") & (OutboxMessage.error == WITHDRAWN)
    rows = await session.execute(
        select(
            OutboxMessage.bulk_job_id,
            OutboxMessage.status,
            func.count(),
            func.sum(case((withdrawn, 1), else_=0)),
            func.sum(case((OutboxMessage.sent_at >= now - timedelta(minutes=1), 1), else_=0)),
        )
        .where(OutboxMessage.bulk_job_id.in_(job_ids))
        .group_by(OutboxMessage.bulk_job_id, OutboxMessage.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for job_id, status, count, withdrawn_count, last_minute in rows.all():
        if job_id is None:
            continue
        c = counts.setdefault(job_id, {})
        if status in (QUEUED, PAUSED, "sending"):
            c["pending"] = c.get("pending", 0) + count
            if status == PAUSED:
                c["paused"] = count
        elif status == "sent":
            c["sent"], c["sent_last_minute"] = count, int(last_minute or 0)
        elif status == "failed":
            c["failed"] = count
        elif status == "skipped":
            c["withdrawn"] = int(withdrawn_count or 0)
            c["skipped"] = count - c["withdrawn"]
    return {job_id: Delivery(**c) for job_id, c in counts.items()}


async def withdraw(session: AsyncSession, job_id: int) -> list[int]:
    """A bulk job was stopped: its rows not yet claimed by a sender (queued or paused) are skipped (one
    UPDATE); the ids of the customers they were for. Rows being sent go out."""
    rows = await session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.bulk_job_id == job_id, OutboxMessage.status.in_((QUEUED, PAUSED)))
        .values(status="skipped", error=WITHDRAWN)
        .returning(OutboxMessage.customer_id)
    )
    return [customer_id for (customer_id,) in rows.all() if customer_id is not None]


async def hold(session: AsyncSession, job_id: int, *, paused: bool) -> int:
    """A bulk job paused (its queued rows become paused, so no sender claims them) or resumed (back to
    queued, each keeping its not_before: what came due meanwhile goes at once); how many rows. Rows
    being sent go out."""
    before, after = (QUEUED, PAUSED) if paused else (PAUSED, QUEUED)
    result = await session.execute(
        update(_T).where(_T.c.bulk_job_id == job_id, _T.c.status == before).values(status=after)
    )
    return int(getattr(result, "rowcount", 0) or 0)
