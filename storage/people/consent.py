"""Consent: which version of the privacy notice a customer accepted, and whether they withdrew it.

The notice's text is a catalog entry (onboarding.privacy); NOTICE_VERSION names the text in force, and
tests/bot/test_privacy_notice.py fails when the text changes without a new version. A customer whose
consent is not current (an older version, or withdrawn) gets no proactive, non-transactional message:
every sender of one already leaves out who turned its kind off (storage.people.preferences), and
`lacks_current` is part of that check, so no sender can forget it. Transactional messages (vouchers,
points notices, replies) still reach them.

Asked again: when such a message would have gone to a customer whose consent is merely out of date,
they get the new notice with an Accept button instead (`ask_again`, once per version). A customer who
withdrew is never asked: they said no; /privacy and /start let them accept again. Withdrawing keeps
their points and vouchers (the loyalty membership they joined for); erasure is /privacy's Delete."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import audit
from storage.people import outbox
from storage.people.models import Customer

NOTICE_VERSION = "2"  # bump with every change of the notice's text (the test says so)
ASK_TEMPLATE = "consent.ask_again"  # "the notice changed" (bot/locales/*/consent.toml)
# Buttons (handlers.customer.onboarding): show the current notice, then accept it. Neither carries
# authority: each acts on whoever presses it, in their own private chat.
REVIEW, RENEW = "consent:review", "consent:renew"
ASK_BUTTONS = [[("@consent.review", REVIEW)]]
CURRENT, OUTDATED, WITHDRAWN = "current", "outdated", "withdrawn"


def ask_key(customer_id: int) -> str:
    """Once per customer and notice version, whatever sends triggered it."""
    return f"consent:{NOTICE_VERSION}:{customer_id}"


def state(customer: Customer) -> str:
    """CURRENT, OUTDATED (an earlier notice) or WITHDRAWN."""
    if customer.consent_withdrawn_at is not None:
        return WITHDRAWN
    return CURRENT if customer.consent_version == NOTICE_VERSION else OUTDATED


def is_current(customer: Customer) -> bool:
    return state(customer) == CURRENT


def lacks_current() -> ColumnElement[bool]:
    """The customer (Customer, in the enclosing query) may get no non-transactional message."""
    return or_(
        Customer.consent_withdrawn_at.is_not(None),
        Customer.consent_version.is_(None),
        Customer.consent_version != NOTICE_VERSION,
    )


async def accept(session: AsyncSession, customer: Customer, now: datetime) -> bool:
    """The current notice accepted (again), audited; False when it already was (a double press)."""
    if is_current(customer):
        return False
    customer.consent_version, customer.consent_at, customer.consent_withdrawn_at = NOTICE_VERSION, now, None
    await _audited(session, customer, "consent accept", now)
    return True


async def withdraw(session: AsyncSession, customer: Customer, now: datetime) -> bool:
    """Consent withdrawn, audited; False when it already was."""
    if customer.consent_withdrawn_at is not None:
        return False
    customer.consent_withdrawn_at = now
    await _audited(session, customer, "consent withdraw", now)
    return True


async def _audited(session: AsyncSession, customer: Customer, action: str, now: datetime) -> None:
    detail = {"version": NOTICE_VERSION}
    await audit.record(
        session, actor_id=customer.telegram_id, action=action, target=str(customer.id), detail=detail, at=now
    )
    await session.flush()


async def ask_again(session: AsyncSession, customer_ids: Collection[int], now: datetime) -> int:
    """Queue the current notice to those of `customer_ids` whose consent is out of date, not withdrawn:
    one query and one insert for a batch (a customer asked before is left alone); returns how many
    are waiting for the new notice."""
    if not customer_ids:
        return 0
    rows = await session.execute(
        select(Customer.id, Customer.telegram_id, Customer.language).where(
            Customer.id.in_(list(customer_ids)),
            Customer.consent_withdrawn_at.is_(None),
            Customer.erased_at.is_(None),
            Customer.unreachable_at.is_(None),
            lacks_current(),
        )
    )
    messages = [
        outbox.Message(
            customer_id,
            telegram_id,
            language,
            dedupe_key=ask_key(customer_id),
            template=ASK_TEMPLATE,
            buttons=ASK_BUTTONS,
        )
        for customer_id, telegram_id, language in rows.all()
    ]
    await outbox.enqueue_many(session, messages, now=now)
    return len(messages)
