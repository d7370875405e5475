"""Regular care (定期回访): cadence rules create follow-up tasks for each customer's account manager,
spread over days, once per period; /owner sets and hands over account managers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.care.models import FollowUp
from storage.loyalty import ledger
from storage.loyalty.models import LoyaltyAccount
from tests.e2e.harness import AGENT_ID, Harness

pytestmark = pytest.mark.strict_transactions


async def _tasks(harness: Harness) -> list[FollowUp]:
    async with harness.sessions.begin() as session:
        return list(await session.scalars(select(FollowUp).order_by(FollowUp.customer_id)))


@pytest.mark.harness_env(CADENCES="tier:gold:90, new:3", CADENCE_SPREAD_DAYS="7")
async def test_rules_make_tasks_for_account_managers_once_per_period(harness: Harness) -> None:
    group = harness.staff_group
    people = [harness.customer(301 + i, f"C{i}", username=f"c{i}") for i in range(4)]
    for person in people:
        await harness.join(person)
    async with harness.sessions.begin() as session:  # two of them are gold
        for customer_id in (1, 2):
            await ledger.ensure_account(session, customer_id, harness.clock.now())
            account = await session.get(LoyaltyAccount, customer_id)
            assert account is not None
            account.tier = "Gold"
    await harness.grant_admin()
    await harness.agent.send("/find c0", chat=group)  # Alice has written in the group: she is staff
    await harness.admin.send("/owner @c0 @alice", chat=group)
    assert harness.admin.last(chat=group).text == "✅ #1 C0 is now looked after by Alice."

    await harness.tick("cadences")
    tasks = await _tasks(harness)
    assert [(t.customer_id, t.assignee_id) for t in tasks] == [(1, AGENT_ID), (2, None)]  # gold only, yet
    assert tasks[0].reason == "regular care: tier gold, every 90 days"
    assert {t.due_at - harness.clock.now() for t in tasks} == {timedelta(days=1), timedelta(days=2)}  # spread

    await harness.tick("cadences")
    assert len(await _tasks(harness)) == 2  # once per period
    harness.clock.advance(days=3, hours=1)
    await harness.tick("cadences")
    tasks = await _tasks(harness)
    assert sorted(t.reason for t in tasks).count("regular care: day 3 after joining") == 4
    harness.clock.advance(days=90)
    await harness.tick("cadences")
    assert len(await _tasks(harness)) == 8  # gold again; "new" never again

    await harness.admin.send("/owner reassign @alice none", chat=group)
    assert harness.admin.last(chat=group).text == "✅ 1 customer of Alice is now looked after by the team."
    await harness.admin.send("/owner @c0", chat=group)
    assert harness.admin.last(chat=group).text == "#1 C0 is looked after by the team."


async def test_only_admins_set_owners(harness: Harness) -> None:
    await harness.join(harness.customer(301, "Kim", username="kimmy"))
    await harness.agent.send("/owner @kimmy me", chat=harness.staff_group)
    assert "needs the role admin" in harness.agent.last(chat=harness.staff_group).text
