"""What staff write about a customer (/note): kept whole, shown newest first on the card and in the
customer's notes list; removed by the author or an admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import CustomerNote
from storage.core import inputs
from storage.core.refusals import Refused

NOTE_MAX = 1000  # characters: a card shows several beside everything else, within one message
ON_CARD = 3  # the newest notes a customer card shows
LIST_MAX = 20  # the newest notes `/note <customer>` lists


class NoteRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


@dataclass(frozen=True)
class Note:
    id: int
    customer_id: int
    staff_id: int
    text: str
    created_at: datetime


def _note(row: CustomerNote) -> Note:
    return Note(row.id, row.customer_id, row.staff_id, row.text, row.created_at)


async def add(session: AsyncSession, customer_id: int, staff_id: int, text: str, now: datetime) -> Note:
    """Keep a note; refused when it is empty or longer than NOTE_MAX (never cut: staff rewrite it)."""
    text = inputs.bounded_text(text.strip(), NOTE_MAX)
    if not text:
        raise NoteRefused("notes.empty")
    row = CustomerNote(customer_id=customer_id, staff_id=staff_id, text=text, created_at=now)
    session.add(row)
    await session.flush()
    return _note(row)


async def remove(session: AsyncSession, note_id: int, staff_id: int, *, any_author: bool) -> Note:
    """Remove a note: the author's own, or anyone's when `any_author` (admins)."""
    row = await session.get(CustomerNote, note_id)
    if row is None:
        raise NoteRefused("notes.unknown", id=note_id)
    if row.staff_id != staff_id and not any_author:
        raise NoteRefused("notes.not_yours", id=note_id)
    note = _note(row)
    await session.execute(delete(CustomerNote).where(CustomerNote.id == note_id))
    return note


async def latest(session: AsyncSession, customer_id: int, limit: int = LIST_MAX) -> tuple[list[Note], int]:
    """A customer's newest notes and how many they have in all."""
    rows = await session.scalars(
        select(CustomerNote)
        .where(CustomerNote.customer_id == customer_id)
        .order_by(CustomerNote.id.desc())
        .limit(limit)
    )
    total = await session.scalar(select(func.count()).where(CustomerNote.customer_id == customer_id))
    return [_note(r) for r in rows], int(total or 0)


async def on_cards(session: AsyncSession, customer_ids: Sequence[int]) -> dict[int, tuple[Note, ...]]:
    """The newest ON_CARD notes of each customer, for many cards in one query."""
    if not customer_ids:
        return {}
    ranked = (
        select(
            CustomerNote,
            func.row_number()
            .over(partition_by=CustomerNote.customer_id, order_by=CustomerNote.id.desc())
            .label("rank"),
        )
        .where(CustomerNote.customer_id.in_(customer_ids))
        .subquery()
    )
    rows = await session.execute(
        select(ranked.c.id, ranked.c.customer_id, ranked.c.staff_id, ranked.c.text, ranked.c.created_at)
        .where(ranked.c.rank <= ON_CARD)
        .order_by(ranked.c.customer_id, ranked.c.rank)
    )
    found: dict[int, list[Note]] = {}
    for row in rows:
        found.setdefault(row.customer_id, []).append(Note(*row))
    return {customer_id: tuple(notes) for customer_id, notes in found.items()}
