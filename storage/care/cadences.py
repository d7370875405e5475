"""Regular care (定期回访): cadence rules that create follow-up tasks by themselves, for the customer's
account manager (/owner) or, when they have none, for the team.

A rule is data (settings, `CADENCES`): "tier:gold:90" (gold customers every 90 days), "new:3" (every
customer once, on day 3 after joining), "level:key:30" or "segment:at_risk:14" (storage.insight's
codes). `cadence_marks` remembers when a rule last made a task for a customer, so a rule
is due again `days` after; new tasks are spread over `spread_days` days by customer, so switching a
rule on never lands a month of calls on one morning. The `cadences` tick runs hourly, in batches of a
fixed number of statements; the tasks' source_ref (rule, customer, day) makes a repeated batch add
nothing."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.care.models import CadenceMark, FollowUp
from storage.core.config import Cadence, Config
from storage.core.refusals import Refused
from storage.core.upsert import insert_ignore_many
from storage.insight import names
from storage.insight.models import CustomerScore
from storage.loyalty.models import LoyaltyAccount
from storage.people.models import Customer

RULE = re.compile(r"(?:(tier|level|segment):([\w-]{1,32}):|(new):)([0-9]{1,4})")
NEW_WINDOW = timedelta(days=7)  # "new:3" reaches customers who joined 3-10 days ago, not everyone before


class CadenceRefused(Refused):
    """`code` names the localized reason; `params` fill it."""


def parse_rules(text: str) -> tuple[Cadence, ...]:
    """The rules of the CADENCES setting ("tier:gold:90, new:3"); ValueError names a bad one."""
    rules = []
    for part in (p.strip().lower() for p in text.split(",")):
        if not part:
            continue
        match = RULE.fullmatch(part)
        if match is None or not 1 <= int(match[4]) <= 3650:
            raise ValueError(part)
        kind, value = match[1] or match[3], match[2] or ""
        if kind in ("level", "segment"):  # a code or a name staff know, stored as the code
            value = (names.find_level if kind == "level" else names.find_segment)(value) or ""
            if not value:
                raise ValueError(part)
        rules.append(Cadence(kind, value, int(match[4])))
    return tuple(rules)


def describe(rule: Cadence) -> str:
    if rule.kind == "new":
        return f"regular care: day {rule.days} after joining"
    return f"regular care: {rule.kind} {rule.value}, every {rule.days} days"


async def _due(
    session: AsyncSession, rule: Cadence, now: datetime, limit: int
) -> list[tuple[int, int | None]]:
    """(customer id, account manager) of the customers the rule is due for, in id order."""
    mark = and_(CadenceMark.customer_id == Customer.id, CadenceMark.rule == rule.name)
    query = (
        select(Customer.id, Customer.account_manager_id)
        .outerjoin(CadenceMark, mark)
        .where(Customer.erased_at.is_(None))
    )
    if rule.kind == "new":
        joined_by = now - timedelta(days=rule.days)
        query = query.where(
            Customer.created_at <= joined_by,
            Customer.created_at > joined_by - NEW_WINDOW,
            CadenceMark.rule.is_(None),
        )
    else:
        query = query.where(
            or_(CadenceMark.last_at.is_(None), CadenceMark.last_at <= now - timedelta(days=rule.days))
        )
    if rule.kind == "tier":
        query = query.join(LoyaltyAccount, LoyaltyAccount.customer_id == Customer.id).where(
            func.lower(LoyaltyAccount.tier) == rule.value
        )
    elif rule.kind in ("level", "segment"):
        column = CustomerScore.level if rule.kind == "level" else CustomerScore.segment
        query = query.join(CustomerScore, CustomerScore.customer_id == Customer.id).where(
            column == rule.value
        )
    return [
        (cid, manager) for cid, manager in await session.execute(query.order_by(Customer.id).limit(limit))
    ]


async def run(session: AsyncSession, now: datetime, config: Config, *, limit: int = 500) -> tuple[int, int]:
    """One batch over the rules: (customers read, tasks created). Fewer read than `limit`: done."""
    read = created = 0
    spread = max(1, config.cadences.spread_days)
    for rule in config.cadences.rules:
        due = await _due(session, rule, now, limit - read)
        if not due:
            continue
        read += len(due)
        rows = [
            {
                "customer_id": cid,
                "kind": "care",
                "reason": describe(rule),
                "due_at": now + timedelta(days=cid % spread),
                "remind_at": now + timedelta(days=cid % spread),
                "status": "open",
                "assignee_id": manager,
                "source_ref": f"cadence:{rule.name}:{cid}:{now:%Y%m%d}",
                "reminders": 0,
                "notify_customer": False,
                "created_at": now,
                "updated_at": now,
            }
            for cid, manager in due
        ]
        created += len(
            await insert_ignore_many(session, FollowUp, rows, ["source_ref"], returning=[FollowUp.id])
        )
        ids = [cid for cid, _ in due]
        await session.execute(
            delete(CadenceMark).where(CadenceMark.rule == rule.name, CadenceMark.customer_id.in_(ids))
        )
        await insert_ignore_many(
            session,
            CadenceMark,
            [{"customer_id": cid, "rule": rule.name, "last_at": now} for cid in ids],
            ["customer_id", "rule"],
        )
        if read >= limit:
            break
    return read, created
