"""Answering a survey, and the answers behind /stats surveys: each answer recorded once (unique per
invitation and question), the position moved on, detractors flagged for staff, and the reward paid
once when the survey is complete. The state lives in the invitation row, so a survey half answered
continues after a restart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import feedback
from storage.care.models import FeedbackItem
from storage.core.config import LoyaltyConfig, SurveyConfig
from storage.core.upsert import insert_ignore
from storage.loyalty import ledger
from storage.people.models import Customer
from storage.surveys.definitions import parse_value
from storage.surveys.invitations import SKIP, WRITE, SurveyRefused, get_survey
from storage.surveys.models import Survey, SurveyAnswer, SurveyInvitation
from storage.surveys.stats import Score

MAX_ANSWER = 2000


@dataclass
class SurveyProgress:
    """What an answer did. outcome: next (ask question `invitation.position`), done (completed now),
    already (that question was answered before: nothing changed), write (show the text prompt)."""

    invitation: SurveyInvitation
    survey: Survey
    outcome: str
    reward: int = 0
    # A detractor item created (card to post) or given its comment (card to update) by this answer.
    feedback: FeedbackItem | None = None
    feedback_created: bool = False


async def _load(
    session: AsyncSession, token: str, telegram_id: int, now: datetime
) -> tuple[SurveyInvitation, Survey]:
    invitation = await session.scalar(
        select(SurveyInvitation).where(SurveyInvitation.token == token).with_for_update()
    )
    if invitation is None:
        raise SurveyRefused("button.stale")
    owner = await session.scalar(select(Customer.telegram_id).where(Customer.id == invitation.customer_id))
    if owner != telegram_id:
        raise SurveyRefused("button.not_yours")
    survey = await get_survey(session, invitation.survey_id)
    if invitation.status != "completed" and (survey.status != "active" or invitation.expires_at <= now):
        raise SurveyRefused("surveys.closed")
    return invitation, survey


async def answer(
    session: AsyncSession,
    token: str,
    index: int,
    value: str,
    *,
    telegram_id: int,
    now: datetime,
    config: SurveyConfig,
    loyalty: LoyaltyConfig,
    text: str | None = None,
) -> SurveyProgress:
    """Record the answer to question `index`: a button value, or `text` for a written answer.

    Each question is answered once (unique per invitation and question), so a button pressed twice,
    or a redelivered update, changes nothing the second time, and the reward is paid once.
    """
    invitation, survey = await _load(session, token, telegram_id, now)
    if invitation.status == "completed" or index < invitation.position:
        return SurveyProgress(invitation, survey, "already")
    if index > invitation.position or index >= len(survey.questions):
        raise SurveyRefused("button.stale")
    question = survey.questions[index]
    score: int | None = None
    skipped = False
    if value == WRITE and text is None:
        if question["type"] != "text":
            raise SurveyRefused("surveys.bad_answer")
        return SurveyProgress(invitation, survey, "write")
    if value == SKIP:
        if not question.get("optional"):
            raise SurveyRefused("surveys.bad_answer")
        skipped = True
    elif text is not None:
        if question["type"] != "text" or not text.strip():
            raise SurveyRefused("surveys.bad_answer")
        text = text.strip()[:MAX_ANSWER]
    else:
        score = parse_value(question, value)
        if score is None:
            raise SurveyRefused("surveys.bad_answer")
    inserted = await insert_ignore(
        session,
        SurveyAnswer,
        {
            "invitation_id": invitation.id,
            "survey_id": survey.id,
            "question_id": question["id"],
            "kind": question["type"],
            "score": score,
            "text": text if not skipped else None,
            "skipped": skipped,
            "created_at": now,
        },
        ["invitation_id", "question_id"],
    )
    if not inserted:
        return SurveyProgress(invitation, survey, "already")
    invitation.position = index + 1
    invitation.status = "started"
    invitation.started_at = invitation.started_at or now
    progress = SurveyProgress(invitation, survey, "next")
    customer_id = invitation.customer_id
    if score is not None and feedback.is_detractor(question["type"], score, config):
        progress.feedback, progress.feedback_created = await feedback.flag_detractor(
            session,
            customer_id=customer_id,
            survey_id=survey.id,
            invitation_id=invitation.id,
            score_kind=question["type"],
            score=score,
            now=now,
        )
    elif text and not skipped and (item := await feedback.for_invitation(session, invitation.id)):
        await feedback.add_comment(session, item, text)
        progress.feedback = item
    if invitation.position >= len(survey.questions):
        invitation.status, invitation.completed_at = "completed", now
        progress.outcome = "done"
        if config.reward_points > 0 and await ledger.credit(
            session,
            customer_id=customer_id,
            points=config.reward_points,
            kind="survey",
            reference=f"survey:{survey.id}:{customer_id}",
            now=now,
            config=loyalty,
        ):
            progress.reward = config.reward_points
    await session.flush()
    return progress


# ---- statistics ----


@dataclass(frozen=True)
class StatsData:
    invited: int
    responded: int
    scores: list[Score]


async def stats_data(session: AsyncSession, start: datetime, end: datetime) -> StatsData:
    """Invitations made in [start, end] (end: usually now), how many got at least one answer, and the
    CSAT/NPS scores given in that period."""
    in_period = (SurveyInvitation.created_at >= start) & (SurveyInvitation.created_at <= end)
    invited = await session.scalar(select(func.count()).where(in_period)) or 0
    responded = (
        await session.scalar(select(func.count()).where(in_period, SurveyInvitation.position > 0)) or 0
    )
    rows = await session.execute(
        select(SurveyAnswer.kind, SurveyAnswer.score, SurveyAnswer.created_at).where(
            SurveyAnswer.kind.in_(("csat", "nps")),
            SurveyAnswer.score.is_not(None),
            SurveyAnswer.created_at >= start,
            SurveyAnswer.created_at <= end,
        )
    )
    return StatsData(
        invited, responded, [Score(kind, score, at) for kind, score, at in rows if score is not None]
    )
