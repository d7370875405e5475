"""Follow-ups end to end: /callback in the staff group → reminder card when due → Done → outcome note →
the outcome on the customer's card. (Written against the harness interface before the emulator landed.)"""

from __future__ import annotations

import pytest

from jobs import followups
from tests.e2e.harness import Harness
from tests.emulator.driver import GroupChat, UserDriver

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def test_schedule_remind_done_with_outcome(harness: Harness) -> None:
    lena = harness.customer(501, "Lena", username="lena")
    await harness.join(lena)
    group = harness.staff_group
    await harness.agent.send("/callback @lena yesterday ask", chat=group)
    assert "can't read that time" in harness.agent.last(chat=group).text
    await harness.agent.send("/callback @lena in 2h ask about the <repair>", chat=group)
    assert "Follow-up #1 for Lena scheduled" in harness.agent.last(chat=group).text

    harness.clock.advance(hours=2)
    config = harness.settings.config
    assert await followups.tick(harness.sessions, harness.clock, config) == 1
    await harness.run_outbox()
    card = harness.agent.last(chat=group)
    assert "Follow-up #1 is due" in card.text and "ask about the <repair>" in card.text

    await harness.agent.press("⏳ Snooze 1h", message=card, chat=group)
    assert "snoozed until" in harness.agent.last(chat=group).text
    await harness.agent.press("✅ Done", message=card, chat=group)
    assert "please reply with the outcome" in harness.agent.last(chat=group).text
    await harness.agent.send("fixed, she is happy", chat=group)
    assert "Follow-up #1 closed: fixed, she is happy" in harness.agent.last(chat=group).text

    await harness.agent.send("/find @lena", chat=group)
    assert "ask about the <repair> → fixed, she is happy" in harness.agent.last(chat=group).text
    await harness.agent.send("/callbacks", chat=group)
    assert "No open follow-ups." in harness.agent.last(chat=group).text


async def _answer(person: UserDriver, text: str, chat: GroupChat | None = None) -> str:
    """What the bot answers to one message (and that it answers at all)."""
    before = len(person.messages(chat))
    await person.send(text, chat=chat)
    assert len(person.messages(chat)) > before, f"no answer to {text}"
    return person.last(chat).text


async def test_followup_and_followups_are_callback_and_callbacks(harness: Harness) -> None:
    """The staff group's new names for the commands it knows: each answer is the old command's."""
    lena = harness.customer(501, "Lena", username="lena")
    await harness.join(lena)
    group, agent = harness.staff_group, harness.agent
    for args in ("", " @lena yesterday ask", " @nobody in 2h ask"):  # usage, a bad time, no such customer
        assert await _answer(agent, f"/followup{args}", group) == await _answer(
            agent, f"/callback{args}", group
        )
    assert await _answer(agent, "/followups", group) == await _answer(agent, "/callbacks", group)

    assert "Follow-up #1 for Lena" in await _answer(
        agent, "/callback @lena in 2h ask about the repair", group
    )
    assert "Follow-up #2 for Lena" in await _answer(agent, "/followup @lena in 3h ask again --notify", group)
    listed = await _answer(agent, "/callbacks", group)
    assert "#1" in listed and "ask again" in listed
    assert await _answer(agent, "/followups", group) == listed

    # A customer is refused /followup in private exactly as /callback, and nothing is scheduled.
    refused = await _answer(lena, "/callback @lena in 2h ask")
    assert "⛔" in refused
    assert await _answer(lena, "/followup @lena in 2h ask") == refused
    assert await _answer(agent, "/followups", group) == listed
