"""The contact budget: budgeted outbox rows counted per customer in the rolling window, for a whole batch
in one query; quiet hours in each customer's local time (a fixed clock, time zones on both sides of
the date line); preferences default on, turned off and on again, read for a batch in one query."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.core.clock import FakeClock
from storage.core.config import Config, ContactConfig
from storage.core.models import BulkJob
from storage.people import contact_budget, customers, preferences
from storage.people.customers import TelegramProfile
from storage.people.models import OutboxMessage
from tests.statements import statements

CONTACT = ContactConfig(budget=2, days=7, quiet_start=21, quiet_end=9)
NOW = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)


def test_quiet_hours_are_local_and_end_rather_than_skip() -> None:
    # 22:30 UTC: 23:30 in Berlin (quiet until 09:00 there, 08:00 UTC tomorrow); 06:30 tomorrow in
    # Shanghai (quiet until 09:00 there, 01:00 UTC); 17:30 in New York (not quiet: now).
    assert contact_budget.quiet_until(NOW, "Europe/Berlin", CONTACT) == datetime(2026, 3, 11, 8, tzinfo=UTC)
    assert contact_budget.quiet_until(NOW, "Asia/Shanghai", CONTACT) == datetime(2026, 3, 11, 1, tzinfo=UTC)
    assert contact_budget.quiet_until(NOW, "America/New_York", CONTACT) == NOW
    # Auckland, 11:30 the next day: awake. Honolulu, 12:30: awake.
    assert contact_budget.quiet_until(NOW, "Pacific/Auckland", CONTACT) == NOW
    assert contact_budget.quiet_until(NOW, "Pacific/Honolulu", CONTACT) == NOW
    # The end hour itself is awake; the start hour is quiet.
    berlin_nine = datetime(2026, 3, 11, 8, tzinfo=UTC)
    assert contact_budget.quiet_until(berlin_nine, "Europe/Berlin", CONTACT) == berlin_nine
    berlin_nine_pm = datetime(2026, 3, 11, 20, tzinfo=UTC)
    assert contact_budget.quiet_until(berlin_nine_pm, "Europe/Berlin", CONTACT) == datetime(
        2026, 3, 12, 8, tzinfo=UTC
    )
    # A window within one day (13-15), and none at all.
    lunch = replace(CONTACT, quiet_start=13, quiet_end=15)
    at = datetime(2026, 3, 10, 12, 30, tzinfo=UTC)  # 13:30 in Berlin
    assert contact_budget.quiet_until(at, "Europe/Berlin", lunch) == datetime(2026, 3, 10, 14, tzinfo=UTC)
    assert (
        contact_budget.quiet_until(NOW, "Europe/Berlin", replace(CONTACT, quiet_start=0, quiet_end=0)) == NOW
    )


def _row(cid: int, key: str, days_ago: float, status: str = "sent") -> OutboxMessage:
    at = NOW - timedelta(days=days_ago)
    return OutboxMessage(
        dedupe_key=key,
        chat_id=1,
        customer_id=cid,
        template="t",
        params={},
        language="en",
        status=status,
        not_before=at,
        created_at=at,
    )


async def test_the_budget_counts_budgeted_rows_in_the_window_for_a_batch_in_one_query(
    sessions: async_sessionmaker[AsyncSession], engine: AsyncEngine
) -> None:
    clock = FakeClock(NOW)
    async with sessions.begin() as session:
        people = [
            await customers.join(
                session, TelegramProfile(500 + n, f"P{n}"), Config(default_timezone=tz), clock.now()
            )
            for n, tz in enumerate(["Europe/Berlin", "Asia/Shanghai", "America/New_York", "UTC"])
        ]
        a, b, c, d = (p.id for p in people)
        session.add_all(
            [
                _row(a, f"campaign:1:{a}", 1),
                _row(a, f"survey:send:x:{a}", 6),  # a: two in the window, over budget
                _row(b, f"campaign:1:{b}", 1),
                _row(b, f"winback:{b}:3", 8),  # b: one (the other is older than 7 days)
                _row(c, f"birthday:{c}:2026", 1),  # c: not budgeted ones only
                _row(c, f"notify:purchase:{c}", 1),
                _row(c, f"survey:purchase:{c}", 1),  # the survey after a purchase: outside the budget
                _row(c, f"campaign:2:{c}", 1, status="failed"),  # reached nobody
                _row(d, f"campaign:1:{d}", 0, status="queued"),
                _row(d, f"campaign:3:{d}", -1, status="queued"),  # d: two queued (one tomorrow)
            ]
        )
    async with sessions.begin() as session:
        with statements(engine) as sent:
            admitted = await contact_budget.admit(session, {p.id: p.timezone for p in people}, NOW, CONTACT)
        assert len([s for s in sent if s.lstrip().upper().startswith("SELECT")]) == 1
        assert await contact_budget.used(session, [a, b, c, d], NOW, CONTACT) == {a: 2, b: 1, d: 2}
    assert admitted.over == {a, d}
    # b in Shanghai waits for 09:00 there; c in New York goes now.
    assert admitted.due == {b: datetime(2026, 3, 11, 1, tzinfo=UTC), c: NOW}


async def test_preferences_default_on_and_are_read_for_a_batch(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    clock = FakeClock(NOW)
    async with sessions.begin() as session:
        a, b = [
            (await customers.join(session, TelegramProfile(600 + n, f"Q{n}"), Config(), clock.now())).id
            for n in range(2)
        ]
        assert await preferences.of_customer(session, a) == {
            "offers": True,
            "surveys": True,
            "birthday": True,
        }
        await preferences.choose(session, a, preferences.OFFERS, False, NOW)
        await preferences.choose(session, a, preferences.OFFERS, False, NOW)  # twice: the same
        await preferences.choose(session, b, preferences.SURVEYS, False, NOW)
    async with sessions.begin() as session:
        assert (await preferences.of_customer(session, a))["offers"] is False
        assert await preferences.opted_out(session, [a, b], preferences.OFFERS) == {a}
        assert await preferences.opted_out(session, [a, b], preferences.SURVEYS) == {b}
        screened = await contact_budget.screen(session, [a, b], preferences.OFFERS, NOW, CONTACT)
        assert screened.opted_out == {a} and set(screened.due) == {b}
        assert screened.skipped() == {"opted_out": 1}
        await preferences.choose(session, a, preferences.OFFERS, True, NOW)
    async with sessions.begin() as session:
        assert await preferences.opted_out(session, [a, b], preferences.OFFERS) == set()
    assert preferences.parse_toggle("pf:offers:off") == ("offers", False)
    assert preferences.parse_toggle("pf:nope:on") is None and preferences.parse_toggle("pf:offers:") is None


async def test_a_message_due_later_is_judged_by_the_window_around_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """A campaign queued for ten days ahead leaves room now and takes it then; a paused row counts;
    the wanted time and the quiet hours decide when it is due (the later of the two)."""
    clock = FakeClock(NOW)
    async with sessions.begin() as session:
        e = (await customers.join(session, TelegramProfile(700, "E"), Config(), clock.now())).id
        session.add_all(
            [
                _row(e, f"campaign:7:{e}", -10, status="queued"),
                _row(e, f"campaign:8:{e}", -11, status="paused"),
            ]
        )
    async with sessions.begin() as session:
        now_ok = await contact_budget.admit(session, {e: "UTC"}, NOW, CONTACT)
        assert now_ok.due == {e: NOW + timedelta(hours=10, minutes=30)}  # quiet until 09:00 UTC
        then = NOW + timedelta(days=10, hours=12)  # 10:30 UTC on the 21st: not quiet
        later = await contact_budget.admit(session, {e: "UTC"}, NOW, CONTACT, at={e: then})
        assert later.over == {e}
        far = NOW + timedelta(days=30)
        assert (await contact_budget.admit(session, {e: "UTC"}, NOW, CONTACT, at={e: far})).due == {
            e: far + timedelta(hours=10, minutes=30)
        }


async def test_resumed_messages_that_came_due_wait_out_their_recipients_quiet_hours(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """Resume at 22:30 UTC: what came due meanwhile goes now in New York (17:30), at 09:00 in Berlin
    and Shanghai; a message due later, and another job's, are left as they were."""
    later = NOW + timedelta(days=1)
    async with sessions.begin() as session:
        people = [
            await customers.join(session, TelegramProfile(700 + n, f"R{n}"), Config(default_timezone=tz), NOW)
            for n, tz in enumerate(["Europe/Berlin", "Asia/Shanghai", "America/New_York", "Europe/Berlin"])
        ]
        jobs = [BulkJob(key=f"j{n}", kind="campaign_send", requested_by=1, language="en") for n in range(2)]
        session.add_all(jobs)
        await session.flush()
        rows = [_row(p.id, f"r{p.id}", 0.5, status="queued") for p in people[:3]]
        rows.append(_row(people[3].id, "due-later", -1, status="queued"))  # due tomorrow
        other = _row(people[0].id, "other-job", 0.5, status="queued")
        for row in rows:
            row.bulk_job_id = jobs[0].id
        other.bulk_job_id = jobs[1].id
        session.add_all([*rows, other])
        await session.flush()
        moved = await contact_budget.after_quiet_hours(session, jobs[0].id, NOW, CONTACT)
        due = {row.dedupe_key: row.not_before for row in await session.scalars(select(OutboxMessage))}
    berlin, shanghai, new_york = (f"r{p.id}" for p in people[:3])
    assert moved == 2
    assert due[berlin] == datetime(2026, 3, 11, 8, tzinfo=UTC) and due[shanghai] == datetime(
        2026, 3, 11, 1, tzinfo=UTC
    )
    assert due[new_york] == NOW - timedelta(days=0.5)  # awake: as it was, so it goes at once
    assert due["due-later"] == later and due["other-job"] == NOW - timedelta(days=0.5)
