"""Drafting a campaign from one command line: `<name> | <audience> | <text> [| <text in the next
language>] [| offer <reward id or title>] [| holdout <percent>] [| at [YYYY-MM-DD] HH:MM]`. Texts follow
storage.core.config LANGUAGES' order (en, then zh); a language without a text gets the first one.
Everything is checked before anything is stored: the name, the audience (every form
storage.surveys.audiences.parse reads), each text (Telegram HTML that fits a message), the offer (an
active reward of the catalog), the send time (storage.campaigns.sendtime). An image is attached to a
draft afterwards (`attach_image`): then every text must fit a photo's caption."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.campaigns import sendtime
from storage.campaigns.models import Campaign
from storage.campaigns.sendtime import SendTime
from storage.core import inputs, telegram_html
from storage.core.config import LANGUAGES
from storage.core.refusals import Refused
from storage.loyalty.models import Reward
from storage.surveys import audiences

NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,31}")
AUDIENCE_MAX = 500
HOLDOUT_MAX = 90  # percent: most of the audience still gets the message
# A text leaves room in its message for nothing else (the buttons are apart): Telegram's whole limit.
TEXT_MAX = telegram_html.MESSAGE_MAX
LIST_MAX = 50
CAPTION_MAX = 1024  # a photo's caption, after entity parsing (UTF-16 code units)


class CampaignRefused(Refused):
    """`code` names the localized reason (campaigns.usage, campaigns.bad_name, html.*, …)."""


@dataclass(frozen=True)
class Draft:
    name: str
    audience: str
    texts: dict[str, str]
    offer: str | None  # a reward id or title, resolved when stored
    holdout_percent: int | None  # None: the setting
    send: SendTime | None = None  # None: at once


def parse(line: str) -> Draft:
    """A draft from the command's arguments; CampaignRefused with the first problem found."""
    parts = [part.strip() for part in line.split("|")]
    if len(parts) < 3 or not all(parts[:3]):
        raise CampaignRefused("campaigns.usage")
    name = parts[0].lower()
    if not NAME.fullmatch(name):
        raise CampaignRefused("campaigns.bad_name", name=parts[0][:40])
    if len(parts[1]) > AUDIENCE_MAX:
        raise CampaignRefused("common.too_long", length=len(parts[1]), max=AUDIENCE_MAX)
    audiences.parse(parts[1])  # AudienceError (a Refused) says what is wrong with it
    texts: list[str] = []
    offer: str | None = None
    holdout: int | None = None
    send: SendTime | None = None
    for part in parts[2:]:
        head, _, rest = part.partition(" ")
        if head.lower() == "offer" and rest.strip():
            offer = rest.strip()
        elif head.lower() == "holdout":
            holdout = inputs.int_or_none(rest.strip().removesuffix("%"), low=0, high=HOLDOUT_MAX)
            if holdout is None:
                raise CampaignRefused("campaigns.bad_holdout", max=HOLDOUT_MAX)
        elif head.lower() == "at" and rest.strip()[:1].isdigit() and send is None:
            send = sendtime.parse(rest)  # SendTimeRefused says how to write it (a text may say "at last")
        elif part and len(texts) < len(LANGUAGES):
            telegram_html.check(part, TEXT_MAX)  # HtmlRefused says what is wrong with it
            texts.append(part)
        else:
            raise CampaignRefused("campaigns.usage")
    if not texts:
        raise CampaignRefused("campaigns.usage")
    return Draft(name, parts[1], dict(zip(LANGUAGES, texts, strict=False)), offer, holdout, send)


async def find_reward(session: AsyncSession, offer: str) -> Reward | None:
    """An active reward by id ("3", "#3") or by title (case-insensitive)."""
    number = inputs.int_or_none(offer.removeprefix("#"), low=1, high=inputs.MAX_ID)
    if number is not None:
        reward = await session.get(Reward, number)
    else:
        reward = await session.scalar(
            select(Reward).where(func.lower(Reward.title) == offer.lower()).order_by(Reward.id).limit(1)
        )
    return reward if reward is not None and reward.active else None


async def create(
    session: AsyncSession, draft: Draft, *, created_by: int, now: datetime, holdout_percent: int
) -> Campaign:
    if await by_name(session, draft.name) is not None:
        raise CampaignRefused("campaigns.name_taken", name=draft.name)
    if draft.send is not None:
        sendtime.check(draft.send, now)
    reward_id = None
    if draft.offer is not None:
        reward = await find_reward(session, draft.offer)
        if reward is None:
            raise CampaignRefused("campaigns.unknown_offer", offer=draft.offer[:40])
        reward_id = reward.id
    campaign = Campaign(
        name=draft.name,
        texts=draft.texts,
        audience=draft.audience,
        reward_id=reward_id,
        holdout_percent=holdout_percent if draft.holdout_percent is None else draft.holdout_percent,
        status="draft",
        send_date=draft.send.day if draft.send else None,
        send_minute=draft.send.minute if draft.send else None,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(campaign)
    await session.flush()
    return campaign


async def by_name(session: AsyncSession, name: str) -> Campaign | None:
    return await session.scalar(select(Campaign).where(Campaign.name == name.strip().lower()))


async def named(session: AsyncSession, name: str) -> Campaign:
    campaign = await by_name(session, name) if name.strip() else None
    if campaign is None:
        raise CampaignRefused("campaigns.unknown", name=name.strip()[:40])
    return campaign


async def newest(session: AsyncSession, limit: int = LIST_MAX) -> list[Campaign]:
    return list(await session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(limit)))


def text_for(campaign: Campaign, language: str) -> str:
    """The campaign's message in `language`, else in the first language it has."""
    return campaign.texts.get(language) or next(iter(campaign.texts.values()))


async def attach_image(session: AsyncSession, name: str, photo: str | None, now: datetime) -> Campaign:
    """A draft's image (a Telegram file_id), or none (`photo` None). The text goes as the photo's
    caption, so a text longer than a caption is refused (campaigns.caption_too_long) rather than cut or
    sent as a second message: the customer sees one message, with its buttons, as previewed."""
    campaign = await named(session, name)
    if campaign.status != "draft":
        raise CampaignRefused("campaigns.already_sent", name=campaign.name)
    if photo is not None:
        for language, text in campaign.texts.items():
            length = telegram_html.visible_length(text)
            if length > CAPTION_MAX:
                raise CampaignRefused(
                    "campaigns.caption_too_long", language=language, length=length, max=CAPTION_MAX
                )
    campaign.photo, campaign.updated_at = photo, now
    await session.flush()
    return campaign
