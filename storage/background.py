"""Bulk work in the background, across the contexts: each kind of bulk job with the step that fans it out
and what stopping it undoes; a batch of whichever job is due; the progress staff see (the job's counters
joined with the outbox rows it queued), pausing, resuming and stopping a job. storage.core.bulk keeps the
rules of the job itself."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import fanout as campaigns
from storage.core import audit, bulk, exports, imports
from storage.core.bulk import BulkRefused
from storage.core.config import Config
from storage.core.models import AuditEntry, BulkJob
from storage.loyalty import exports as loyalty_exports
from storage.loyalty import imports as purchase_imports
from storage.loyalty.models import LedgerEntry, Purchase
from storage.people import contact_budget, outbox
from storage.people import exports as people_exports
from storage.people import imports as member_imports
from storage.people.models import Customer
from storage.people.outbox import Delivery
from storage.surveys import exports as survey_exports
from storage.surveys import sending
from storage.surveys.models import SurveyAnswer

# What stopping a job undoes besides withdrawing its unsent outbox rows: (session, job, customer ids).
Withdraw = Callable[[AsyncSession, BulkJob, list[int]], Awaitable[None]]


@dataclass(frozen=True)
class Kind:
    step: bulk.Step
    withdraw: Withdraw | None = None
    pausable: bool = False  # its staff message offers Pause (a campaign's send)


def _import(handle: imports.Handle) -> bulk.Step:
    async def step(
        session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config
    ) -> bulk.Batch:
        return await imports.step(session, job, now, limit, config, handle)

    return step


@dataclass(frozen=True)
class Export:
    """A table staff may export: its CSV header (with or without personal data), its pages, and the
    table whose rows it counts for the progress."""

    header: Callable[[bool], list[str]]
    read: exports.Read
    counted: Any


EXPORTS: dict[str, Export] = {
    people_exports.CUSTOMERS: Export(people_exports.header, people_exports.page, Customer.id),
    loyalty_exports.PURCHASES: Export(
        lambda _: loyalty_exports.PURCHASES_HEADER, loyalty_exports.purchases_page, Purchase.id
    ),
    loyalty_exports.LEDGER: Export(
        lambda _: loyalty_exports.LEDGER_HEADER, loyalty_exports.ledger_page, LedgerEntry.id
    ),
    survey_exports.SURVEYS: Export(lambda _: survey_exports.HEADER, survey_exports.page, SurveyAnswer.id),
    audit.EXPORT: Export(lambda _: audit.EXPORT_HEADER, audit.export_page, AuditEntry.id),
}
EXPORT_PREFIX = "export_"
IMPORTS = (purchase_imports.KIND, member_imports.KIND)


def export_kind(what: str) -> str:
    return EXPORT_PREFIX + what


def _export(export: Export) -> bulk.Step:
    async def step(
        session: AsyncSession, job: BulkJob, now: datetime, limit: int, config: Config
    ) -> bulk.Batch:
        return await exports.step(session, job, limit, config, header=export.header, read=export.read)

    return step


async def export_size(session: AsyncSession, what: str) -> int:
    """How many rows an export of `what` will hold (for its progress)."""
    return int(await session.scalar(select(func.count(EXPORTS[what].counted))) or 0)


async def record_export(
    session: AsyncSession,
    what: str,
    *,
    key: str,
    personal: bool,
    requested_by: int,
    language: str,
    now: datetime,
) -> BulkJob | None:
    """Record an export of `what` (one of EXPORTS) once per `key` (the command's message); personal
    data in it only when `personal` (the role may see it)."""
    return await bulk.record(
        session,
        key=key,
        kind=export_kind(what),
        params={"what": what, "personal": personal},
        requested_by=requested_by,
        language=language,
        now=now,
        total=await export_size(session, what),
    )


async def forget(session: AsyncSession, job_id: int, kind: str) -> None:
    """A finished import's or export's leftovers: rows not handled (stopped), chunks (sent)."""
    if kind in IMPORTS:
        await imports.forget(session, job_id)
    elif kind.startswith(EXPORT_PREFIX):
        await exports.forget(session, job_id)


KINDS: dict[str, Kind] = {
    sending.KIND: Kind(sending.step, sending.withdraw),
    campaigns.KIND: Kind(campaigns.step, campaigns.withdraw, pausable=True),
    purchase_imports.KIND: Kind(_import(purchase_imports.handle)),
    member_imports.KIND: Kind(_import(member_imports.handle)),
    **{export_kind(what): Kind(_export(export)) for what, export in EXPORTS.items()},
}
REPORTS_PER_TICK = 50


async def run_batch(
    session: AsyncSession, now: datetime, config: Config, *, limit: int
) -> tuple[int, BulkJob | None]:
    """One batch of the oldest job fanning out (storage.core.bulk.next_batch)."""
    steps = {name: kind.step for name, kind in KINDS.items()}
    return await bulk.next_batch(session, now, steps, config, limit=limit)


@dataclass(frozen=True)
class Progress:
    """A job as its staff message shows it."""

    job_id: int
    kind: str
    params: dict[str, Any]
    state: str
    language: str
    chat_id: int | None
    message_id: int | None
    total: int | None
    handled: int  # keys fanned out so far (queued + left out)
    queued: int  # waiting in the outbox (queued or being sent)
    sent: int
    failed: int
    skipped: int  # left out while fanning out, or unreachable when their message came due
    withdrawn: int  # not sent: the job was stopped
    reasons: dict[str, int] = field(default_factory=dict)  # left out while fanning out, by reason
    eta_seconds: float | None = None  # None once final
    paused: bool = False
    pausable: bool = False

    @property
    def final(self) -> bool:
        """Fanned out (or stopped, or failed) and nothing of it left in the outbox."""
        return self.state in bulk.FINISHED and self.queued == 0

    def shown(self) -> dict[str, Any]:
        """What an edit would change (the ETA alone is no reason to edit)."""
        return {
            "state": self.state,
            "final": self.final,
            "handled": self.handled,
            "queued": self.queued,
            "sent": self.sent,
            "failed": self.failed,
            "skipped": self.skipped,
            "withdrawn": self.withdrawn,
            "paused": self.paused,
        }


def progress(job: BulkJob, delivery: Delivery | None, config: Config) -> Progress:
    d = delivery or Delivery()
    handled = job.queued + job.skipped
    state = job.state
    final = state in bulk.FINISHED and d.pending == 0
    eta = None
    if not final:
        unread = max((job.total or 0) - handled, 0) if state in bulk.FANNING_OUT else 0
        rate = d.sent_last_minute / 60 if d.sent_last_minute else config.sender.rate_per_second
        eta = (d.pending + unread) / rate if rate > 0 else 0.0
    return Progress(
        job_id=job.id,
        kind=job.kind,
        params=dict(job.params),
        state=state,
        language=job.language,
        chat_id=job.chat_id,
        message_id=job.message_id,
        total=job.total,
        handled=handled,
        queued=d.pending,
        sent=d.sent,
        failed=d.failed,
        skipped=job.skipped + d.skipped,
        withdrawn=d.withdrawn,
        reasons=dict(job.reasons or {}),
        eta_seconds=eta,
        paused=job.paused_at is not None,
        pausable=kind.pausable if (kind := KINDS.get(job.kind)) is not None else False,
    )


async def reports(session: AsyncSession, now: datetime, config: Config) -> list[Progress]:
    """The staff messages due an edit whose content changed, decided and recorded (what they show
    now, when they are next due: in config.bulk.report_seconds, or never after the final summary).
    Edit them after this transaction commits."""
    jobs = await bulk.due_reports(session, now, limit=REPORTS_PER_TICK)
    deliveries = await outbox.delivery(session, [job.id for job in jobs], now)
    every = timedelta(seconds=config.bulk.report_seconds)
    changed = []
    for job in jobs:
        shown = progress(job, deliveries.get(job.id), config)
        if not shown.final:
            bulk.next_report(job, now, every)
        if shown.shown() != job.shown:
            job.shown = shown.shown()
            changed.append(shown)
    await session.flush()
    return changed


async def stop(
    session: AsyncSession, job_id: int, now: datetime, config: Config, *, chat_id: int, message_id: int
) -> Progress:
    """Staff pressed Stop on a job's message: no further batch, and what it queued and no sender has
    taken yet is withdrawn (with what the kind undoes for it). bulk.finished when nothing is left to
    stop. The caller shows the outcome once this commits (recorded as shown); messages still being
    sent are reported as usual."""
    job = await bulk.lock(session, job_id, chat_id, message_id)
    if job.state in (bulk.CANCELLED, bulk.FAILED):
        raise BulkRefused("bulk.finished")
    customer_ids = await outbox.withdraw(session, job.id)
    if job.state == bulk.DONE and not customer_ids:
        raise BulkRefused("bulk.finished")  # everything was sent (or is being sent) already
    kind = KINDS.get(job.kind)
    if kind is not None and kind.withdraw is not None and customer_ids:
        await kind.withdraw(session, job, customer_ids)
    bulk.cancel(job, now)
    deliveries = await outbox.delivery(session, [job.id], now)
    stopped = progress(job, deliveries.get(job.id), config)
    job.shown = stopped.shown()
    job.report_at = None if stopped.final else now + timedelta(seconds=config.bulk.report_seconds)
    await session.flush()
    return stopped


async def pause(
    session: AsyncSession,
    job_id: int,
    now: datetime,
    config: Config,
    *,
    chat_id: int,
    message_id: int,
    paused: bool,
) -> Progress:
    """Staff pressed Pause (`paused`) or Resume on a job's message: its fan-out held or continued, and
    the outbox rows it queued that no sender has taken held ("paused") or released (queued again, each
    at its own time). button.stale for a kind that cannot pause; bulk.finished when nothing is left
    (fanned out and every message sent), bulk.already_paused / bulk.not_paused for a stale button. The
    caller shows the outcome once this commits (recorded as shown)."""
    job = await bulk.lock(session, job_id, chat_id, message_id)
    kind = KINDS.get(job.kind)
    if kind is None or not kind.pausable:
        raise BulkRefused("button.stale")
    before = await outbox.delivery(session, [job.id], now)
    if job.state == bulk.DONE and not before.get(job.id, Delivery()).pending:
        raise BulkRefused("bulk.finished")
    if paused:
        bulk.pause(job, now)
    else:
        bulk.resume(job, now)
    await outbox.hold(session, job.id, paused=paused)
    if not paused:  # what came due meanwhile goes now, unless that is inside its recipient's quiet hours
        await contact_budget.after_quiet_hours(session, job.id, now, config.contact)
    deliveries = await outbox.delivery(session, [job.id], now)
    shown = progress(job, deliveries.get(job.id), config)
    job.shown = shown.shown()
    job.report_at = now + timedelta(seconds=config.bulk.report_seconds)
    await session.flush()
    return shown
