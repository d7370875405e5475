"""The customers export (storage.core.exports): one CSV line per customer, in id order; phone and
birthday only for a role that may see personal data (staff.can_see_personal_data)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.core import csvfiles
from storage.core.config import Config
from storage.core.exports import Page, local
from storage.people.models import Customer

CUSTOMERS = "customers"
HEADER = ["id", "telegram_id", "first_name", "last_name", "username", "language", "joined", "external_id"]
PERSONAL = ["phone", "birthday"]


def header(personal: bool) -> list[str]:
    return HEADER + PERSONAL if personal else HEADER


def _birthday(customer: Customer) -> str:
    return customer.birthday.iso() if customer.birthday else ""


async def page(session: AsyncSession, after: int, limit: int, personal: bool, config: Config) -> Page:
    rows = list(
        await session.scalars(select(Customer).where(Customer.id > after).order_by(Customer.id).limit(limit))
    )
    lines = []
    for c in rows:
        values: list[object] = [
            c.id,
            c.telegram_id,
            c.first_name,
            c.last_name,
            c.username,
            c.language,
            local(c.consent_at, config.staff_timezone),
            c.external_id,
        ]
        if personal:
            values += [c.phone, _birthday(c)]
        lines.append(csvfiles.line(values))
    return Page(lines, rows[-1].id if rows else after)
