"""The first owner, from nothing but a token: while nobody is an owner (OWNER_IDS empty, none recorded),
each start makes a one-time set-up code, printed in the log and stored only as a hash; the first person
who sends it to the bot becomes owner. Wrong codes are audited and limited per person."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import audit, stored_settings
from storage.core.models import AuditEntry
from storage.people.models import StaffMember
from storage.people.staff import Role

SETUP_CODE = "setup_code"
# No 0/O, 1/I/L: read from a log and typed on a phone. 32^10 = 2^50 codes against MAX_ATTEMPTS guesses.
ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
LENGTH = 10
MAX_ATTEMPTS = 5  # wrong codes per person, per code
ACTION = "setup"


def _normal(code: str) -> str:
    return "".join(code.split()).replace("-", "").upper()


def _hash(code: str) -> str:
    return hashlib.sha256(_normal(code).encode()).hexdigest()


async def owner_count(session: AsyncSession) -> int:
    count = await session.scalar(select(func.count()).where(StaffMember.role == Role.OWNER.label))
    return int(count or 0)


async def new_code(session: AsyncSession, now: datetime) -> str | None:
    """A fresh code (replacing an unused one) while there is no owner; None once there is one."""
    if await owner_count(session):
        await stored_settings.remove(session, SETUP_CODE)
        return None
    code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    await stored_settings.put(session, SETUP_CODE, _hash(code), now)
    return f"{code[:5]}-{code[5:]}"


async def _wrong_attempts(session: AsyncSession, telegram_id: int, since: datetime) -> int:
    count = await session.scalar(
        select(func.count()).where(
            AuditEntry.actor_id == telegram_id,
            AuditEntry.action == ACTION,
            AuditEntry.outcome == "refused",
            AuditEntry.at >= since,
        )
    )
    return int(count or 0)


async def claim(
    session: AsyncSession, telegram_id: int, name: str, username: str | None, code: str, now: datetime
) -> str:
    """Make the sender owner if `code` is the current set-up code. Returns the outcome, audited:
    "owner" (done), "done" (there is an owner already), "no_code", "too_many" or "wrong"."""
    stored = await stored_settings.get(session, SETUP_CODE)
    if await owner_count(session):
        outcome = "done"
    elif stored is None:
        outcome = "no_code"
    elif await _wrong_attempts(session, telegram_id, stored.updated_at) >= MAX_ATTEMPTS:
        outcome = "too_many"
    elif not secrets.compare_digest(_hash(code), stored.value):
        outcome = "wrong"
    else:
        outcome = "owner"
    if outcome == "owner":
        member = await session.get(StaffMember, telegram_id)
        if member is None:
            session.add(
                StaffMember(
                    telegram_id=telegram_id, role=Role.OWNER.label, name=name[:160], username=username
                )
            )
        else:
            member.role = Role.OWNER.label
        await stored_settings.remove(session, SETUP_CODE)  # one-time
    await audit.record(
        session,
        actor_id=telegram_id,
        chat_id=telegram_id,
        action=ACTION,
        outcome="ok" if outcome == "owner" else "refused",
        detail={} if outcome == "owner" else {"reason": outcome},
        at=now,
    )
    return outcome
