"""Surveys: definitions staff manage, invitations (throttled, expiring) and what a question looks like;
answering, the reward and the statistics data are in storage.survey_answers.

Answer buttons carry "sv:<invitation token>:<question index>:<value>" (value: a score or option
index, "s" to skip, "w" to ask for a written answer); the state lives in the invitation row, so a
survey half answered continues after a restart and a stale button gets a clear answer.
"""

from __future__ import annotations

import secrets
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import inputs
from storage.core.config import SurveyConfig
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore
from storage.people import outbox
from storage.people.models import Customer
from storage.surveys.definitions import MAX_QUESTIONS, Definition
from storage.surveys.models import Survey, SurveyInvitation

PREFIX = "sv:"
SKIP, WRITE = "s", "w"
MAX_ANSWER = 2000

Buttons = list[list[tuple[str, str]]]


class SurveyRefused(Refused):
    """`code` names the localized reason (button.stale, button.not_yours, surveys.closed, ...)."""


class InviteOutcome(StrEnum):
    INVITED = "invited"
    THROTTLED = "throttled"
    DUPLICATE = "duplicate"
    UNREACHABLE = "unreachable"
    CLOSED = "closed"


# ---- definitions (staff) ----


async def create(session: AsyncSession, definition: Definition, *, created_by: int, now: datetime) -> Survey:
    if await by_name(session, definition.name) is not None:
        raise SurveyRefused("surveys.name_taken", name=definition.name)
    survey = Survey(
        name=definition.name,
        kind=definition.kind,
        intro=definition.intro,
        questions=definition.questions,
        status="draft",
        general=False,
        created_by=created_by,
        created_at=now,
        updated_at=now,
    )
    session.add(survey)
    await session.flush()
    return survey


async def by_name(session: AsyncSession, name: str) -> Survey | None:
    return await session.scalar(select(Survey).where(Survey.name == name.strip().lower()))


async def _named(session: AsyncSession, name: str) -> Survey:
    survey = await by_name(session, name)
    if survey is None:
        raise SurveyRefused("surveys.unknown", name=name)
    return survey


async def activate(session: AsyncSession, name: str, now: datetime) -> Survey:
    survey = await _named(session, name)
    survey.status, survey.activated_at, survey.closed_at = "active", now, None
    await session.flush()
    return survey


async def close(session: AsyncSession, name: str, now: datetime) -> Survey:
    """Closed: its buttons answer "this survey has closed"; answers already given stay."""
    survey = await _named(session, name)
    survey.status, survey.closed_at, survey.general = "closed", now, False
    await session.flush()
    return survey


async def make_general(session: AsyncSession, name: str) -> Survey:
    """The survey customers open with /survey (one at a time; it must be active)."""
    survey = await _named(session, name)
    if survey.status != "active":
        raise SurveyRefused("surveys.not_active", name=survey.name)
    for other in await session.scalars(select(Survey).where(Survey.general.is_(True))):
        other.general = False
    survey.general = True
    await session.flush()
    return survey


@dataclass(frozen=True)
class Listed:
    survey: Survey
    invited: int
    completed: int


async def list_surveys(session: AsyncSession) -> list[Listed]:
    counts = {
        survey_id: (invited, completed or 0)
        for survey_id, invited, completed in await session.execute(
            select(
                SurveyInvitation.survey_id,
                func.count(),
                func.sum(case((SurveyInvitation.status == "completed", 1), else_=0)),
            ).group_by(SurveyInvitation.survey_id)
        )
    }
    surveys = await session.scalars(select(Survey).order_by(Survey.id))
    return [Listed(s, *counts.get(s.id, (0, 0))) for s in surveys]


async def general_survey(session: AsyncSession) -> Survey | None:
    """The general survey; without one marked, the most recently activated active survey."""
    active = select(Survey).where(Survey.status == "active")
    marked = await session.scalar(active.where(Survey.general.is_(True)))
    return marked or await session.scalar(active.order_by(Survey.activated_at.desc(), Survey.id.desc()))


async def purchase_survey(session: AsyncSession, config: SurveyConfig) -> Survey | None:
    """The survey a purchase triggers (for the scheduled job): configured by name, else the latest CSAT."""
    if config.purchase_survey:
        survey = await by_name(session, config.purchase_survey)
        return survey if survey is not None and survey.status == "active" else None
    return await session.scalar(
        select(Survey)
        .where(Survey.status == "active", Survey.kind == "csat")
        .order_by(Survey.activated_at.desc(), Survey.id.desc())
    )


# ---- what a question looks like (template keys + params; rendered in the customer's language) ----


def question_message(survey: Survey, index: int) -> tuple[str, dict[str, Any]]:
    question = survey.questions[index]
    if question["text"] is None:  # built-in wording
        key = {"csat": "surveys.csat_question", "nps": "surveys.nps_question"}.get(
            question["type"], "surveys.comment_question"
        )
        return key, {}
    return "surveys.custom_question", {
        "title": survey.intro or survey.name,
        "number": index + 1,
        "total": len(survey.questions),
        "question": question["text"],
    }


def _data(token: str, index: int, value: object) -> str:
    return f"{PREFIX}{token}:{index}:{value}"


def question_keyboard(token: str, index: int, question: dict[str, Any]) -> Buttons:
    """Rows of (label, callback_data); a label starting with "@" is a catalog key."""
    qtype = question["type"]
    rows: Buttons
    if qtype == "csat":  # stars, the best on top
        rows = [[("⭐" * n, _data(token, index, n))] for n in range(question["max"], question["min"] - 1, -1)]
    elif qtype in ("nps", "rating"):
        values = list(range(question["min"], question["max"] + 1))
        width = 6 if len(values) > 6 else len(values)
        rows = [
            [(str(v), _data(token, index, v)) for v in values[start : start + width]]
            for start in range(0, len(values), width)
        ]
    elif qtype == "choice":
        rows = [[(option, _data(token, index, i))] for i, option in enumerate(question["options"])]
    else:
        rows = [[("@surveys.write_button", _data(token, index, WRITE))]]
    if question.get("optional"):
        rows.append([("@surveys.skip_button", _data(token, index, SKIP))])
    return rows


def parse_data(data: str) -> tuple[str, int, str] | None:
    """(token, question index, value) from callback_data, or None when malformed."""
    parts = data.removeprefix(PREFIX).split(":") if data.startswith(PREFIX) else []
    index = inputs.int_or_none(parts[1], low=0, high=MAX_QUESTIONS) if len(parts) == 3 else None
    if index is None:
        return None
    return parts[0], index, parts[2]


# ---- invitations ----


def _new_token() -> str:
    return secrets.token_urlsafe(6)


async def _lock_customer(session: AsyncSession, customer_id: int) -> None:
    """PostgreSQL: serialize invitations per customer so the throttle holds under concurrency (SQLite
    already holds the write lock)."""
    await session.execute(select(Customer.id).where(Customer.id == customer_id).with_for_update())


async def throttled(session: AsyncSession, customer_id: int, now: datetime, config: SurveyConfig) -> bool:
    """Invited to any survey inside the window."""
    since = now - timedelta(days=config.throttle_days)
    found = await session.scalar(
        select(SurveyInvitation.id)
        .where(SurveyInvitation.customer_id == customer_id, SurveyInvitation.created_at > since)
        .limit(1)
    )
    return found is not None


async def _insert_invitation(
    session: AsyncSession,
    survey: Survey,
    customer: Customer,
    *,
    dedupe_key: str,
    source: str,
    now: datetime,
    config: SurveyConfig,
) -> SurveyInvitation | None:
    token = _new_token()
    inserted = await insert_ignore(
        session,
        SurveyInvitation,
        {
            "token": token,
            "survey_id": survey.id,
            "customer_id": customer.id,
            "dedupe_key": dedupe_key,
            "source": source,
            "status": "invited",
            "position": 0,
            "created_at": now,
            "expires_at": now + timedelta(days=config.expire_days),
        },
        ["dedupe_key"],
    )
    if not inserted:
        return None
    return await session.scalar(select(SurveyInvitation).where(SurveyInvitation.token == token))


async def invite(
    session: AsyncSession,
    survey: Survey,
    customer: Customer,
    now: datetime,
    dedupe_key: str,
    *,
    config: SurveyConfig,
    source: str = "send",
) -> InviteOutcome:
    """Invite one customer through the outbox, unless throttled (invited to any survey within
    config.throttle_days), already invited under this dedupe_key, unreachable, or the survey is not
    active. Throttled invitations are skipped, not queued: the caller counts them."""
    if survey.status != "active":
        return InviteOutcome.CLOSED
    if customer.unreachable_at is not None:
        return InviteOutcome.UNREACHABLE
    await _lock_customer(session, customer.id)
    if await session.scalar(select(SurveyInvitation.id).where(SurveyInvitation.dedupe_key == dedupe_key)):
        return InviteOutcome.DUPLICATE
    if await throttled(session, customer.id, now, config):
        return InviteOutcome.THROTTLED
    invitation = await _insert_invitation(
        session, survey, customer, dedupe_key=dedupe_key, source=source, now=now, config=config
    )
    if invitation is None:
        return InviteOutcome.DUPLICATE
    template, params = question_message(survey, 0)
    await outbox.enqueue_for_customer(
        session,
        customer,
        dedupe_key=f"survey:{dedupe_key}",
        template=template,
        params=params,
        now=now,
        buttons=question_keyboard(invitation.token, 0, survey.questions[0]),
    )
    return InviteOutcome.INVITED


async def preview(
    session: AsyncSession, customer_ids: list[int], now: datetime, config: SurveyConfig
) -> Counter[str]:
    """How a send would go: how many would be invited, throttled or skipped as unreachable."""
    counts: Counter[str] = Counter()
    for customer in await _customers(session, customer_ids):
        if customer.unreachable_at is not None:
            counts[InviteOutcome.UNREACHABLE] += 1
        elif await throttled(session, customer.id, now, config):
            counts[InviteOutcome.THROTTLED] += 1
        else:
            counts[InviteOutcome.INVITED] += 1
    return counts


async def _customers(session: AsyncSession, ids: list[int]) -> list[Customer]:
    rows: list[Customer] = []
    for start in range(0, len(ids), 500):
        rows.extend(await session.scalars(select(Customer).where(Customer.id.in_(ids[start : start + 500]))))
    return sorted(rows, key=lambda c: c.id)


async def send(
    session: AsyncSession,
    survey: Survey,
    customer_ids: list[int],
    *,
    campaign: str,
    now: datetime,
    config: SurveyConfig,
) -> Counter[str]:
    """Invite an audience; the campaign key makes pressing Confirm twice invite nobody twice."""
    counts: Counter[str] = Counter()
    for customer in await _customers(session, customer_ids):
        outcome = await invite(
            session, survey, customer, now, f"send:{campaign}:{customer.id}", config=config
        )
        counts[outcome] += 1
    return counts


async def open_for_customer(
    session: AsyncSession, customer: Customer, now: datetime, config: SurveyConfig
) -> tuple[SurveyInvitation, Survey]:
    """/survey: the general survey, continuing an unfinished invitation to it if there is one."""
    survey = await general_survey(session)
    if survey is None:
        raise SurveyRefused("surveys.none_open")
    latest = await session.scalar(
        select(SurveyInvitation)
        .where(SurveyInvitation.survey_id == survey.id, SurveyInvitation.customer_id == customer.id)
        .order_by(SurveyInvitation.id.desc())
    )
    if latest is not None and latest.status == "completed":
        raise SurveyRefused("surveys.already_answered")
    if latest is not None and latest.expires_at > now:
        return latest, survey
    token = _new_token()
    invitation = await _insert_invitation(
        session, survey, customer, dedupe_key=f"self:{token}", source="self", now=now, config=config
    )
    assert invitation is not None
    return invitation, survey


async def set_message(
    session: AsyncSession, invitation: SurveyInvitation, chat_id: int, message_id: int
) -> None:
    invitation.chat_id, invitation.message_id = chat_id, message_id
    await session.flush()


async def message_sent(session: AsyncSession, invitation_id: int, chat_id: int, message_id: int) -> None:
    """The message now showing an invitation, by id: the short transaction after it was sent."""
    await session.execute(
        update(SurveyInvitation)
        .where(SurveyInvitation.id == invitation_id)
        .values(chat_id=chat_id, message_id=message_id)
    )


async def get_survey(session: AsyncSession, survey_id: int) -> Survey:
    survey = await session.get(Survey, survey_id)
    assert survey is not None
    return survey
