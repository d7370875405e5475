"""Which kinds of proactive message a customer wants (/profile, and the "Stop offers" button under
every promotional message). Everything is on until the customer turns it off; a row holds a choice.

Senders of a kind ask `opted_out` for a batch (one query) and leave those customers out, counted as
skipped, never queued. A customer without current consent (storage.people.consent: withdrawn, or an
older privacy notice) counts as opted out of every kind, so no sender can forget it. Turning offers off
also withdraws the campaigns already queued for them and not yet sent (a campaign scheduled for their
local morning, storage.campaigns.sendtime)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core.upsert import upsert
from storage.people import consent
from storage.people.models import Customer, MessagePreference, OutboxMessage
from storage.people.outbox import PAUSED, QUEUED, WITHDRAWN

OFFERS, SURVEYS, BIRTHDAY = "offers", "surveys", "birthday"
KINDS = (OFFERS, SURVEYS, BIRTHDAY)
OPTED_OUT = "opted_out"  # the reason a bulk job's step gives for a customer left out

# Buttons: "pf:stop" under every promotional message (offers off), "pf:<kind>:on|off" on /profile. They
# carry no authority: each acts on the preferences of whoever presses it, in their own private chat.
PREFIX = "pf:"
STOP_OFFERS = f"{PREFIX}stop"
STOP_OFFERS_ROW = [("@preferences.stop_offers", STOP_OFFERS)]  # an outbox button row (label: a key)
OFFER_KEYS = "campaign:"  # the outbox rows an offers opt-out withdraws (storage.campaigns.fanout.message_key)


def toggle_data(kind: str, enabled: bool) -> str:
    return f"{PREFIX}{kind}:{'on' if enabled else 'off'}"


def parse_toggle(data: str) -> tuple[str, bool] | None:
    """(kind, enabled) from a /profile toggle's callback data, or None when it is not one."""
    kind, _, state = data.removeprefix(PREFIX).partition(":")
    if not data.startswith(PREFIX) or kind not in KINDS or state not in ("on", "off"):
        return None
    return kind, state == "on"


async def of_customer(session: AsyncSession, customer_id: int) -> dict[str, bool]:
    """Every kind with the customer's choice (on unless turned off)."""
    rows = await session.execute(
        select(MessagePreference.kind, MessagePreference.enabled).where(
            MessagePreference.customer_id == customer_id
        )
    )
    chosen = dict(rows.all())
    return {kind: chosen.get(kind, True) for kind in KINDS}


async def choose(session: AsyncSession, customer_id: int, kind: str, enabled: bool, now: datetime) -> None:
    """Record a choice (idempotent: the same choice twice changes nothing a customer can see)."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    await upsert(
        session,
        MessagePreference,
        {"customer_id": customer_id, "kind": kind, "enabled": enabled, "updated_at": now},
        ["customer_id", "kind"],
        ["enabled", "updated_at"],
    )
    if kind == OFFERS and not enabled:
        await session.execute(
            update(OutboxMessage)
            .where(
                OutboxMessage.customer_id == customer_id,
                OutboxMessage.status.in_((QUEUED, PAUSED)),
                OutboxMessage.dedupe_key.startswith(OFFER_KEYS, autoescape=True),
            )
            .values(status="skipped", error=WITHDRAWN)
        )


async def opted_out(session: AsyncSession, customer_ids: Collection[int], kind: str) -> set[int]:
    """Those of `customer_ids` who turned `kind` off: one query for a batch."""
    if not customer_ids:
        return set()
    return set(
        await session.scalars(
            select(Customer.id).where(Customer.id.in_(list(customer_ids)), is_opted_out(kind))
        )
    )


async def turned_off(session: AsyncSession, customer_ids: Collection[int]) -> dict[int, tuple[str, ...]]:
    """The kinds each of `customer_ids` turned off (staff cards): one query for them all."""
    if not customer_ids:
        return {}
    rows = await session.execute(
        select(MessagePreference.customer_id, MessagePreference.kind)
        .where(MessagePreference.customer_id.in_(list(customer_ids)), MessagePreference.enabled.is_(False))
        .order_by(MessagePreference.customer_id, MessagePreference.kind)
    )
    off: dict[int, list[str]] = {}
    for customer_id, kind in rows.all():
        off.setdefault(customer_id, []).append(kind)
    return {customer_id: tuple(kinds) for customer_id, kinds in off.items()}


def is_opted_out(kind: str) -> ColumnElement[bool]:
    """The customer (Customer in the enclosing query) turned `kind` off, or has no current consent."""
    turned_off = (
        select(MessagePreference.customer_id)
        .where(
            MessagePreference.customer_id == Customer.id,
            MessagePreference.kind == kind,
            MessagePreference.enabled.is_(False),
        )
        .exists()
    )
    return or_(turned_off, consent.lacks_current())
