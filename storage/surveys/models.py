"""The tables of the surveys context."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from storage.core.crypto import Encrypted
from storage.core.models import Base, TimestampMixin, utcnow


class Survey(TimestampMixin, Base):
    """A survey definition. `questions` is the validated list from storage.survey_definitions."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # csat | nps | custom
    intro: Mapped[str | None] = mapped_column(Text)
    # The intro in other languages ({"zh": "…"}); a question's are in its dict ("texts", "options_in").
    intros: Mapped[dict[str, str] | None] = mapped_column(JSON)
    questions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft | active | closed
    # The one survey a customer opens with /survey.
    general: Mapped[bool] = mapped_column(default=False)
    created_by: Mapped[int | None] = mapped_column(BigInteger)
    activated_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]


class SurveyInvitation(Base):
    """One survey put to one customer; its position is the question being asked, so a survey half
    answered continues after a restart. `token` is what the answer buttons carry."""

    __tablename__ = "survey_invitations"
    __table_args__ = (Index("ix_survey_invitations_customer_created", "customer_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(16), unique=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey(Survey.id, ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"))
    # Business key: "send:<campaign>:<customer>", "purchase:<id>", "self:<token>".
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    source: Mapped[str] = mapped_column(String(16))  # send | purchase | self
    status: Mapped[str] = mapped_column(String(16), default="invited")  # invited | started | completed
    position: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    # The message the survey lives in (known once sent directly or first answered).
    chat_id: Mapped[int | None] = mapped_column(BigInteger)
    message_id: Mapped[int | None] = mapped_column(BigInteger)


class SurveyAnswer(Base):
    """One answer; unique per invitation and question, so a button pressed twice counts once."""

    __tablename__ = "survey_answers"
    __table_args__ = (UniqueConstraint("invitation_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("survey_invitations.id", ondelete="CASCADE"))
    survey_id: Mapped[int] = mapped_column(ForeignKey(Survey.id, ondelete="CASCADE"), index=True)
    question_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # the question type: csat | nps | rating | choice | text
    score: Mapped[int | None]  # csat, nps, rating; the option index for choice
    text: Mapped[str | None] = mapped_column(Encrypted())  # a free-text answer, encrypted at rest
    skipped: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
