"""Follow-ups end to end: /callback in the staff group → reminder card when due → Done → outcome note →
the outcome on the customer's card. (Written against the harness interface before the emulator landed.)"""

from __future__ import annotations

from jobs import followups
from tests.e2e.harness import Harness


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
