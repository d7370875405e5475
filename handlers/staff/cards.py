"""The customer card staff see: personal data only for roles allowed to see it."""

from __future__ import annotations

from handlers.common import display_name
from handlers.context import AppContext
from handlers.loyalty_text import local
from storage.care.customer_cards import CustomerCard
from storage.overview import Value
from storage.people import birthdays, consent
from storage.people.staff import Role, can_see_personal_data


def customer_card(context: AppContext, lang: str, customer: CustomerCard, role: Role, value: Value) -> str:
    """The 360° card: the profile, loyalty and spend, the latest purchases and scores, open work, tags,
    the newest notes and recent closed follow-ups with their outcomes."""
    card = _card(context, lang, customer, role) + "\n" + _value(context, lang, value)
    if customer.tags:
        card += "\n" + context.t(lang, "tags.on_card", tags=", ".join(customer.tags))
    staff_zone = context.config.staff_timezone
    if customer.consent == consent.WITHDRAWN and customer.consent_withdrawn_at is not None:
        when = local(customer.consent_withdrawn_at, staff_zone)
        card += "\n" + context.t(lang, "consent.on_card_withdrawn", date=when)
    elif customer.consent == consent.OUTDATED:
        card += "\n" + context.t(lang, "consent.on_card_outdated")
    if customer.turned_off:
        kinds = ", ".join(context.t(lang, f"preferences.kind_{kind}") for kind in customer.turned_off)
        card += "\n" + context.t(lang, "preferences.on_card", kinds=kinds)
    if customer.notes:
        card += "\n" + "\n".join(
            context.t(
                lang, "notes.on_card", id=n.id, date=local(n.created_at, staff_zone), text=_short(n.text)
            )
            for n in customer.notes
        )
    if not customer.history:
        return card
    lines = [context.t(lang, "followups.history_title")] + [
        context.t(
            lang,
            "followups.history_line",
            date=past.on,
            reason=past.reason[:80],
            outcome=(past.outcome or "")[:200],
        )
        for past in customer.history
    ]
    return card + "\n" + "\n".join(lines)


def _value(context: AppContext, lang: str, value: Value) -> str:
    tz = context.config.staff_timezone
    tier = value.tier or context.config.loyalty.tiers[0].name
    lines = [
        context.t(
            lang,
            "overview.loyalty",
            balance=value.balance,
            tier=tier,
            spend=f"{value.spend_12m:.2f}",
            purchases=value.purchases_12m,
        )
    ]
    if value.segment is not None and value.level is not None:
        lines.append(
            context.t(
                lang,
                "overview.insight",
                segment=context.t(lang, f"insight.segment.{value.segment}"),
                level=context.t(lang, f"insight.level.{value.level}"),
                clv=f"{value.clv_12m or 0:.2f}",
                alive=f"{100 * (value.p_alive or 0):.0f}%",
                expected=f"{value.expected_purchases_90d or 0:.1f}",
            )
        )
    if value.last_purchases:
        bought = " · ".join(
            context.t(lang, "overview.purchase_short", date=local(b.at, tz), amount=b.amount)
            for b in value.last_purchases
        )
        lines.append(context.t(lang, "overview.last_purchases", purchases=bought))
    if value.scores:
        scores = " · ".join(
            context.t(lang, "overview.score_short", kind=s.kind.upper(), score=s.score, date=local(s.at, tz))
            for s in value.scores
        )
        lines.append(context.t(lang, "overview.scores", scores=scores))
    if value.open_feedback or value.open_followups:
        lines.append(
            context.t(lang, "overview.open", feedback=value.open_feedback, followups=value.open_followups)
        )
    return "\n".join(lines)


NOTE_ON_CARD = 200  # characters of each note on the card; /note <customer> shows them whole


def _short(text: str) -> str:
    return text if len(text) <= NOTE_ON_CARD else text[: NOTE_ON_CARD - 1] + "…"


def _card(context: AppContext, lang: str, customer: CustomerCard, role: Role) -> str:
    hidden = context.t(lang, "staff.hidden")
    none = context.t(lang, "staff.none")
    if can_see_personal_data(role):
        if customer.birth_month and customer.birth_day:
            birthday: str | birthdays.Birthday = birthdays.Birthday(
                customer.birth_month, customer.birth_day, customer.birth_year
            )
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
        code=customer.member_code or none,
        language=context.t(lang, f"common.language_{customer.language}"),
        timezone=customer.timezone,
        birthday=birthday,
        phone=phone,
        joined=local(customer.created_at, context.config.staff_timezone),
        consent=local(customer.consent_at, context.config.staff_timezone),
    )
