"""A survey sent to an audience as a bulk job (storage.surveys.sending through storage.background): each
customer invited once, in batches of a fixed number of statements; a crash between batches resumes
without duplicates; Stop withdraws what was not sent; the staff message's progress and final summary."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage import background
from storage.core import bulk
from storage.core.clock import FakeClock
from storage.core.config import BulkConfig, Config
from storage.core.models import BulkJob
from storage.people import customers, outbox, preferences
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage
from storage.surveys import invitations, sending
from storage.surveys.definitions import builtin
from storage.surveys.models import Survey, SurveyInvitation
from tests.statements import statements

CONFIG = Config(bulk=BulkConfig(batch=5, report_seconds=5))
PEOPLE = 12


class Crash(Exception):
    """The process dies: the transaction in flight is rolled back."""


async def _setup(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, people: int = PEOPLE
) -> Survey:
    """`people` customers; #2 blocked the bot, #3 was invited to another survey last week."""
    async with sessions.begin() as session:
        joined = [
            await customers.join(session, TelegramProfile(1000 + n, f"C{n}"), CONFIG, clock.now())
            for n in range(1, people + 1)
        ]
        joined[1].unreachable_at = clock.now()
        await invitations.create(session, builtin("other", "nps"), created_by=1, now=clock.now())
        other = await invitations.activate(session, "other", clock.now())
        await invitations.invite(session, other, joined[2], clock.now(), "earlier", config=CONFIG.surveys)
        await invitations.create(session, builtin("service", "csat"), created_by=1, now=clock.now())
        survey = await invitations.activate(session, "service", clock.now())
    clock.advance(days=7)
    return survey


async def _record(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, survey: Survey, audience: str = "all"
) -> BulkJob:
    async with sessions.begin() as session:
        job = await bulk.record(
            session,
            key=sending.job_key("tok1"),
            kind=sending.KIND,
            params=sending.params(survey.id, survey.name, audience, "tok1"),
            requested_by=9001,
            language="en",
            now=clock.now(),
            total=PEOPLE,
            chat_id=-100,
            message_id=77,
        )
        assert job is not None
        return job


async def _batch(sessions: async_sessionmaker[AsyncSession], clock: FakeClock, *, crash: bool = False) -> int:
    """One batch as the tick runs it; with `crash`, the process dies before the batch commits."""
    async with sessions.begin() as session:
        read, _ = await background.run_batch(session, clock.now(), CONFIG, limit=CONFIG.bulk.batch)
        if crash:
            raise Crash
    return read


async def _invited(sessions: async_sessionmaker[AsyncSession]) -> tuple[Counter[int], Counter[int]]:
    """Invitations and outbox rows of the job, per customer."""
    async with sessions.begin() as session:
        invited = Counter(
            await session.scalars(
                select(SurveyInvitation.customer_id).where(SurveyInvitation.dedupe_key.like("send:tok1:%"))
            )
        )
        queued = Counter(
            await session.scalars(
                select(OutboxMessage.customer_id).where(OutboxMessage.bulk_job_id.is_not(None))
            )
        )
    return invited, queued


async def test_each_customer_is_invited_once_in_batches(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    survey = await _setup(sessions, clock)
    job = await _record(sessions, clock, survey)
    assert [await _batch(sessions, clock) for _ in range(4)] == [5, 5, 2, 0]
    invited, queued = await _invited(sessions)
    assert invited == queued and set(invited.values()) == {1} and len(invited) == PEOPLE - 2
    async with sessions.begin() as session:
        done = await session.get(BulkJob, job.id)
        assert done is not None and done.state == bulk.DONE and done.cursor == PEOPLE
        assert (done.queued, done.skipped, done.reasons) == (10, 2, {"throttled": 1, "unreachable": 1})
        row = await session.scalar(select(OutboxMessage).where(OutboxMessage.bulk_job_id == job.id).limit(1))
        assert row is not None and row.template == "surveys.csat_question" and row.buttons


async def test_a_crash_between_batches_resumes_without_duplicates(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    survey = await _setup(sessions, clock)
    job = await _record(sessions, clock, survey)
    assert await _batch(sessions, clock) == 5
    with pytest.raises(Crash):  # the second batch wrote its invitations and outbox rows, then died
        await _batch(sessions, clock, crash=True)
    async with sessions.begin() as session:
        after_crash = await session.get(BulkJob, job.id)
        assert after_crash is not None and (after_crash.cursor, after_crash.queued) == (5, 3)
    invited, queued = await _invited(sessions)
    assert len(invited) == len(queued) == 3  # the first batch only
    # A new process resumes after the last committed batch.
    while await _batch(sessions, clock):
        pass
    invited, queued = await _invited(sessions)
    assert invited == queued and set(invited.values()) == {1} and len(invited) == PEOPLE - 2
    # Even from a cursor lost altogether, a second pass adds nothing: every key is taken.
    async with sessions.begin() as session:
        await session.execute(
            update(BulkJob).values(
                cursor=0, state=bulk.RUNNING, due_at=clock.now(), queued=0, skipped=0, reasons={}
            )
        )
    while await _batch(sessions, clock):
        pass
    assert await _invited(sessions) == (invited, queued)
    async with sessions.begin() as session:
        again = await session.get(BulkJob, job.id)
        assert again is not None and (again.queued, again.reasons["duplicate"]) == (0, PEOPLE - 2)


async def test_a_batch_is_a_few_statements_however_many_customers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock, engine: AsyncEngine
) -> None:
    survey = await _setup(sessions, clock, people=60)
    await _record(sessions, clock, survey)
    with statements(engine) as small:
        assert await _batch(sessions, clock) == 5
    with statements(engine) as large:
        async with sessions.begin() as session:
            read, _ = await background.run_batch(session, clock.now(), CONFIG, limit=50)
        assert read == 50
    # claim the job, the page, the page's erased customers (left out), the survey, lock the customers,
    # keys taken, throttle, invitations, outbox rows, the job's counters (and SQLite's BEGIN IMMEDIATE);
    # the preferences with the time zones, and the contact budget (storage.people.contact_budget.screen)
    assert len(small) == len(large) <= 13, large
    async with sessions.begin() as session:
        ids = list(await session.scalars(select(Customer.id)))
    with statements(engine) as preview:
        async with sessions.begin() as session:
            counts = await invitations.preview(session, ids, clock.now(), CONFIG.surveys)
    assert counts == {"unreachable": 1, "throttled": 54, "invited": 5}
    assert len([s for s in preview if s.lstrip().upper().startswith("SELECT")]) == 1


async def test_stop_withdraws_what_was_not_sent(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    survey = await _setup(sessions, clock)
    job = await _record(sessions, clock, survey)
    await _batch(sessions, clock)
    async with sessions.begin() as session:  # the sender took one invitation and sent it
        first = await session.scalar(
            select(OutboxMessage).where(OutboxMessage.bulk_job_id == job.id).limit(1)
        )
        assert first is not None
        await outbox.record(session, [outbox.sent(first, 500, clock.now())])
    async with sessions.begin() as session:
        with pytest.raises(bulk.BulkRefused):
            await background.stop(session, job.id, clock.now(), CONFIG, chat_id=-100, message_id=78)
        stopped = await background.stop(session, job.id, clock.now(), CONFIG, chat_id=-100, message_id=77)
    assert (stopped.state, stopped.sent, stopped.withdrawn, stopped.queued, stopped.final) == (
        "cancelled",
        1,
        2,
        0,
        True,
    )
    assert await _batch(sessions, clock) == 0  # no further batch
    invited, queued = await _invited(sessions)
    assert sum(invited.values()) == 1 and sum(queued.values()) == 3  # the withdrawn rows stay, skipped
    async with sessions.begin() as session:
        with pytest.raises(bulk.BulkRefused) as refused:
            await background.stop(session, job.id, clock.now(), CONFIG, chat_id=-100, message_id=77)
        assert refused.value.code == "bulk.finished"
        # Withdrawn invitations do not throttle: the next send may invite them.
        assert await invitations.preview(session, [1, 4, 5], clock.now(), CONFIG.surveys) == {
            "invited": 2,
            "throttled": 1,
        }


async def test_progress_is_reported_when_it_changes_and_ends_with_a_summary(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    survey = await _setup(sessions, clock)
    job = await _record(sessions, clock, survey)

    async def reports() -> list[background.Progress]:
        async with sessions.begin() as session:
            return await background.reports(session, clock.now(), CONFIG)

    await _batch(sessions, clock)
    (first,) = await reports()
    assert (first.handled, first.queued, first.sent, first.skipped, first.final) == (5, 3, 0, 2, False)
    assert first.eta_seconds == pytest.approx((3 + 7) / CONFIG.sender.rate_per_second)
    await _batch(sessions, clock)
    assert await reports() == []  # due again only in 5 s
    clock.advance(seconds=5)
    (second,) = await reports()
    assert (second.handled, second.queued) == (10, 8)
    clock.advance(seconds=5)
    assert await reports() == []  # nothing changed: no edit
    await _batch(sessions, clock)
    async with sessions.begin() as session:
        rows = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.bulk_job_id == job.id)))
        await outbox.record(session, [outbox.sent(row, 1, clock.now()) for row in rows[:-1]])
        await outbox.record(session, [outbox.failed(rows[-1], "Bad Request: chat not found")])
    (final,) = await reports()  # fanning out finished made a report due at once
    assert (final.state, final.final, final.sent, final.failed, final.skipped) == ("done", True, 9, 1, 2)
    assert final.reasons == {"throttled": 1, "unreachable": 1} and final.eta_seconds is None
    clock.advance(minutes=5)
    assert await reports() == []
    async with sessions.begin() as session:
        assert await bulk.has_work(session, clock.now()) == (False, False)


async def test_a_tier_audience_is_paged_over_all_customers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    survey = await _setup(sessions, clock)
    await _record(sessions, clock, survey, audience="tier member")
    config = replace(CONFIG, bulk=BulkConfig(batch=5))
    async with sessions.begin() as session:
        read, job = await background.run_batch(session, clock.now(), config, limit=5)
        assert read == 5 and job is not None and job.state == bulk.RUNNING
    while await _batch(sessions, clock):
        pass
    invited, _ = await _invited(sessions)
    assert len(invited) == PEOPLE - 2
    async with sessions.begin() as session:
        total = await session.scalar(select(func.count()).select_from(OutboxMessage))
    assert total == PEOPLE - 2 + 1  # and the earlier invitation to the other survey


async def test_preferences_and_the_contact_budget_leave_customers_out_counted(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    """Surveys turned off, or two budgeted messages this week: skipped and counted, never queued; the
    preview counts them the same way. A customer in their quiet hours is invited for when they end."""
    survey = await _setup(sessions, clock)
    async with sessions.begin() as session:
        ids = list(await session.scalars(select(Customer.id).order_by(Customer.id)))
        await preferences.choose(session, ids[4], preferences.SURVEYS, False, clock.now())
        for n in range(2):
            await outbox.enqueue(
                session,
                dedupe_key=f"campaign:{n}:{ids[5]}",
                chat_id=1,
                customer_id=ids[5],
                template="t",
                language="en",
                now=clock.now(),
            )
        await session.execute(
            update(Customer).where(Customer.id == ids[6]).values(timezone="America/Los_Angeles")
        )
        counts = await invitations.preview(session, ids, clock.now(), CONFIG.surveys, CONFIG.contact)
    assert counts["opted_out"] == 1 and counts["over_budget"] == 1
    job = await _record(sessions, clock, survey)
    while await _batch(sessions, clock):
        pass
    invited, _ = await _invited(sessions)
    assert ids[4] not in invited and ids[5] not in invited and ids[6] in invited
    async with sessions.begin() as session:
        done = await session.get(BulkJob, job.id)
        assert done is not None and done.reasons["opted_out"] == 1 and done.reasons["over_budget"] == 1
        night = await session.scalar(
            select(OutboxMessage.not_before).where(
                OutboxMessage.customer_id == ids[6], OutboxMessage.bulk_job_id == job.id
            )
        )
    # 09:00 UTC is 02:00 in Los Angeles (summer time since 8 March): due at 09:00 there, 16:00 UTC.
    assert night == clock.now().replace(hour=16)
