"""The customer card staff see (/find): the profile and the latest follow-up outcomes. Care owns it
because the history is care's follow-ups; the profile comes from storage.people.customers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care import notes, tags
from storage.care.models import FollowUp
from storage.care.notes import Note
from storage.people import consent, customers, preferences
from storage.people.customers import SEARCH_LIMIT
from storage.people.models import Customer

HISTORY = 3  # closed follow-ups a card shows


@dataclass(frozen=True)
class Outcome:
    """A closed follow-up: when, why, and how it went."""

    on: date
    reason: str
    outcome: str | None


@dataclass(frozen=True)
class CustomerCard:
    id: int
    telegram_id: int
    first_name: str
    last_name: str | None
    username: str | None
    language: str
    timezone: str
    birth_year: int | None
    birth_month: int | None
    birth_day: int | None
    phone: str | None
    created_at: datetime
    consent_at: datetime
    history: tuple[Outcome, ...]
    tags: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()
    member_code: str | None = None
    turned_off: tuple[str, ...] = ()  # kinds of message the customer turned off (storage.people.preferences)
    consent: str = consent.CURRENT  # storage.people.consent.state: otherwise no proactive message at all
    consent_withdrawn_at: datetime | None = None


async def search(
    session: AsyncSession,
    query: str,
    *,
    by_phone: bool = False,
    limit: int = SEARCH_LIMIT,
    region: str | None = None,
) -> list[CustomerCard]:
    """The cards of the customers customers.search finds; the histories, tags, notes and turned-off
    messages of all of them in one query each."""
    found = await customers.search(session, query, by_phone=by_phone, limit=limit, region=region)
    ids = [c.id for c in found]
    history = await _histories(session, ids)
    tagged, noted = await tags.of(session, ids), await notes.on_cards(session, ids)
    off = await preferences.turned_off(session, ids)
    return [
        replace(
            _card(c, history.get(c.id, ())),
            tags=tagged.get(c.id, ()),
            notes=noted.get(c.id, ()),
            turned_off=off.get(c.id, ()),
        )
        for c in found
    ]


async def _histories(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, tuple[Outcome, ...]]:
    """Each customer's latest HISTORY closed follow-ups (followups.recent_outcomes for many at once)."""
    if not customer_ids:
        return {}
    latest = (FollowUp.closed_at.desc(), FollowUp.id.desc())
    ranked = (
        select(
            FollowUp.customer_id,
            FollowUp.closed_at,
            FollowUp.due_at,
            FollowUp.reason,
            FollowUp.outcome,
            func.row_number().over(partition_by=FollowUp.customer_id, order_by=latest).label("rank"),
        )
        .where(FollowUp.customer_id.in_(customer_ids), FollowUp.status == "done")
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.customer_id, ranked.c.closed_at, ranked.c.due_at, ranked.c.reason, ranked.c.outcome)
        .where(ranked.c.rank <= HISTORY)
        .order_by(ranked.c.customer_id, ranked.c.rank)
    )
    history: dict[int, list[Outcome]] = {}
    for customer_id, closed_at, due_at, reason, outcome in rows:
        history.setdefault(customer_id, []).append(Outcome((closed_at or due_at).date(), reason, outcome))
    return {customer_id: tuple(outcomes) for customer_id, outcomes in history.items()}


def _card(customer: Customer, history: tuple[Outcome, ...]) -> CustomerCard:
    return CustomerCard(
        id=customer.id,
        telegram_id=customer.telegram_id,
        first_name=customer.first_name,
        last_name=customer.last_name,
        username=customer.username,
        language=customer.language,
        timezone=customer.timezone,
        birth_year=customer.birthday.year if customer.birthday else None,
        birth_month=customer.birthday.month if customer.birthday else None,
        birth_day=customer.birthday.day if customer.birthday else None,
        phone=customer.phone,
        created_at=customer.created_at,
        consent_at=customer.consent_at,
        history=history,
        member_code=customer.member_code,
        consent=consent.state(customer),
        consent_withdrawn_at=customer.consent_withdrawn_at,
    )
