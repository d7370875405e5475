"""Scheduled duties as people see them: the win-back card in the staff group (and closing it), the
expiry warning in the customer's chat."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import balance, join, staff

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def test_winback_card_once_per_lapse_and_done_with_outcome(harness: Harness) -> None:
    lena = harness.customer(601, "Lena", username="lena")
    await join(harness, lena)
    group = harness.staff_group
    assert "Recorded 600.00" in await staff(harness, harness.agent, "/purchase @lena 600 dinner for six")
    await harness.run_outbox()

    harness.clock.advance(days=59)
    await harness.tick("winback")
    assert await harness.run_outbox() == 0
    harness.clock.advance(days=1)
    await harness.tick("winback")
    await harness.tick("winback")
    await harness.tick("followups")  # the card is the task's first reminder: no second card now
    assert await harness.run_outbox() == 1
    card = harness.agent.last(chat=group)
    assert "Win-back #1" in card.text and "has not bought for 60 days" in card.text
    assert "Lena @lena" in card.text and "Spent 600.00" in card.text

    await harness.agent.press("✅ Done", message=card, chat=group)
    assert "please reply with the outcome" in harness.agent.last(chat=group).text
    await harness.agent.send("called her, she comes on Friday", chat=group)
    assert "Follow-up #1 closed: called her, she comes on Friday" in harness.agent.last(chat=group).text
    harness.clock.advance(hours=5)
    await harness.tick("followups")  # closed: no overdue reminder
    await harness.tick("winback")
    assert await harness.run_outbox() == 0


async def test_expiry_warning_reaches_the_customer_once_then_the_points_expire(harness: Harness) -> None:
    harness.clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    kim = harness.customer(602, "Kim", username="kim602")
    await join(harness, kim)
    await staff(harness, harness.agent, "/purchase @kim602 120 lunch")
    await harness.run_outbox()
    sent_before = len(kim.messages())

    expires = datetime(2027, 3, 10, 9, 0, tzinfo=UTC)  # 12 months later (10:00 in Berlin)
    harness.clock.set(expires - timedelta(days=14))
    await harness.tick("expiry")
    await harness.tick("expiry")
    assert await harness.run_outbox() == 1
    assert len(kim.messages()) == sent_before + 1
    warning = kim.last().text
    assert "120 of your points expire on 10 Mar 2027" in warning and "balance is 120 points" in warning

    harness.clock.set(expires)
    await harness.tick("expiry")
    assert await balance(harness, 602) == 0
    await kim.send("/points")
    assert "expire on" not in kim.last_text().text
