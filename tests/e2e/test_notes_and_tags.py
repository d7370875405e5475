"""Notes and tags in the staff group: kept, listed, shown on the /find card, removed by the right
people, refused clearly when malformed, and never used by a customer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.core.models import AuditEntry
from tests.e2e.harness import Harness

pytestmark = pytest.mark.strict_transactions


async def _kim(harness: Harness) -> None:
    await harness.join(harness.customer(301, "Kim", username="kimmy"))


async def test_a_note_and_tags_show_on_the_card(harness: Harness) -> None:
    await _kim(harness)
    group, agent = harness.staff_group, harness.agent
    await agent.send("/note @kimmy prefers calls after 18:00 <b>not bold</b>", chat=group)
    assert agent.last(chat=group).text.startswith("📝 Note #1 kept for #1 Kim")
    await agent.send("/tag @kimmy VIP 老客户", chat=group)
    assert agent.last(chat=group).text == "🏷 #1 Kim: vip, 老客户"
    await agent.send("/tag @kimmy -vip coffee", chat=group)
    assert agent.last(chat=group).text == "🏷 #1 Kim: coffee, 老客户"

    await agent.send("/find kimmy", chat=group)
    card = agent.last(chat=group).text
    assert "🏷 Tags: coffee, 老客户" in card
    assert "📝 #1" in card and "prefers calls after 18:00 <b>not bold</b>" in card  # shown as typed

    await agent.send("/note @kimmy", chat=group)
    listed = agent.last(chat=group).text
    assert "Notes about #1 Kim" in listed and "Alice" in listed  # the author's name

    async with harness.sessions.begin() as session:
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.target == "1")))
    assert actions.count("tag_add") == 3 and actions.count("tag_remove") == 1 and "note_add" in actions


async def test_bad_input_is_refused_and_changes_nothing(harness: Harness) -> None:
    await _kim(harness)
    group, agent = harness.staff_group, harness.agent
    await agent.send("/tag @kimmy vip two!words", chat=group)
    assert "is not a tag" in agent.last(chat=group).text
    await agent.send("/tag @kimmy", chat=group)
    assert agent.last(chat=group).text == "🏷 #1 Kim: —"  # vip was not added either
    await agent.send("/note @nobody hello", chat=group)
    assert "No customer matches “@nobody”" in agent.last(chat=group).text
    await agent.send("/note @kimmy " + "x" * 1001, chat=group)
    assert "too long" in agent.last(chat=group).text
    await agent.send("/note", chat=group)
    assert agent.last(chat=group).text.startswith("Usage:")


async def test_only_the_author_or_an_admin_removes_a_note(harness: Harness) -> None:
    await _kim(harness)
    group = harness.staff_group
    await harness.grant_admin()
    await harness.admin.send("/note @kimmy admin's note", chat=group)
    await harness.agent.send("/note delete 1", chat=group)
    assert "written by someone else" in harness.agent.last(chat=group).text
    await harness.agent.send("/note @kimmy agent's note", chat=group)
    await harness.agent.send("/note delete 2", chat=group)
    assert harness.agent.last(chat=group).text == "🗑 Note #2 removed."
    await harness.admin.send("/note delete 1", chat=group)
    assert harness.admin.last(chat=group).text == "🗑 Note #1 removed."
    await harness.admin.send("/note @kimmy", chat=group)
    assert harness.admin.last(chat=group).text == "No notes about #1 Kim yet."


async def test_a_customer_cannot_use_them(harness: Harness) -> None:
    await _kim(harness)
    kim = harness.customer(301, "Kim", username="kimmy")
    await kim.send("/tag @kimmy vip")
    assert "staff command" in kim.last().text
    async with harness.sessions.begin() as session:
        refused = await session.scalar(select(AuditEntry).where(AuditEntry.outcome != "ok"))
    assert refused is not None
