"""The 360° card of /find and the customer's timeline, as staff see them in the group."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness

pytestmark = pytest.mark.strict_transactions


async def test_the_card_shows_loyalty_spend_and_open_work_and_the_timeline_pages(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    group, agent = harness.staff_group, harness.agent
    for n in range(22):
        await agent.send(f"/purchase @kimmy {10 + n}.50 order {n}", chat=group)
    await kim.send("/feedback")
    await kim.send("The coffee was cold")
    harness.clock.advance(minutes=5)
    await agent.send("/note @kimmy likes oat milk", chat=group)

    await agent.send("/find @kimmy", chat=group)
    card = agent.last(chat=group)
    assert "last 12 months: 462.00 in 22 purchases" in card.text  # 10.50 + … + 31.50
    assert "Joined 10 Mar 2026" in card.text  # the day they accepted, on the bot's clock
    assert "🛒 Latest purchases:" in card.text and "31.50" in card.text
    assert "📂 Open: 1 feedback · 0 follow-ups" in card.text
    assert card.buttons == [["🕘 Timeline"]]

    await agent.press("🕘 Timeline", message=card, chat=group)
    page = agent.last(chat=group)
    assert page.text.startswith("🕘 Timeline of #1") and "(24 events, newest first)" in page.text
    assert "📝" in page.text.splitlines()[1]  # the note is the newest
    assert "Page 1/2" in page.text and page.buttons == [["›"]]
    await agent.press("›", message=page, chat=group)
    second = agent.messages(chat=group.chat_id)[-1]
    assert second.message_id == page.message_id  # paged in place
    assert "Page 2/2" in second.text and "purchase 10.50" in second.text  # the oldest


async def test_a_customer_cannot_open_a_timeline(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    before = len(kim.messages())
    answer = await kim.press_data("tl:1", kim.last())  # forged: the button only exists in the group
    assert answer is not None and answer.get("show_alert")
    assert len(kim.messages()) == before  # refused with an alert, no timeline sent
