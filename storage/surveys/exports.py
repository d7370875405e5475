"""The surveys export (storage.core.exports): one CSV line per answer, in id order, with its survey
and customer."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import csvfiles
from storage.core.config import Config
from storage.core.exports import Page, local
from storage.surveys.models import Survey, SurveyAnswer, SurveyInvitation

SURVEYS = "surveys"
HEADER = ["id", "survey", "customer_id", "date", "question", "kind", "score", "text", "skipped"]


async def page(session: AsyncSession, after: int, limit: int, personal: bool, config: Config) -> Page:
    rows = (
        await session.execute(
            select(SurveyAnswer, Survey.name, SurveyInvitation.customer_id)
            .join(Survey, Survey.id == SurveyAnswer.survey_id)
            .join(SurveyInvitation, SurveyInvitation.id == SurveyAnswer.invitation_id)
            .where(SurveyAnswer.id > after)
            .order_by(SurveyAnswer.id)
            .limit(limit)
        )
    ).all()
    tz = config.staff_timezone
    lines = [
        csvfiles.line(
            [
                a.id,
                name,
                customer_id,
                local(a.created_at, tz),
                a.question_id,
                a.kind,
                a.score,
                a.text,
                int(a.skipped),
            ]
        )
        for a, name, customer_id in rows
    ]
    return Page(lines, rows[-1][0].id if rows else after)
