"""New members of the staff group are not staff until an admin approves them (STAFF_APPROVAL, on in a
real install): the bot asks the admins once with a card, the member is refused meanwhile, Approve
makes them an agent, Ignore leaves them out (leaving the group ends the role as for every member:
tests/e2e/test_staff.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.core.models import AuditEntry
from tests.e2e.harness import Harness

pytestmark = [pytest.mark.strict_transactions, pytest.mark.harness_env(STAFF_APPROVAL="on")]


async def test_a_new_member_waits_for_an_admin(harness: Harness) -> None:
    group = harness.staff_group
    await harness.grant_admin()
    newbie = harness.emu.user(9101, "Nina", username="nina")
    group.set_member(9101, "member")

    await newbie.send("/staff", chat=group)
    card = next(m for m in group.messages() if "Nina" in m.text and m.buttons)
    assert "wrote in the staff group" in card.text and card.buttons == [["✅ Approve as agent", "Ignore"]]
    assert group.last().text.startswith("⏳ An admin of this group has not approved you")
    await newbie.send("/find kim", chat=group)
    assert group.last().text.startswith("⏳")
    assert sum(1 for m in group.messages() if "wrote in the staff group" in m.text) == 1  # asked once

    refused = await harness.agent.press("✅ Approve as agent", message=card)  # not an admin (not even staff)
    assert refused is not None and refused["text"].startswith(("⛔", "⏳"))
    assert next(m for m in group.messages() if m.message_id == card.message_id).buttons  # still asked
    await harness.admin.press("✅ Approve as agent", message=card)
    assert next(m for m in group.messages() if m.message_id == card.message_id).text.startswith(
        "✅ Nina is now an agent"
    )
    await newbie.send("/staff", chat=group)
    assert "Nina" in group.last().text and "⏳" not in group.last().text

    async with harness.sessions.begin() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.target == "9101")))
    assert "staff_approve" in actions


async def test_ignore_leaves_them_out(harness: Harness) -> None:
    group = harness.staff_group
    await harness.grant_admin()
    newbie = harness.emu.user(9102, "Ivo")
    group.set_member(9102, "member")
    await newbie.send("/staff", chat=group)
    card = next(m for m in group.messages() if "Ivo" in m.text and m.buttons)
    await harness.admin.press("Ignore", message=card)
    await newbie.send("/staff", chat=group)
    assert group.last().text.startswith("⏳")
