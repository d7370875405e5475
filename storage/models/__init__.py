"""All models, imported here so that Base.metadata knows every table (Alembic reads it)."""

from storage.models.audit import AuditEntry
from storage.models.base import Base, TimestampMixin, UTCDateTime
from storage.models.buttons import Button
from storage.models.conversations import Conversation
from storage.models.customers import Customer
from storage.models.ledger import LedgerEntry, LoyaltyAccount
from storage.models.loyalty import Purchase, Referral, ReferralCode, Reward, Voucher
from storage.models.outbox import OutboxMessage
from storage.models.staff import StaffMember
from storage.models.surveys import FeedbackItem, FeedbackMessage, Survey, SurveyAnswer, SurveyInvitation
from storage.models.tasks import Task

__all__ = [
    "AuditEntry",
    "Base",
    "Button",
    "Conversation",
    "Customer",
    "FeedbackItem",
    "FeedbackMessage",
    "LedgerEntry",
    "LoyaltyAccount",
    "OutboxMessage",
    "Purchase",
    "Referral",
    "ReferralCode",
    "Reward",
    "StaffMember",
    "Survey",
    "SurveyAnswer",
    "SurveyInvitation",
    "Task",
    "TimestampMixin",
    "UTCDateTime",
    "Voucher",
]
