"""Campaigns that repeat: a drafted campaign made a **welcome** offer (sent to each customer `delay_hours`
after they joined, once) or a **yearly** one (sent to its audience on a date each year: a Gregorian day
or a lunar one, storage.campaigns.holidays). Nothing goes out until an admin activates it; stop ends it.

Welcome: the tick decides customers in join order after a cursor (ix_customers_consent_at), in batches;
each decision is a campaign_members row (insert-if-absent) and the message the fan-out's (its text, the
offer's button and "Stop offers", the same dedupe key), so a batch done twice after a crash sends
nothing twice. It is promotional: opt-out, the hold-out, the contact budget and quiet hours all apply
as for a one-off send (a customer over budget when their welcome comes is skipped and counted, never
queued later). Only customers whose welcome time comes after the activation get it: activating a
welcome offer does not write to everyone who joined before.

Yearly: at a local hour on the date in each customer's own time zone (`yearly <date> at 10:00`, else
the draft's own `at` hour, else config.recurring.holiday_hour when the send is made). The tick makes
that year's send the UTC day before the date (at least 10 hours before the date begins anywhere, at
UTC+14): a campaign of its own named "<name>-<year>" (its own members, claims and report) with the
send time `at <date> HH:MM`, and its bulk job, so it fans out exactly like a confirmed one-off send and
each recipient's message waits in the outbox for their hour (storage.campaigns.sendtime). A send made
late (the bot was down) still reaches those whose date is not over, at once if their hour has passed;
once the date is over everywhere (UTC-12) it is not made at all."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import fanout, holdout, holidays, sendtime
from storage.campaigns.drafts import CampaignRefused, by_name, text_for
from storage.campaigns.models import Campaign, CampaignMember, CampaignOccurrence, CampaignSchedule
from storage.core import inputs
from storage.core.claims import skip_locked
from storage.core.config import Config
from storage.core.upsert import insert_ignore_many
from storage.people import contact_budget, outbox, preferences
from storage.people.models import Customer

WELCOME, YEARLY = "welcome", "yearly"
DELAY_MAX = 24 * 90  # hours
ACTIVE, STOPPED = "active", "stopped"  # a recurring campaign's status once activated
# A yearly send is made this long before its date begins anywhere (UTC+14): the UTC day before.
LEAD = timedelta(hours=10)


@dataclass(frozen=True)
class Rule:
    kind: str
    delay_hours: int | None = None
    holiday: holidays.Holiday | None = None
    minute: int | None = None  # yearly: the local time of day (None: the draft's, else the setting)


def parse(text: str) -> Rule:
    """ "welcome 24h" (or "welcome 24") or "yearly <date> [at HH:MM]" (holidays.parse, a time of day
    without a date); CampaignRefused (or HolidayRefused, SendTimeRefused) otherwise."""
    head, _, rest = text.strip().partition(" ")
    head, rest = head.lower(), rest.strip()
    if head == WELCOME:
        hours = inputs.int_or_none(rest.lower().removesuffix("h"), low=0, high=DELAY_MAX)
        if hours is None:
            raise CampaignRefused("recurring.bad_welcome", max=DELAY_MAX)
        return Rule(WELCOME, delay_hours=hours)
    if head == YEARLY and rest:
        day, at, clock = rest.lower().rpartition(" at ")
        if not at:
            return Rule(YEARLY, holiday=holidays.parse(rest))
        send = sendtime.parse(clock)
        if send.day is not None:  # the date is the rule's, each year
            raise CampaignRefused("recurring.bad_yearly_time")
        return Rule(YEARLY, holiday=holidays.parse(day), minute=send.minute)
    raise CampaignRefused("recurring.repeat_usage")


def yearly_minute(schedule: CampaignSchedule, config: Config) -> int:
    """A yearly campaign's local time of day, minutes after midnight."""
    if schedule.send_minute is not None:
        return schedule.send_minute
    return config.recurring.holiday_hour * 60


async def schedule_of(session: AsyncSession, campaign_id: int) -> CampaignSchedule | None:
    return await session.get(CampaignSchedule, campaign_id)


async def schedules(session: AsyncSession, campaign_ids: list[int]) -> dict[int, CampaignSchedule]:
    if not campaign_ids:
        return {}
    rows = await session.scalars(
        select(CampaignSchedule).where(CampaignSchedule.campaign_id.in_(campaign_ids))
    )
    return {row.campaign_id: row for row in rows}


async def repeat(session: AsyncSession, campaign: Campaign, rule: Rule) -> CampaignSchedule:
    """Make a draft recurring (or change the rule of one not active). A welcome offer goes to everyone
    who joins: its audience must be "all"."""
    if campaign.status not in ("draft", STOPPED):
        raise CampaignRefused("recurring.repeat_not_draft", name=campaign.name)
    if rule.kind == WELCOME and campaign.audience.strip().lower() != "all":
        raise CampaignRefused("recurring.welcome_audience", name=campaign.name)
    schedule = await schedule_of(session, campaign.id)
    if schedule is None:
        schedule = CampaignSchedule(campaign_id=campaign.id, kind=rule.kind, active=False)
        session.add(schedule)
    elif schedule.kind != rule.kind:
        raise CampaignRefused("recurring.repeat_kind", name=campaign.name)
    schedule.delay_hours = rule.delay_hours
    schedule.holiday = rule.holiday.spec if rule.holiday else None
    # Yearly: the rule's hour, else the one the draft was written with (`| at 09:00`), else the setting.
    schedule.send_minute = (
        (rule.minute if rule.minute is not None else campaign.send_minute) if rule.kind == YEARLY else None
    )
    await session.flush()
    return schedule


async def activate(session: AsyncSession, campaign: Campaign, *, by: int, now: datetime) -> CampaignSchedule:
    schedule = await schedule_of(session, campaign.id)
    if schedule is None:
        raise CampaignRefused("recurring.not_recurring", name=campaign.name)
    if schedule.active:
        raise CampaignRefused("recurring.already_active", name=campaign.name)
    schedule.active, schedule.activated_by, schedule.activated_at, schedule.stopped_at = True, by, now, None
    if schedule.kind == WELCOME:
        # From those whose welcome time is now on; never back over anyone decided before a stop.
        start = now - timedelta(hours=schedule.delay_hours or 0)
        if schedule.cursor_at is None or schedule.cursor_at < start:
            schedule.cursor_at, schedule.cursor_id = start, 0
        campaign.sent_at = campaign.sent_at or now  # the report's window
    campaign.status, campaign.updated_at = ACTIVE, now
    await session.flush()
    return schedule


async def stop(session: AsyncSession, campaign: Campaign, *, now: datetime) -> CampaignSchedule:
    """Nothing more goes out (a yearly send already fanning out is stopped with its own Stop)."""
    schedule = await schedule_of(session, campaign.id)
    if schedule is None or not schedule.active:
        raise CampaignRefused("recurring.not_active", name=campaign.name)
    schedule.active, schedule.stopped_at = False, now
    campaign.status, campaign.updated_at = STOPPED, now
    await session.flush()
    return schedule


def next_date(schedule: CampaignSchedule, today: date) -> tuple[date, holidays.Holiday] | None:
    """A yearly campaign's next date on or after `today`, with what it is."""
    if schedule.kind != YEARLY or not schedule.holiday:
        return None
    holiday = holidays.parse(schedule.holiday)
    return holiday.next_on_or_after(today), holiday


# --- The welcome tick -------------------------------------------------------------------------------


async def decide(
    session: AsyncSession, campaign: Campaign, customer_ids: list[int], now: datetime, config: Config
) -> Counter[str]:
    """What the fan-out decides, for these customers (reachable, opted out, over budget, held out, sent),
    recorded insert-if-absent with the fan-out's message (storage.campaigns.fanout), outside any job.
    Customers decided before (a batch done again after a crash) are left as they were."""
    if customer_ids:
        decided = set(
            await session.scalars(
                select(CampaignMember.customer_id).where(
                    CampaignMember.campaign_id == campaign.id, CampaignMember.customer_id.in_(customer_ids)
                )
            )
        )
        customer_ids = [cid for cid in customer_ids if cid not in decided]
    if not customer_ids:
        return Counter()
    people = {
        row.id: row
        for row in await session.execute(
            select(Customer.id, Customer.telegram_id, Customer.language, Customer.unreachable_at).where(
                Customer.id.in_(customer_ids)
            )
        )
    }
    outcome = {cid: fanout.UNREACHABLE for cid, row in people.items() if row.unreachable_at is not None}
    reachable = [cid for cid in people if cid not in outcome]
    screened = await contact_budget.screen(session, reachable, preferences.OFFERS, now, config.contact)
    outcome.update(dict.fromkeys(screened.opted_out, fanout.OPTED_OUT))
    outcome.update(dict.fromkeys(screened.over, fanout.OVER_BUDGET))
    messages = []
    for cid, due in screened.due.items():
        if holdout.held_out(campaign.id, cid, campaign.holdout_percent):
            outcome[cid] = fanout.HELD_OUT
            continue
        outcome[cid] = fanout.SENT
        person = people[cid]
        messages.append(
            outbox.Message(
                cid,
                person.telegram_id,
                person.language,
                dedupe_key=fanout.message_key(campaign.id, cid),
                template=fanout.TEMPLATE,
                params={"html_text": text_for(campaign, person.language)},
                buttons=fanout.buttons(campaign),
                not_before=due,
            )
        )
    await insert_ignore_many(
        session,
        CampaignMember,
        [
            {"campaign_id": campaign.id, "customer_id": cid, "outcome": decided, "created_at": now}
            for cid, decided in outcome.items()
        ],
        ["campaign_id", "customer_id"],
    )
    await outbox.enqueue_many(session, messages, now=now)
    return Counter(outcome.values())


def due(
    after_at: datetime, after_id: int, until: datetime, limit: int
) -> Select[int, datetime, datetime | None]:
    """Customers who joined after (after_at, after_id) and by `until`, in join order: a range of
    ix_customers_consent_at, however many customers joined before."""
    return (
        select(Customer.id, Customer.consent_at, Customer.erased_at)
        .where(
            Customer.consent_at <= until,
            tuple_(Customer.consent_at, Customer.id) > tuple_(after_at, after_id),
        )
        .order_by(Customer.consent_at, Customer.id)
        .limit(limit)
    )


async def welcome_batch(
    session: AsyncSession, now: datetime, config: Config, limit: int
) -> tuple[int, Counter[str]]:
    """One batch of every active welcome offer: the next `limit` customers (join order) whose welcome
    time has come. Returns (most customers read for one offer, outcomes). PostgreSQL: the schedule's
    row is locked (SKIP LOCKED), so a second instance leaves that offer to the first."""
    found = await session.scalars(
        skip_locked(
            select(CampaignSchedule).where(
                CampaignSchedule.kind == WELCOME, CampaignSchedule.active.is_(True)
            )
        )
    )
    read, counts = 0, Counter[str]()
    for schedule in list(found):
        campaign = await session.get(Campaign, schedule.campaign_id)
        if campaign is None or schedule.cursor_at is None:
            continue
        until = now - timedelta(hours=schedule.delay_hours or 0)
        rows = (await session.execute(due(schedule.cursor_at, schedule.cursor_id or 0, until, limit))).all()
        if not rows:
            continue
        read = max(read, len(rows))
        counts += await decide(session, campaign, [r.id for r in rows if r.erased_at is None], now, config)
        schedule.cursor_at, schedule.cursor_id = rows[-1].consent_at, rows[-1].id
    await session.flush()
    return read, counts


# --- The yearly tick --------------------------------------------------------------------------------


def occurrence_name(name: str, day: date) -> str:
    return f"{name[:27]}-{day.year}"


def opens(day: date) -> datetime:
    """When a yearly send on `day` is made: LEAD before the day begins anywhere (00:00 UTC the day
    before), so every recipient's message is queued before their local hour, even at UTC+14."""
    return sendtime.begins(day) - LEAD


def due_date(holiday: holidays.Holiday, now: datetime) -> date | None:
    """The date whose send is to be made at `now`: opened, and not over everywhere yet."""
    day = holiday.next_on_or_after((now - timedelta(days=2)).date())
    if sendtime.ends(day) <= now:
        day = holiday.next_on_or_after(day + timedelta(days=1))
    return day if opens(day) <= now else None


async def start_yearly(
    session: AsyncSession, now: datetime, config: Config
) -> list[tuple[Campaign, holidays.Holiday]]:
    """The yearly sends whose time has come (due_date), each made once: a copy of the campaign sent
    `at <date> HH:MM` in each customer's zone, and its bulk job. A date over everywhere before the send
    was made (the bot was down all along) is not sent late."""
    found = await session.scalars(
        skip_locked(
            select(CampaignSchedule).where(CampaignSchedule.kind == YEARLY, CampaignSchedule.active.is_(True))
        )
    )
    started = []
    for schedule in list(found):
        if not schedule.holiday:
            continue
        holiday = holidays.parse(schedule.holiday)
        day = due_date(holiday, now)
        if day is None:
            continue
        if await session.get(CampaignOccurrence, (schedule.campaign_id, day)) is not None:
            continue
        parent = await session.get(Campaign, schedule.campaign_id)
        if parent is None:
            continue
        name = occurrence_name(parent.name, day)
        if await by_name(session, name) is not None:  # a campaign of that name was drafted by hand
            name = f"{parent.name[:16]}-{day.year}-r{parent.id}"
        minute = yearly_minute(schedule, config)
        child = Campaign(
            name=name,
            texts=dict(parent.texts),
            audience=parent.audience,
            reward_id=parent.reward_id,
            holdout_percent=parent.holdout_percent,
            photo=parent.photo,
            send_date=day,
            send_minute=minute,
            status="draft",
            created_by=schedule.activated_by,
            created_at=now,
            updated_at=now,
        )
        session.add(child)
        await session.flush()
        session.add(
            CampaignOccurrence(
                schedule_id=schedule.campaign_id, on_date=day, campaign_id=child.id, created_at=now
            )
        )
        await fanout.start(
            session,
            child,
            requested_by=schedule.activated_by or 0,
            language=config.default_language,
            now=now,
            total=None,
            chat_id=None,
            message_id=None,
        )
        if config.staff_chat_id is not None:  # staff hear of it; /campaign report <name> follows it
            await outbox.enqueue(
                session,
                dedupe_key=f"campaign-yearly:{child.id}",
                chat_id=config.staff_chat_id,
                template="recurring.yearly_started",
                language=config.default_language,
                params={
                    "name": child.name,
                    "date": day.isoformat(),
                    "time": sendtime.SendTime(None, minute).clock,
                    "audience": child.audience,
                },
                now=now,
            )
        started.append((child, holiday))
    await session.flush()
    return started
