"""Complaints with a clock: a reminder before the first-response target, an escalation to admins after
it, the customer told when their item is taken up and resolved, and 👎 reopening it with a new round."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.care.models import FeedbackItem
from tests.e2e.harness import Harness

pytestmark = pytest.mark.strict_transactions


async def _tick(harness: Harness) -> None:
    await harness.tick("complaints")
    await harness.run_outbox()


async def test_the_clock_reminds_escalates_tells_the_customer_and_reopens(harness: Harness) -> None:
    group = harness.staff_group
    await harness.grant_admin()
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    await kim.send("/feedback")
    await kim.send("The parcel arrived broken")
    card = group.last()
    await _tick(harness)  # the clock starts: nothing is due yet
    assert group.last().message_id == card.message_id

    harness.clock.advance(hours=6, minutes=1)  # 75% of the 8-hour first-response target
    await _tick(harness)
    reminder = group.last().text
    assert reminder.startswith("⏳ Feedback #1 from #1 Kim needs a first response by")
    await _tick(harness)
    assert group.last().text == reminder  # once

    harness.clock.advance(hours=2)
    await _tick(harness)
    overdue = group.last().text
    assert overdue.startswith("🚨 Feedback #1 from #1 Kim got no response by") and "@" in overdue  # admins

    await harness.agent.press("👤 Claim", message=card)
    await _tick(harness)
    assert kim.last().text.startswith("👋 Your message (#1) has been taken up by our team.")

    await harness.agent.press("✅ Resolve", message=card)
    await harness.agent.reply(group.last(), "Sent a new one", chat=group)
    await _tick(harness)
    resolved = kim.last()
    assert "We have resolved your message (#1). Sent a new one" in resolved.text
    assert resolved.buttons == [["👍 Solved", "👎 Not solved"]]

    await kim.press("👎 Not solved", message=resolved)
    assert "We have reopened it" in kim.last().text
    again = await kim.press_data("cs:1:n", resolved)  # a second 👎: nothing more happens
    assert again is not None and again.get("show_alert")
    await _tick(harness)
    assert group.last().text.startswith("🔁 Feedback #1 was reopened")
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
    assert item is not None and (item.status, item.reopened, item.solved) == ("open", 1, False)
    assert item.respond_by is not None and item.respond_by > harness.clock.now()  # a new round


async def test_someone_elses_vote_is_refused(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    lee = harness.customer(302, "Lee")
    await harness.join(kim)
    await harness.join(lee)
    await kim.send("/feedback")
    await kim.send("Too slow")
    answer = await lee.press_data("cs:1:y", lee.last())
    assert answer is not None and answer.get("show_alert")
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
    assert item is not None and item.solved is None


async def test_stats_show_categories_response_times_and_staff(harness: Harness) -> None:
    group = harness.staff_group
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    await kim.send("/feedback")
    await kim.send("The parcel arrived broken")
    card = group.last()
    await _tick(harness)
    harness.clock.advance(minutes=30)
    await harness.agent.press("👤 Claim", message=card)
    await harness.agent.press("🏷 delivery", message=card)
    await harness.agent.press("✅ Resolve", message=card)
    await harness.agent.reply(group.last(), "Replaced", chat=group)
    await _tick(harness)
    await kim.press("👍 Solved", message=kim.last())
    assert kim.last().text == "Thank you! We are glad it is sorted."

    await harness.agent.send("/stats complaints 30d", chat=group)
    text = group.last().text
    assert "Received 1 · open 0 · resolved 1" in text
    assert "By category: delivery: 1" in text
    assert "First response on time: 100% (1 of 1), median 30m" in text
    assert "Resolved on time: 100% (1 of 1)" in text and "👍 1 · 👎 0" in text
    await harness.agent.send("/stats staff 30d", chat=group)
    assert (
        "Alice: follow-ups done 0 (— on time) · taken up 1 (median first response 30m)"
        " · resolved 1 (👍 1 · 👎 0)" in group.last().text
    )
    await harness.agent.send("/stats nonsense", chat=group)
    assert group.last().text.startswith("Usage: /stats surveys|customers|complaints|staff")
