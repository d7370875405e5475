"""/campaign repeat|activate|stop in the staff group (admins and owners, as every /campaign): make a
draft a welcome offer or a yearly campaign (storage.campaigns.recurring), start it, stop it; and the
"next: <date> at <local time>" note /campaign list shows for a yearly one. Replies are made after the
unit of work."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from telegram import Message

from handlers.context import AppContext, Texts
from storage.campaigns import drafts, recurring, sendtime
from storage.campaigns.holidays import Holiday
from storage.campaigns.models import CampaignSchedule
from storage.core import audit
from storage.core.config import Config
from storage.core.refusals import Refused


def _lang(context: AppContext) -> str:
    return context.config.default_language


def _user(message: Message) -> int:
    return message.from_user.id if message.from_user else 0


def holiday_label(texts: Texts, lang: str, holiday: Holiday) -> str:
    """ "Spring Festival", or the date as written ("lunar 8-16", "12-25")."""
    festival = holiday.festival
    return texts(lang, f"recurring.festival_{festival.replace('-', '_')}") if festival else holiday.spec


def rule_text(texts: Texts, lang: str, schedule: CampaignSchedule, today: date, config: Config) -> str:
    """What the schedule does, and for a yearly one its next date and local time."""
    if schedule.kind == recurring.WELCOME:
        return texts(lang, "recurring.rule_welcome", hours=schedule.delay_hours or 0)
    upcoming = recurring.next_date(schedule, today)
    if upcoming is None:
        return ""
    day, holiday = upcoming
    return texts(
        lang,
        "recurring.rule_yearly",
        next=day,
        holiday=holiday_label(texts, lang, holiday),
        time=sendtime.SendTime(None, recurring.yearly_minute(schedule, config)).clock,
    )


def _today(context: AppContext) -> date:
    return context.now().astimezone(ZoneInfo(context.config.staff_timezone)).date()


async def repeat(context: AppContext, message: Message, rest: str) -> None:
    """/campaign repeat <name> welcome <hours>h | yearly <date> [at HH:MM]"""
    lang = _lang(context)
    name, _, rule_words = rest.strip().partition(" ")
    try:
        rule = recurring.parse(rule_words)
        async with context.unit_of_work() as session:
            campaign = await drafts.named(session, name)
            schedule = await recurring.repeat(session, campaign, rule)
            await audit.record(
                session,
                actor_id=_user(message),
                chat_id=message.chat_id,
                action="campaign repeat",
                target=campaign.name,
                detail={
                    "kind": schedule.kind,
                    "hours": schedule.delay_hours,
                    "holiday": schedule.holiday,
                    "minute": schedule.send_minute,
                },
            )
            text = context.t(
                lang,
                "recurring.repeated",
                name=campaign.name,
                rule=rule_text(context.t, lang, schedule, _today(context), context.config),
            )
    except Refused as refused:  # rolled back (or never begun): nothing stored
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(text)


async def activate(context: AppContext, message: Message, name: str) -> None:
    """/campaign activate <name>: from now on it goes out by its rule."""
    await _switch(context, message, name, on=True)


async def stop(context: AppContext, message: Message, name: str) -> None:
    """/campaign stop <name>: nothing more goes out."""
    await _switch(context, message, name, on=False)


async def _switch(context: AppContext, message: Message, name: str, *, on: bool) -> None:
    lang = _lang(context)
    now = context.now()
    try:
        async with context.unit_of_work() as session:
            campaign = await drafts.named(session, name)
            if on:
                schedule = await recurring.activate(session, campaign, by=_user(message), now=now)
            else:
                schedule = await recurring.stop(session, campaign, now=now)
            await audit.record(
                session,
                actor_id=_user(message),
                chat_id=message.chat_id,
                action="campaign activate" if on else "campaign stop",
                target=campaign.name,
                detail={"kind": schedule.kind},
            )
            rule = rule_text(context.t, lang, schedule, _today(context), context.config)
            key = "recurring.activated" if on else "recurring.stopped"
            text = context.t(lang, key, name=campaign.name, rule=rule)
    except Refused as refused:
        await message.reply_text(context.t(lang, refused.code, **refused.params))
        return
    await message.reply_text(text)


async def notes(context: AppContext, campaign_ids: list[int]) -> dict[int, str]:
    """The rule (and next date and local time) of each recurring campaign among these, for /campaign
    list."""
    lang = _lang(context)
    today = _today(context)
    async with context.read_only() as session:
        found = await recurring.schedules(session, campaign_ids)
    return {
        cid: rule_text(context.t, lang, schedule, today, context.config) for cid, schedule in found.items()
    }
