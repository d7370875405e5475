"""Recurring campaigns in storage: yearly dates (Gregorian and lunar, checked against published dates);
the welcome offer's due query (only those whose time has come since activation, each once, also when a
batch is done twice); each year's send made once, the UTC day before its date, at the local hour in
each customer's zone (UTC+14 to UTC-11), and when made late still to those whose date is not over; the
weekly staff summary keyed once per ISO week."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage import background
from storage.campaigns import drafts, holidays, recurring
from storage.campaigns.drafts import CampaignRefused
from storage.campaigns.models import Campaign, CampaignMember, CampaignOccurrence, CampaignSchedule
from storage.care import staff_summary
from storage.core import bulk
from storage.core.config import BulkConfig, Config, ContactConfig, RecurringConfig
from storage.core.models import BulkJob
from storage.core.refusals import Refused
from storage.people import customers, preferences
from storage.people.customers import TelegramProfile
from storage.people.models import Customer, OutboxMessage

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
CONFIG = Config(
    bulk=BulkConfig(batch=4),
    contact=ContactConfig(budget=2, days=7, quiet_start=0, quiet_end=0, holdout_percent=0),
    staff_chat_id=-100,
    staff_timezone="Asia/Shanghai",
    recurring=RecurringConfig(holiday_hour=10, staff_summary_weekday=1, staff_summary_hour=9),
)


# Published dates (Hong Kong Observatory's and the PRC State Council's holiday calendars).
@pytest.mark.parametrize(
    ("spec", "year", "expected"),
    [
        ("spring-festival", 2026, date(2026, 2, 17)),
        ("spring-festival", 2027, date(2027, 2, 6)),
        ("spring-festival", 2028, date(2028, 1, 26)),
        ("mid-autumn", 2026, date(2026, 9, 25)),
        ("mid-autumn", 2027, date(2027, 9, 15)),
        ("mid-autumn", 2028, date(2028, 10, 3)),
        ("dragon-boat", 2026, date(2026, 6, 19)),
        ("lantern", 2027, date(2027, 2, 20)),
        ("lunar 12-30", 2027, date(2028, 1, 25)),  # a 29-day twelfth month: its last day, New Year's Eve
        ("12-25", 2027, date(2027, 12, 25)),
        ("2-29", 2027, None),
    ],
)
def test_yearly_dates(spec: str, year: int, expected: date | None) -> None:
    assert holidays.parse(spec).in_year(year) == expected


def test_the_next_date_and_bad_dates() -> None:
    spring = holidays.parse("Spring-Festival")
    assert spring.spec == "lunar 1-1" and spring.festival == "spring-festival"
    assert spring.next_on_or_after(date(2026, 2, 18)) == date(2027, 2, 6)
    assert spring.next_on_or_after(date(2027, 2, 6)) == date(2027, 2, 6)
    assert holidays.parse("2-29").next_on_or_after(date(2026, 3, 1)) == date(2028, 2, 29)
    assert holidays.parse("lunar 8-16").festival is None
    for bad in ("13-1", "2-30", "lunar 13-1", "lunar 1-31", "easter", "12/25", "x" * 40):
        with pytest.raises(Refused) as refused:
            holidays.parse(bad)
        assert refused.value.code == "recurring.bad_yearly"
    assert recurring.parse("welcome 24h").delay_hours == 24
    with pytest.raises(CampaignRefused):
        recurring.parse("welcome soon")
    with pytest.raises(CampaignRefused):
        recurring.parse("monthly 3")


async def _join(sessions: async_sessionmaker[AsyncSession], n: int, at: datetime) -> int:
    async with sessions.begin() as session:
        return (await customers.join(session, TelegramProfile(900 + n, f"W{n}"), CONFIG, at)).id


async def _draft(session: AsyncSession, line: str) -> Campaign:
    return await drafts.create(session, drafts.parse(line), created_by=1, now=NOW, holdout_percent=0)


async def _welcome(sessions: async_sessionmaker[AsyncSession], now: datetime) -> int:
    total = 0
    while True:
        async with sessions.begin() as session:
            read, counts = await recurring.welcome_batch(session, now, CONFIG, CONFIG.bulk.batch)
        total += counts["sent"]
        if read < CONFIG.bulk.batch:
            return total


async def test_the_welcome_offer_goes_to_each_customer_once_when_their_time_comes(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    before = await _join(sessions, 0, NOW - timedelta(hours=30))  # welcome time before activation
    async with sessions.begin() as session:
        campaign = await _draft(session, "hello | all | Welcome!")
        with pytest.raises(CampaignRefused):  # a tier's welcome is refused: it goes to everyone
            await recurring.repeat(
                session, await _draft(session, "hi2 | tier Gold | Hi"), recurring.parse("welcome 1")
            )
        await recurring.repeat(session, campaign, recurring.parse("welcome 24h"))
    assert await _welcome(sessions, NOW + timedelta(days=3)) == 0  # not active: nothing
    async with sessions.begin() as session:
        campaign = await drafts.named(session, "hello")
        await recurring.activate(session, campaign, by=1, now=NOW)
        with pytest.raises(CampaignRefused):
            await recurring.activate(session, campaign, by=1, now=NOW)
    joined = [await _join(sessions, n, NOW + timedelta(hours=n)) for n in range(1, 11)]
    async with sessions.begin() as session:
        await preferences.choose(session, joined[0], preferences.OFFERS, False, NOW)
    # At NOW + 30 h: those who joined up to NOW + 6 h are due (joined[0..5]); joined[0] opted out.
    assert await _welcome(sessions, NOW + timedelta(hours=30)) == 5
    assert await _welcome(sessions, NOW + timedelta(hours=30)) == 0
    async with sessions.begin() as session:
        decided = dict(
            (await session.execute(select(CampaignMember.customer_id, CampaignMember.outcome))).all()
        )
        assert before not in decided
        assert decided == {joined[0]: "opted_out", **dict.fromkeys(joined[1:6], "sent")}
        # The cursor lost (a crash before it was saved): the same customers are read again, nothing twice.
        await session.execute(update(CampaignSchedule).values(cursor_at=NOW - timedelta(days=1), cursor_id=0))
    assert await _welcome(sessions, NOW + timedelta(hours=40)) == 4  # joined[6..9]; the rest not again
    async with sessions.begin() as session:
        keys = list(await session.scalars(select(OutboxMessage.dedupe_key).order_by(OutboxMessage.id)))
        assert sorted(keys) == sorted(f"campaign:{campaign.id}:{cid}" for cid in joined[1:])
        rows = await session.scalars(select(OutboxMessage).where(OutboxMessage.customer_id == joined[1]))
        message = rows.one()
        assert message.params == {"html_text": "Welcome!"}
        assert message.buttons == [[["@preferences.stop_offers", "pf:stop"]]]
        campaign = await drafts.named(session, "hello")
        await recurring.stop(session, campaign, now=NOW + timedelta(hours=41))
    late = await _join(sessions, 50, NOW + timedelta(hours=20))  # consent later recorded, but stopped
    assert await _welcome(sessions, NOW + timedelta(days=5)) == 0
    async with sessions.begin() as session:
        assert await session.scalar(select(func.count()).where(CampaignMember.customer_id == late)) == 0


async def test_the_welcome_query_reads_the_consent_index(
    sessions: async_sessionmaker[AsyncSession], db_kind: str
) -> None:
    """The due query walks ix_customers_consent_at after the cursor, not the customers table."""
    if db_kind != "sqlite":
        pytest.skip("the plan is read on SQLite; PostgreSQL's depends on its statistics")
    query = recurring.due(NOW - timedelta(days=1), 0, NOW, 5)
    async with sessions.begin() as session:
        connection = await session.connection()
        compiled = query.compile(dialect=connection.dialect)
        params = tuple(compiled.params[name] for name in compiled.positiontup or ())
        plan = await connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}", params)
        detail = " ".join(str(row[-1]) for row in plan.all())
    assert "ix_customers_consent_at" in detail, detail


def test_a_yearly_rule_with_a_local_time() -> None:
    rule = recurring.parse("yearly Spring-Festival at 9:30")
    assert rule.holiday is not None and rule.holiday.spec == "lunar 1-1" and rule.minute == 9 * 60 + 30
    assert recurring.parse("yearly 12-25").minute is None
    for bad, code in (
        ("yearly 12-25 at 25:00", "campaigns.bad_send_time"),
        ("yearly 12-25 at 2027-12-25 10:00", "recurring.bad_yearly_time"),
        ("yearly easter at 10:00", "recurring.bad_yearly"),
        ("yearly at 10:00", "recurring.bad_yearly"),
    ):
        with pytest.raises(Refused) as refused:
            recurring.parse(bad)
        assert refused.value.code == code, bad


async def test_a_yearly_rule_takes_the_drafts_own_hour_else_the_setting(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    async with sessions.begin() as session:
        early = await _draft(session, "early | all | Morning | at 09:00")
        plain = await _draft(session, "plain | all | Hello")
        ruled = await recurring.repeat(session, early, recurring.parse("yearly 12-25"))
        assert recurring.yearly_minute(ruled, CONFIG) == 9 * 60
        ruled = await recurring.repeat(session, plain, recurring.parse("yearly 12-25"))
        assert ruled.send_minute is None and recurring.yearly_minute(ruled, CONFIG) == 10 * 60
        ruled = await recurring.repeat(session, plain, recurring.parse("yearly 12-25 at 8:15"))
        assert recurring.yearly_minute(ruled, CONFIG) == 8 * 60 + 15


SPRING = date(2027, 2, 6)


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (datetime(2027, 2, 4, 23, 59, tzinfo=UTC), None),  # two days before (UTC): not yet
        # 00:00 UTC the day before: 10 hours before the 6th begins at UTC+14 (Kiritimati).
        (datetime(2027, 2, 5, 0, 0, tzinfo=UTC), SPRING),
        (datetime(2027, 2, 6, 20, 0, tzinfo=UTC), SPRING),  # over in Shanghai, not in New York
        (datetime(2027, 2, 7, 11, 59, tzinfo=UTC), SPRING),  # still the 6th at UTC-12
        (datetime(2027, 2, 7, 12, 0, tzinfo=UTC), None),  # over everywhere: never sent late
        (datetime(2028, 1, 25, 0, 0, tzinfo=UTC), date(2028, 1, 26)),
    ],
)
def test_when_a_yearly_send_is_made(now: datetime, expected: date | None) -> None:
    assert recurring.due_date(holidays.parse("spring-festival"), now) == expected


async def _zoned(sessions: async_sessionmaker[AsyncSession], n: int, zone: str) -> int:
    cid = await _join(sessions, n, NOW)
    async with sessions.begin() as session:
        await session.execute(update(Customer).where(Customer.id == cid).values(timezone=zone))
    return cid


async def _fan_out(sessions: async_sessionmaker[AsyncSession], now: datetime) -> dict[int, datetime]:
    """Every batch of the yearly send's job; each customer's outbox row, when it is due."""
    while True:
        async with sessions.begin() as session:
            _, job = await background.run_batch(session, now, CONFIG, limit=CONFIG.bulk.batch)
        if job is None or job.state == bulk.DONE:
            break
    async with sessions.begin() as session:
        rows = await session.execute(
            select(OutboxMessage.customer_id, OutboxMessage.not_before).where(
                OutboxMessage.customer_id.is_not(None)
            )
        )
        return {cid: at for cid, at in rows.all()}


async def test_a_yearly_campaign_is_made_once_a_day_ahead_each_year_at_the_local_hour(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    kiritimati = await _zoned(sessions, 1, "Pacific/Kiritimati")  # UTC+14
    shanghai = await _zoned(sessions, 2, "Asia/Shanghai")
    pago = await _zoned(sessions, 3, "Pacific/Pago_Pago")  # UTC-11
    async with sessions.begin() as session:
        campaign = await _draft(session, "newyear | all | Happy new year!")
        await recurring.repeat(session, campaign, recurring.parse("yearly spring-festival at 00:30"))
        await recurring.activate(session, campaign, by=7, now=NOW)
        schedule = await recurring.schedule_of(session, campaign.id)
        assert schedule is not None and schedule.send_minute == 30
        assert recurring.next_date(schedule, date(2026, 3, 10))[0] == SPRING
    async with sessions.begin() as session:
        assert await recurring.start_yearly(session, datetime(2027, 2, 4, 23, 0, tzinfo=UTC), CONFIG) == []
    made = datetime(2027, 2, 5, 0, 5, tzinfo=UTC)
    for _ in range(2):  # a second tick (or instance) starts nothing more
        async with sessions.begin() as session:
            await recurring.start_yearly(session, made, CONFIG)
    async with sessions.begin() as session:
        occurrences = list(await session.scalars(select(CampaignOccurrence)))
        assert [(o.on_date, o.schedule_id) for o in occurrences] == [(SPRING, campaign.id)]
        child = await session.get(Campaign, occurrences[0].campaign_id)
        assert child is not None and child.name == "newyear-2027" and child.status == "sending"
        assert (child.texts, child.send_date, child.send_minute) == ({"en": "Happy new year!"}, SPRING, 30)
        assert await session.scalar(select(func.count()).select_from(BulkJob)) == 1
        staff = list(await session.scalars(select(OutboxMessage).where(OutboxMessage.chat_id == -100)))
        assert [(m.template, m.params["time"]) for m in staff] == [("recurring.yearly_started", "00:30")]
    # 00:30 on the 6th in each zone, the earliest of them (Kiritimati) ten and a half hours ahead.
    assert await _fan_out(sessions, made) == {
        kiritimati: datetime(2027, 2, 5, 10, 30, tzinfo=UTC),
        shanghai: datetime(2027, 2, 5, 16, 30, tzinfo=UTC),
        pago: datetime(2027, 2, 6, 11, 30, tzinfo=UTC),
    }
    next_year = datetime(2028, 1, 25, 3, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        started = await recurring.start_yearly(session, next_year, CONFIG)
        assert [c.name for c, _ in started] == ["newyear-2028"]


async def test_a_yearly_send_made_late_reaches_those_whose_date_is_not_over(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    """The bot was down until 20:00 UTC on the date: Shanghai's day is over (too late), New York's
    10:00 has passed (at once), Pago Pago's is to come; the setting's hour (10) without an `at`."""
    shanghai = await _zoned(sessions, 1, "Asia/Shanghai")
    new_york = await _zoned(sessions, 2, "America/New_York")
    pago = await _zoned(sessions, 3, "Pacific/Pago_Pago")
    async with sessions.begin() as session:
        campaign = await _draft(session, "newyear | all | Happy new year!")
        await recurring.repeat(session, campaign, recurring.parse("yearly spring-festival"))
        await recurring.activate(session, campaign, by=7, now=NOW)
    late = datetime(2027, 2, 6, 20, 0, tzinfo=UTC)
    async with sessions.begin() as session:
        ((child, _),) = await recurring.start_yearly(session, late, CONFIG)
        assert child.send_minute == 600
    assert await _fan_out(sessions, late) == {new_york: late, pago: datetime(2027, 2, 6, 21, 0, tzinfo=UTC)}
    async with sessions.begin() as session:
        outcome = await session.scalar(
            select(CampaignMember.outcome).where(CampaignMember.customer_id == shanghai)
        )
    assert outcome == "too_late"


@pytest.mark.parametrize(
    ("now", "key"),
    [
        (datetime(2026, 3, 9, 0, 59, tzinfo=UTC), None),  # Monday 08:59 in Shanghai
        (datetime(2026, 3, 9, 1, 0, tzinfo=UTC), "staff-summary:2026-W11"),  # Monday 09:00
        (datetime(2026, 3, 15, 15, 0, tzinfo=UTC), "staff-summary:2026-W11"),  # Sunday 23:00
        (datetime(2026, 3, 15, 16, 0, tzinfo=UTC), None),  # the next Monday 00:00
        (datetime(2027, 1, 4, 2, 0, tzinfo=UTC), "staff-summary:2027-W01"),
    ],
)
def test_the_weekly_key(now: datetime, key: str | None) -> None:
    assert staff_summary.week_key(now, CONFIG) == key


def test_the_weekly_summary_can_be_turned_off() -> None:
    monday = datetime(2026, 3, 9, 3, 0, tzinfo=UTC)
    off = Config(staff_chat_id=-100, recurring=RecurringConfig(staff_summary_weekday=None))
    assert staff_summary.week_key(monday, off) is None
    assert staff_summary.week_key(monday, Config()) is None  # no staff group


async def test_the_weekly_summary_is_queued_once(sessions: async_sessionmaker[AsyncSession]) -> None:
    now = datetime(2026, 3, 9, 2, 0, tzinfo=UTC)
    key = staff_summary.week_key(now, CONFIG)
    assert key is not None
    async with sessions.begin() as session:
        assert not await staff_summary.posted(session, key)
        assert await staff_summary.post(session, key, ["<b>one</b>", "two"], now, CONFIG)
    async with sessions.begin() as session:  # a second instance, a restart: nothing more
        assert await staff_summary.posted(session, key)
        assert not await staff_summary.post(session, key, ["<b>again</b>"], now, CONFIG)
        rows = list(await session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))
    assert [(r.dedupe_key, r.params["html_text"], r.chat_id) for r in rows] == [
        (key, "<b>one</b>", -100),
        (f"{key}:1", "two", -100),
    ]
