"""One customer from a one-word reference in commands whose other words are free text (/note, /tag,
/callback): a member code, #id, @username, Telegram id, a phone (roles that may see phones) or a name
that only one customer has. Several by that name: who they are, to be named by code or #id."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from handlers.authority import current_role
from handlers.common import display_name
from handlers.context import AppContext
from storage.people import references
from storage.people.models import Customer
from storage.people.staff import can_see_personal_data


@dataclass(frozen=True)
class Lookup:
    customer: Customer | None
    several: str | None = None  # what to say when the name fits several customers


async def one(session: AsyncSession, context: AppContext, lang: str, reference: str) -> Lookup:
    found = await references.resolve(
        session,
        reference,
        by_phone=can_see_personal_data(current_role(context)),
        region=context.config.default_region,
    )
    if found.one is not None or not found.customers:
        return Lookup(found.one)
    names = ", ".join(
        f"#{c.id} {display_name(c.first_name, c.last_name)} ({c.member_code or '-'})" for c in found.customers
    )
    if found.more:
        names += ", …"
    return Lookup(None, context.t(lang, "loyalty.several_customers", reference=reference, customers=names))
