"""The customer card staff see: personal data only for roles allowed to see it."""

from __future__ import annotations

from handlers.common import display_name
from handlers.context import AppContext
from storage.care.models import FollowUp
from storage.people.models import Customer
from storage.people.staff import Role, can_see_personal_data


def customer_card(
    context: AppContext, lang: str, customer: Customer, role: Role, history: list[FollowUp] | None = None
) -> str:
    """The card; `history`: recent closed follow-ups with their outcomes (storage.tasks.recent_outcomes)."""
    card = _card(context, lang, customer, role)
    if not history:
        return card
    lines = [context.t(lang, "followups.history_title")] + [
        context.t(
            lang,
            "followups.history_line",
            date=(follow_up.closed_at or follow_up.due_at).date().isoformat(),
            reason=follow_up.reason[:80],
            outcome=(follow_up.outcome or "")[:200],
        )
        for follow_up in history
    ]
    return card + "\n" + "\n".join(lines)


def _card(context: AppContext, lang: str, customer: Customer, role: Role) -> str:
    hidden = context.t(lang, "staff.hidden")
    none = context.t(lang, "staff.none")
    if can_see_personal_data(role):
        if customer.birth_month and customer.birth_day:
            year = f"{customer.birth_year:04d}-" if customer.birth_year else ""
            birthday = f"{year}{customer.birth_month:02d}-{customer.birth_day:02d}"
        else:
            birthday = none
        phone = customer.phone or none
    else:
        birthday = phone = hidden
    return context.t(
        lang,
        "staff.card",
        id=customer.id,
        name=display_name(customer.first_name, customer.last_name),
        username=f"@{customer.username}" if customer.username else none,
        telegram_id=customer.telegram_id,
        language=context.t(lang, f"common.language_{customer.language}"),
        timezone=customer.timezone,
        birthday=birthday,
        phone=phone,
        joined=customer.created_at.date().isoformat(),
        consent=customer.consent_at.strftime("%Y-%m-%d %H:%M UTC"),
    )
