"""Surveys: definitions staff manage, invitations (throttled, expiring) and what a question looks like;
answering, the reward and the statistics data are in storage.survey_answers.

Answer buttons carry "sv:<invitation token>:<question index>:<value>" (value: a score or option
index, "s" to skip, "w" to ask for a written answer); the state lives in the invitation row, so a
survey half answered continues after a restart and a stale button gets a clear answer.
"""

from __future__ import annotations

import secrets
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import case, false, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import inputs, localized
from storage.core.config import ContactConfig, SurveyConfig
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore, insert_ignore_many
from storage.people import contact_budget, outbox, preferences
from storage.people.models import Customer
from storage.surveys import definitions
from storage.surveys.definitions import MAX_QUESTIONS, Definition
from storage.surveys.models import Survey, SurveyInvitation

PREFIX = "sv:"
SKIP, WRITE = "s", "w"
MAX_ANSWER = 2000

# A label is text, a catalog key after "@", or a per-language value (storage.core.localized).
Buttons = list[list[tuple[Any, str]]]  # (str | dict[str, str], data): lists are invariant


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
        intros=definition.intros,
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
        "title": localized.value(survey.intro, survey.intros) if survey.intro else survey.name,
        "number": index + 1,
        "total": len(survey.questions),
        "question": definitions.question_text(question),
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
        labels = definitions.option_labels(question)
        rows = [[(label, _data(token, index, i))] for i, label in enumerate(labels)]
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


def _since(now: datetime, config: SurveyConfig) -> datetime:
    return now - timedelta(days=config.throttle_days)


def _invitation_row(
    survey: Survey, customer_id: int, *, dedupe_key: str, source: str, now: datetime, config: SurveyConfig
) -> dict[str, Any]:
    return {
        "token": _new_token(),
        "survey_id": survey.id,
        "customer_id": customer_id,
        "dedupe_key": dedupe_key,
        "source": source,
        "status": "invited",
        "position": 0,
        "created_at": now,
        "expires_at": now + timedelta(days=config.expire_days),
    }


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
    row = _invitation_row(survey, customer.id, dedupe_key=dedupe_key, source=source, now=now, config=config)
    if not await insert_ignore(session, SurveyInvitation, row, ["dedupe_key"]):
        return None
    return await session.scalar(select(SurveyInvitation).where(SurveyInvitation.token == row["token"]))


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
    """Invite one customer through the outbox (invite_many, for one)."""
    outcomes = await invite_many(
        session, survey, {customer.id: dedupe_key}, now, config=config, source=source
    )
    return outcomes.get(customer.id, InviteOutcome.UNREACHABLE)


async def invite_many(
    session: AsyncSession,
    survey: Survey | None,
    keys: Mapping[int, str],
    now: datetime,
    *,
    config: SurveyConfig,
    source: str = "send",
    bulk_job_id: int | None = None,
    due: Mapping[int, datetime] | None = None,
) -> dict[int, InviteOutcome]:
    """Invite customers (id → the invitation's dedupe key) through the outbox, each unless the survey is
    not active, they are unreachable, already invited under that key, or throttled (invited to any
    survey within config.throttle_days; throttled invitations are skipped, not queued). `due`: when
    each message may go (quiet hours), else now. A fixed number
    of statements whatever the number of customers (a batch: hundreds, not tens of thousands): the
    customers locked, the keys taken, the throttle, the invitations and the outbox rows. Customers that
    do not exist (any more) get no outcome."""
    ids = sorted(keys)
    if not ids:
        return {}
    if survey is None or survey.status != "active":
        return dict.fromkeys(ids, InviteOutcome.CLOSED)
    # PostgreSQL: lock the customers (in id order) so the throttle holds against a concurrent invitation
    # of the same customer; SQLite already holds the write lock.
    people = (
        await session.execute(
            select(Customer.id, Customer.telegram_id, Customer.language, Customer.unreachable_at)
            .where(Customer.id.in_(ids))
            .order_by(Customer.id)
            .with_for_update()
        )
    ).all()
    outcomes = {c.id: InviteOutcome.UNREACHABLE for c in people if c.unreachable_at is not None}
    reachable = [c for c in people if c.unreachable_at is None]
    if not reachable:
        return outcomes
    wanted = [keys[c.id] for c in reachable]
    taken = set(
        await session.scalars(
            select(SurveyInvitation.dedupe_key).where(SurveyInvitation.dedupe_key.in_(wanted))
        )
    )
    recent = set(
        await session.scalars(
            select(SurveyInvitation.customer_id)
            .where(
                SurveyInvitation.customer_id.in_([c.id for c in reachable]),
                SurveyInvitation.created_at > _since(now, config),
            )
            .distinct()
        )
    )
    fresh = []
    for customer in reachable:
        if keys[customer.id] in taken:
            outcomes[customer.id] = InviteOutcome.DUPLICATE
        elif customer.id in recent:
            outcomes[customer.id] = InviteOutcome.THROTTLED
        else:
            fresh.append(customer)
    rows = [
        _invitation_row(survey, c.id, dedupe_key=keys[c.id], source=source, now=now, config=config)
        for c in fresh
    ]
    inserted = await insert_ignore_many(
        session,
        SurveyInvitation,
        rows,
        ["dedupe_key"],
        [SurveyInvitation.customer_id, SurveyInvitation.token],
    )
    tokens: dict[int, str] = {customer_id: token for customer_id, token in inserted}
    template, params = question_message(survey, 0)
    messages = []
    for customer in fresh:
        token = tokens.get(customer.id)
        if token is None:  # a concurrent invitation took the key between our read and our insert
            outcomes[customer.id] = InviteOutcome.DUPLICATE
            continue
        outcomes[customer.id] = InviteOutcome.INVITED
        messages.append(
            outbox.Message(
                customer.id,
                customer.telegram_id,
                customer.language,
                dedupe_key=f"survey:{keys[customer.id]}",
                template=template,
                params=params,
                buttons=question_keyboard(token, 0, survey.questions[0]),
                not_before=due.get(customer.id) if due else None,
            )
        )
    await outbox.enqueue_many(session, messages, now=now, bulk_job_id=bulk_job_id)
    return outcomes


PREVIEW_CHUNK = 10_000  # customers per preview query (bound parameters stay under the drivers' limits)


async def preview(
    session: AsyncSession,
    customer_ids: list[int],
    now: datetime,
    config: SurveyConfig,
    contact: ContactConfig | None = None,
) -> Counter[str]:
    """How a send would go: how many would be invited, throttled or skipped as unreachable, and (with
    `contact`) as a sent survey's step leaves them out first: surveys turned off, over the contact
    budget. One counting query per 10,000 customers (each rule an EXISTS or a count inside it)."""
    counts: Counter[str] = Counter()
    recent = (
        select(SurveyInvitation.id)
        .where(SurveyInvitation.customer_id == Customer.id, SurveyInvitation.created_at > _since(now, config))
        .exists()
    )
    unreachable = Customer.unreachable_at.is_not(None)
    opted = preferences.is_opted_out(preferences.SURVEYS) if contact else false()
    over = contact_budget.over_budget(now, contact) if contact else false()
    for start in range(0, len(customer_ids), PREVIEW_CHUNK):
        chunk = customer_ids[start : start + PREVIEW_CHUNK]
        row = (
            await session.execute(
                select(
                    func.count(),
                    func.sum(case((unreachable, 1), else_=0)),
                    func.sum(case((~unreachable & opted, 1), else_=0)),
                    func.sum(case((~unreachable & ~opted & over, 1), else_=0)),
                    func.sum(case((~unreachable & ~opted & ~over & recent, 1), else_=0)),
                ).where(Customer.id.in_(chunk))
            )
        ).one()
        found, gone, off, spent, throttled = (value or 0 for value in row)
        counts[InviteOutcome.UNREACHABLE] += gone
        counts[preferences.OPTED_OUT] += off
        counts[contact_budget.OVER_BUDGET] += spent
        counts[InviteOutcome.THROTTLED] += throttled
        counts[InviteOutcome.INVITED] += found - gone - off - spent - throttled
    return +counts


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
