"""Staff in the staff group: /find with personal data by role, refusals that are audited, roles."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.core.models import AuditEntry
from tests.e2e.harness import ADMIN_ID, Harness

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def _joined_customer(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await kim.send("/start")
    await kim.press("✅ Accept")
    await kim.send("1992-07-04")
    await kim.share_contact("+49 30 1234567")
    await kim.send("Skip")  # the time zone (reply keyboard)


async def test_find_masks_personal_data_for_agents(harness: Harness) -> None:
    await _joined_customer(harness)
    group = harness.staff_group
    await harness.agent.send("/find kimmy", chat=group)
    card = harness.agent.last(chat=group).text
    assert "Kim" in card and "@kimmy" in card and "301" in card
    assert "4 July 1992" not in card and "+49301234567" not in card
    assert card.count("🔒 hidden") == 2

    await harness.grant_admin()
    for query in ("kim", "@kimmy", "+49301234567", "301"):
        await harness.admin.send(f"/find {query}", chat=group)
        card = harness.admin.last(chat=group).text
        assert "4 July 1992" in card and "+49301234567" in card, query

    await harness.owner.send("/find nobody-like-this", chat=group)
    assert "No customer matches" in harness.owner.last(chat=group).text
    await harness.owner.send("/find", chat=group)
    assert "Usage: /find" in harness.owner.last(chat=group).text


async def test_staff_commands_outside_the_group_are_refused_and_audited(harness: Harness) -> None:
    await _joined_customer(harness)
    stranger = harness.customer(302, "Mallory")
    await stranger.send("/find kim")
    assert "staff command" in stranger.last().text
    await harness.agent.send("/find kim")  # a staff member, but in a private chat
    assert "staff command" in harness.agent.last().text
    other_group = harness.emu.group(-100999, "Other")
    await stranger.send("/staff", chat=other_group)
    assert "staff command" in stranger.last(chat=other_group).text
    async with harness.sessions.begin() as session:
        refused = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(e.actor_id, e.action, e.outcome) for e in refused] == [
        (302, "find", "refused"),
        (harness.agent.user_id, "find", "refused"),
        (302, "staff", "refused"),
    ]
    assert all("Kim" not in m.text for m in stranger.messages())


async def test_only_owners_change_roles(harness: Harness) -> None:
    group = harness.staff_group
    await harness.admin.send("/staff", chat=group)  # first message: recorded as an agent
    await harness.agent.send("/promote @adam", chat=group)
    assert "needs the role owner" in harness.agent.last(chat=group).text

    await harness.owner.send("/promote @adam", chat=group)
    assert "Adam is now admin." in harness.owner.last(chat=group).text
    await harness.owner.send("/staff", chat=group)
    listing = harness.owner.last(chat=group).text
    assert "owner: Olga" in listing and "admin: Adam" in listing and "agent: Alice" in listing

    await harness.owner.send("/demote @olga", chat=group)
    assert "OWNER_IDS" in harness.owner.last(chat=group).text
    await harness.owner.send("/promote @ghost", chat=group)
    assert "No staff member @ghost" in harness.owner.last(chat=group).text

    async with harness.sessions.begin() as session:
        entries = (await session.scalars(select(AuditEntry).order_by(AuditEntry.id))).all()
    assert [(e.action, e.outcome) for e in entries] == [("promote", "refused"), ("promote", "ok")]
    assert entries[1].target == str(ADMIN_ID)
