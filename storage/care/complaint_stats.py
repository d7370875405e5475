"""The figures of /stats complaints and /stats staff: complaints by category, response times against
their targets and the customers' verdicts; per staff member, follow-ups done on time, first responses,
resolutions and how often the customer said it was solved. Read for a period, a fixed number of
queries; medians are taken in Python over the period's rows (one row per item or follow-up)."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import FeedbackItem, FollowUp
from storage.core.config import FollowUpConfig
from storage.people import staff


def _median(values: list[timedelta]) -> timedelta | None:
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values)) if values else None


@dataclass(frozen=True)
class ComplaintSummary:
    received: int
    open: int
    resolved: int
    by_category: dict[str, int]  # "" for items no one has categorised
    responded: int
    responded_on_time: int
    median_first_response: timedelta | None
    resolved_on_time: int
    solved_yes: int
    solved_no: int
    reopened: int


async def complaints(session: AsyncSession, start: datetime, end: datetime) -> ComplaintSummary:
    """The items received in [start, end]."""
    items = list(
        await session.scalars(
            select(FeedbackItem).where(FeedbackItem.created_at >= start, FeedbackItem.created_at <= end)
        )
    )
    by_category: dict[str, int] = {}
    for item in items:
        by_category[item.category or ""] = by_category.get(item.category or "", 0) + 1
    responses = [(i, i.first_response_at) for i in items if i.first_response_at is not None]
    resolved = [i for i in items if i.status == "resolved"]
    resolutions = [(i.resolved_at, i.resolve_by) for i in resolved if i.resolved_at and i.resolve_by]
    return ComplaintSummary(
        received=len(items),
        open=len(items) - len(resolved),
        resolved=len(resolved),
        by_category=dict(sorted(by_category.items(), key=lambda kv: (-kv[1], kv[0]))),
        responded=len(responses),
        responded_on_time=sum(1 for i, at in responses if i.respond_by is not None and at <= i.respond_by),
        median_first_response=_median([at - i.created_at for i, at in responses]),
        resolved_on_time=sum(1 for at, by in resolutions if at <= by),
        solved_yes=sum(1 for i in items if i.solved is True),
        solved_no=sum(1 for i in items if i.solved is False),
        reopened=sum(1 for i in items if i.reopened),
    )


@dataclass
class StaffLine:
    staff_id: int
    name: str
    followups_done: int = 0
    followups_on_time: int = 0
    claimed: int = 0
    first_responses: list[timedelta] = field(default_factory=list)
    resolved: int = 0
    solved_yes: int = 0
    solved_no: int = 0

    @property
    def median_first_response(self) -> timedelta | None:
        return _median(self.first_responses)


async def by_staff(
    session: AsyncSession, start: datetime, end: datetime, config: FollowUpConfig
) -> list[StaffLine]:
    """Per staff member, over [start, end]: follow-ups they closed (on time: before the overdue
    reminder, `overdue_hours` after the due time), items they took up (first response after the
    customer wrote), items they resolved and the customers' verdicts on those. Busiest first."""
    lines: dict[int, StaffLine] = {}

    def line(staff_id: int) -> StaffLine:
        return lines.setdefault(staff_id, StaffLine(staff_id, str(staff_id)))

    for assignee, due_at, closed_at in await session.execute(
        select(FollowUp.assignee_id, FollowUp.due_at, FollowUp.closed_at).where(
            FollowUp.status == "done", FollowUp.closed_at >= start, FollowUp.closed_at <= end
        )
    ):
        if assignee is None or closed_at is None:
            continue
        done = line(assignee)
        done.followups_done += 1
        done.followups_on_time += closed_at <= due_at + timedelta(hours=config.overdue_hours)
    for item in await session.scalars(
        select(FeedbackItem).where(
            ((FeedbackItem.claimed_at >= start) & (FeedbackItem.claimed_at <= end))
            | ((FeedbackItem.resolved_at >= start) & (FeedbackItem.resolved_at <= end))
        )
    ):
        if item.claimed_by is not None and item.claimed_at is not None and start <= item.claimed_at <= end:
            taker = line(item.claimed_by)
            taker.claimed += 1
            taker.first_responses.append((item.first_response_at or item.claimed_at) - item.created_at)
        if item.resolved_by is not None and item.resolved_at is not None and start <= item.resolved_at <= end:
            resolver = line(item.resolved_by)
            resolver.resolved += 1
            resolver.solved_yes += item.solved is True
            resolver.solved_no += item.solved is False
    names = await staff.names(session, lines)
    for staff_id, found in lines.items():
        found.name = names.get(staff_id, str(staff_id))
    return sorted(lines.values(), key=lambda s: (-(s.followups_done + s.claimed + s.resolved), s.name))
