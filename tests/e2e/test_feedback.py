"""Closing the loop: a detractor's score and every /feedback put a card in the staff group; Claim,
Call back (a follow-up task) and Resolve (with a note); staff replies reach the customer and the
customer's answers come back under the card. And /stats surveys with its chart."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.care.models import FeedbackItem, FollowUp
from storage.core.models import AuditEntry
from storage.people import customers
from storage.people.customers import TelegramProfile
from tests.e2e.harness import AGENT_ID, Harness
from tests.emulator import UserDriver

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions
CATEGORIES = ["🏷 product", "🏷 service", "🏷 delivery", "🏷 price", "🏷 other"]


async def _joined(harness: Harness, user_id: int, name: str, username: str | None = None) -> UserDriver:
    person = harness.customer(user_id, name, username=username)
    async with harness.sessions.begin() as session:
        profile = TelegramProfile(user_id, name, username=username, language_code="en")
        await customers.join(session, profile, harness.settings.config, harness.clock.now())
    return person


async def _nps_survey(harness: Harness) -> None:
    for command in ("/survey new loyal nps", "/survey activate loyal"):
        await harness.owner.send(command, chat=harness.staff_group)


async def test_detractor_card_call_back_and_replies_both_ways(harness: Harness) -> None:
    group = harness.staff_group
    kim = await _joined(harness, 501, "Kim <b>", username="kimmy")
    await _nps_survey(harness)
    await kim.send("/survey")
    await kim.press("3")
    card = group.last()
    assert card.text.startswith("Feedback #1") and "Detractor: NPS 3/10 (survey loyal)" in card.text
    assert "Kim <b> @kimmy" in card.text  # the name arrives escaped, shown as typed
    assert card.buttons == [["👤 Claim", "📞 Call back", "✅ Resolve"], CATEGORIES[:4], CATEGORIES[4:]]

    await kim.send("The queue was 40 minutes")  # the comment joins the card
    card_now = next(m for m in group.messages() if m.message_id == card.message_id)
    assert "Comment: The queue was 40 minutes" in card_now.text
    assert "You earned 20 points" in kim.last().text

    answer = await harness.agent.press("📞 Call back", message=card)
    assert answer is not None and "Follow-up task #1 created" in answer["text"]
    again = await harness.agent.press("📞 Call back", message=card)
    assert again is not None and "#1" in again["text"]
    # A card posted before follow-ups were renamed carries "fc:callback:<id>": it still works.
    old_card = await harness.agent.press_data("fc:callback:1", card)
    assert old_card is not None and old_card["text"] == again["text"]
    card_now = next(m for m in group.messages() if m.message_id == card.message_id)
    assert "Claimed by Alice" in card_now.text and "Call back: task #1, due" in card_now.text
    async with harness.sessions.begin() as session:
        tasks = (await session.scalars(select(FollowUp))).all()
    assert len(tasks) == 1
    assert tasks[0].kind == "call" and tasks[0].assignee_id == AGENT_ID
    assert tasks[0].due_at == harness.clock.now() + timedelta(hours=24)

    # A staff reply to the card reaches the customer; the customer's next message comes back under it.
    await harness.agent.reply(card_now, "So sorry, Kim — may we call you tomorrow?", chat=group)
    assert "Delivered to the customer" in group.last().text
    relayed = kim.last()
    assert "Our team replies" in relayed.text and "may we call you tomorrow?" in relayed.text
    await kim.send("Yes, after 5pm please")
    back = group.last()
    assert "Kim <b> answers (feedback #1)" in back.text and "after 5pm" in back.text
    assert back.reply_to_message_id == card.message_id
    # A Telegram reply to the relayed message also comes back under the card.
    await harness.agent.reply(back, "Noted, talk soon.", chat=group)
    await kim.reply(kim.last(), "Thanks!")
    assert group.last().text.endswith("Thanks!") and group.last().reply_to_message_id == card.message_id
    # Once answered, ordinary messages are not relayed any more.
    await kim.send("random words")
    assert "didn't catch that" in kim.last().text

    # Another agent cannot take it over; resolving asks for an optional note.
    other = harness.customer(9010, "Bea", username="bea")
    group.set_member(9010, "member")
    refused = await other.press("👤 Claim", message=card)
    assert refused is not None and "Alice has already claimed it" in refused["text"]
    await harness.agent.press("✅ Resolve", message=card)
    prompt = group.last()
    assert prompt.force_reply and "Reply to this message with a note" in prompt.text
    await harness.agent.reply(prompt, "Called, offered a voucher", chat=group)
    assert "Note saved" in group.last().text
    final = next(m for m in group.messages() if m.message_id == card.message_id)
    assert "Resolved by Alice" in final.text and "Note: Called, offered a voucher" in final.text
    assert final.buttons == [CATEGORIES[:4], CATEGORIES[4:]]  # only the categories, until one is set
    await harness.agent.press("🏷 delivery", message=final)
    final = next(m for m in group.messages() if m.message_id == card.message_id)
    assert "Category: delivery" in final.text and not final.buttons
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
        actions = [e.action for e in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
    assert item is not None and (item.status, item.resolution) == ("resolved", "Called, offered a voucher")
    assert {"feedback_followup", "feedback_reply", "feedback_resolve", "feedback_note"} <= set(actions)


async def test_feedback_command_and_csat_threshold(harness: Harness) -> None:
    group = harness.staff_group
    ann = await _joined(harness, 502, "Ann")
    await ann.send("/feedback The soup was cold")
    assert "Our team has your message (#1)" in ann.last().text
    card = group.last()
    assert "Feedback from a customer" in card.text and "Comment: The soup was cold" in card.text
    await ann.send("/feedback")
    assert ann.last().force_reply
    await harness.restart()  # waiting for the feedback text survives a restart
    await ann.send("And the music too loud")
    assert "(#2)" in ann.last().text and "And the music too loud" in group.last().text
    await harness.agent.press("👤 Claim", message=group.last())
    await harness.agent.send("/feedback", chat=group)
    listing = group.last().text
    assert "#1 [open] Ann (—): The soup was cold" in listing and "#2 [claimed] Ann" in listing

    # CSAT: a 2 alerts staff, a 3 does not.
    for command in ("/survey new service csat", "/survey activate service"):
        await harness.owner.send(command, chat=group)
    bob = await _joined(harness, 503, "Bob")
    cid = await _joined(harness, 504, "Cid")
    await bob.send("/survey")
    await bob.press("⭐⭐")
    assert "Unhappy: CSAT 2/5" in group.last().text
    await cid.send("/survey")
    await cid.press("⭐⭐⭐")
    assert "Bob" in group.last().text and "Cid" not in group.last().text


async def test_stats_surveys_with_chart(harness: Harness) -> None:
    group = harness.staff_group
    await _nps_survey(harness)
    for user_id, score in ((601, "10"), (602, "9"), (603, "3")):
        person = await _joined(harness, user_id, f"P{user_id}")
        await person.send("/survey")
        await person.press(score)
    await harness.agent.send("/stats surveys 4w", chat=group)
    messages = group.messages()
    summary, chart = messages[-2], messages[-1]
    assert "Invitations: 3, answered: 3 (response rate 100%)" in summary.text
    assert "NPS: +33 from 3 answers: 2 promoters (9–10), 1 detractor (0–6)" in summary.text
    assert "CSAT: — satisfied (4–5), 0 of 0 answers" in summary.text
    assert chart.photo is not None and chart.photo.startswith(b"\x89PNG\r\n\x1a\n")
    # The chart's step fits the period asked for, and its caption says which.
    assert chart.text == "CSAT and NPS per day, last 4 weeks"
    await harness.agent.send("/stats surveys 12m", chat=group)
    summary, chart = group.messages()[-2:]
    assert "NPS: +33 from 3 answers" in summary.text and chart.photo is not None
    assert chart.text == "CSAT and NPS per month, last 12 months"
    await harness.agent.send("/stats surveys", chat=group)  # 12 weeks unless asked
    assert group.last().text == "CSAT and NPS per week, last 12 weeks"
    await harness.agent.send("/stats surveys forever", chat=group)
    assert "Usage: /stats surveys" in group.last().text
    outsider = harness.customer(604, "Zed")
    await outsider.send("/stats surveys")
    assert "staff command" in outsider.last().text


@pytest.mark.harness_env(DEFAULT_LANGUAGE="zh")
async def test_stats_surveys_in_chinese_per_day_and_per_month(harness: Harness) -> None:
    group = harness.staff_group
    await _nps_survey(harness)
    person = await _joined(harness, 611, "Li")
    await person.send("/survey")
    await person.press("9")
    await harness.agent.send("/stats surveys 7d", chat=group)
    summary, chart = group.messages()[-2:]
    assert "NPS：+100，共 1 份：推荐者（9–10 分）1，贬损者（0–6 分）0" in summary.text
    assert chart.text == "每日 CSAT 与 NPS，最近 7 天" and chart.photo is not None
    await harness.agent.send("/stats surveys 1y", chat=group)
    assert group.last().text == "每月 CSAT 与 NPS，最近 1 年"
