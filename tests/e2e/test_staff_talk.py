"""Decide and commit, then talk, in the staff group: every staff command, button and step, its refusals
included, runs with the harness strict (a Telegram request inside a database transaction fails the
update, and the person would see nothing). Customers are joined through storage, so these scenarios
exercise the staff side alone."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from handlers.desk.cards import card_markup, card_text
from jobs import followups as followup_duty
from storage.care import feedback
from storage.care.models import FeedbackItem, FeedbackMessage, FollowUp
from storage.core import conversations
from storage.core.models import AuditEntry
from storage.people import customers
from storage.people.customers import TelegramProfile
from tests.e2e.harness import STAFF_CHAT_ID, Harness
from tests.emulator import UserDriver
from tests.emulator.driver import GroupChat, SentMessage

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def _joined(harness: Harness, user_id: int, name: str, username: str) -> UserDriver:
    person = harness.customer(user_id, name, username=username)
    async with harness.sessions.begin() as session:
        profile = TelegramProfile(user_id, name, username=username, language_code="en")
        await customers.join(session, profile, harness.settings.config, harness.clock.now())
    return person


async def _says(person: UserDriver, text: str, chat: GroupChat) -> str:
    """What the bot answers to one message in `chat` (and that it answers at all)."""
    before = len(chat.messages())
    await person.send(text, chat=chat)
    assert len(chat.messages()) > before, f"no answer to {text}"
    return chat.last().text


async def _actions(harness: Harness) -> list[tuple[str, str]]:
    async with harness.sessions.begin() as session:
        entries = await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        return [(e.action, e.outcome) for e in entries]


async def test_commands_that_change_data_answer_after_the_commit(harness: Harness) -> None:
    await _joined(harness, 501, "Lena", "lena")
    group, agent, owner = harness.staff_group, harness.agent, harness.owner
    t = harness.t
    assert await _says(agent, "/callback @ghost in 2h ask", group) == t(
        "en", "followups.unknown_customer", reference="@ghost"
    )
    assert "Follow-up #1 for Lena scheduled" in await _says(agent, "/callback @lena in 2h ask", group)
    assert await _says(agent, "/purchase @ghost 10", group) == t(
        "en", "loyalty.customer_unknown", reference="@ghost"
    )
    assert "Recorded 20.00 for #1 Lena: +20 points" in await _says(agent, "/purchase @lena 20", group)
    assert "Awarded 5 points to #1 Lena (balance 25)" in await _says(agent, "/award @lena 5 kind", group)
    assert await _says(agent, "/award @ghost 5 kind", group) == t(
        "en", "loyalty.customer_unknown", reference="@ghost"
    )
    assert "Deducted 5 points" in await _says(owner, "/deduct @lena 5 typo", group)
    assert await _says(owner, "/promote @ghost", group) == t(
        "en", "staff.refused_unknown", reference="@ghost"
    )
    assert await _says(owner, "/demote @olga", group) == t("en", "staff.refused_owner_config")
    assert await _says(owner, "/promote @alice", group) == "Alice is now admin."
    assert ("promote", "ok") in await _actions(harness)


async def test_follow_up_buttons_and_the_outcome_step(harness: Harness) -> None:
    await _joined(harness, 501, "Lena", "lena")
    group, agent, t = harness.staff_group, harness.agent, harness.t
    await agent.send("/callback @lena in 2h ask about the repair", chat=group)
    harness.clock.advance(hours=2)
    assert await followup_duty.tick(harness.sessions, harness.clock, harness.settings.config) == 1
    await harness.run_outbox()
    card = group.last()
    assert "Follow-up #1 is due" in card.text

    await agent.press("⏳ Snooze 1h", message=card, chat=group)
    assert "Follow-up #1 snoozed until" in group.last().text
    await agent.press("🙋 Reassign to me", message=card, chat=group)
    assert group.last().text == t("en", "followups.assigned", id=1, name="Alice")
    bea = harness.customer(9010, "Bea", username="bea")  # another agent presses Done too
    group.set_member(9010, "member")
    await bea.press("✅ Done", message=card, chat=group)
    await agent.press("✅ Done", message=card, chat=group)
    assert group.last().text == t("en", "followups.ask_outcome", name="Alice", id=1)
    assert group.last().force_reply
    contact = {"phone_number": "+4930123", "first_name": "Lena", "user_id": 501}  # shared in the group
    await harness.emu.deliver("message", agent._message(group.chat_id, contact=contact))
    assert group.last().text == t("en", "followups.outcome_empty")
    assert group.last().force_reply  # the step stays: a text note still closes it
    assert await _says(agent, "fixed", group) == t("en", "followups.closed", id=1, outcome="fixed")
    assert await _says(bea, "reached her", group) == t("en", "followups.already_closed")
    async with harness.sessions.begin() as session:
        task = await session.scalar(select(FollowUp))
    assert task is not None and (task.status, task.outcome) == ("done", "fixed")

    # A closed follow-up's buttons are refused with an alert.
    answer = await agent.press("⏳ Snooze 1h", message=card, chat=group)
    assert answer is not None and answer["text"] == t("en", "followups.already_closed")
    assert answer["show_alert"]


async def test_survey_definitions_answer_after_the_commit(harness: Harness) -> None:
    """/survey new, activate, close, general and an uploaded definition (not /survey send: its preview
    and Confirm are being rebuilt as a background job, branch bulk)."""
    group, owner, t = harness.staff_group, harness.owner, harness.t
    said = await _says(owner, "/survey new loyal nps", group)
    assert said == t("en", "surveys.created", name="loyal", kind="nps", questions=2)
    assert await _says(owner, "/survey new loyal nps", group) == t("en", "surveys.name_taken", name="loyal")
    assert "Usage: /survey new" in await _says(owner, "/survey new loyal", group)
    assert "a choice needs 2 to 8 options" in await _says(owner, "/survey new x custom\nchoice One", group)
    assert await _says(owner, "/survey general loyal", group) == t("en", "surveys.not_active", name="loyal")
    assert await _says(owner, "/survey activate ghost", group) == t("en", "surveys.unknown", name="ghost")
    assert await _says(owner, "/survey activate loyal", group) == t("en", "surveys.activated", name="loyal")
    assert await _says(owner, "/survey general loyal", group) == t("en", "surveys.general_set", name="loyal")
    assert await _says(owner, "/survey close loyal", group) == t("en", "surveys.closed_ok", name="loyal")
    assert "Usage:" in await _says(owner, "/survey frobnicate", group)

    good = {"name": "visit", "questions": [{"type": "rating", "text": "Clean?"}]}
    await owner.send_document("visit.json", json.dumps(good).encode(), caption="/survey", chat=group)
    assert group.last().text == t("en", "surveys.created", name="visit", kind="custom", questions=1)
    await owner.send_document("visit.json", json.dumps(good).encode(), caption="/survey", chat=group)
    assert group.last().text == t("en", "surveys.name_taken", name="visit")
    await owner.send_document("bad.json", b"{", caption="/survey", chat=group)
    assert t("en", "surveys.def_invalid") in group.last().text
    await owner.send_document("big.json", b" " * (64 * 1024 + 1), caption="/survey", chat=group)
    assert group.last().text == t("en", "surveys.file_too_big", max=64)
    actions = await _actions(harness)
    assert [a for a, _ in actions if a.startswith("survey")] == [
        "survey new",
        "survey activate",
        "survey general",
        "survey close",
        "survey new",
    ]


async def _card(harness: Harness, customer: int, comment: str) -> SentMessage:
    """A feedback item with its card in the staff group, as the customer side posts it."""
    assert harness.app is not None
    runtime = harness.app.bot_data.runtime
    async with harness.sessions.begin() as session:
        person = await customers.get(session, customer)
        assert person is not None
        item, _ = await feedback.submit(
            session, person, comment, source_ref=f"t:{comment}", now=harness.clock.now()
        )
        card = await feedback.card(session, item.id)
    assert card is not None
    desk = SimpleNamespace(t=runtime.texts, config=runtime.config)  # what card_text reads of a context
    sent = await harness.app.bot.send_message(
        STAFF_CHAT_ID,
        card_text(desk, card),
        reply_markup=card_markup(desk, card),  # type: ignore[arg-type]
    )
    async with harness.sessions.begin() as session:
        await feedback.card_posted(session, item.id, sent.chat_id, sent.message_id)
    return harness.staff_group.last()


def _now(group: GroupChat, message: SentMessage) -> SentMessage:
    """A message as it reads now (after edits)."""
    return next(m for m in group.messages() if m.message_id == message.message_id)


async def test_card_buttons_relays_and_the_note_talk_after_the_commit(harness: Harness) -> None:
    kim = await _joined(harness, 501, "Kim", "kimmy")
    group, agent, t = harness.staff_group, harness.agent, harness.t
    card = await _card(harness, 501, "The soup was cold")
    assert card.buttons[0] == ["👤 Claim", "📞 Call back", "✅ Resolve"]  # then the categories

    answer = await agent.press("👤 Claim", message=card)
    assert answer is not None and answer["text"] == t("en", "feedback.claimed_ok")
    assert "Claimed by Alice" in _now(group, card).text
    bea = harness.customer(9010, "Bea", username="bea")
    group.set_member(9010, "member")
    refused = await bea.press("👤 Claim", message=card)
    assert refused is not None and refused["show_alert"]
    assert refused["text"] == t("en", "feedback.claimed_by_other", name="Alice")
    answer = await agent.press("📞 Call back", message=card)
    assert answer is not None and answer["text"] == t("en", "feedback.followup_ok", id=1)
    assert "Call back: task #1" in _now(group, card).text
    stale = await agent.press_data("fc:claim:99", card)  # no such item
    assert stale is not None and stale["text"] == t("en", "button.stale") and stale["show_alert"]
    stale = await agent.press_data("fc:frobnicate:1", card)
    assert stale is not None and stale["text"] == t("en", "button.stale")

    # A staff reply reaches the customer; the customer's next message is expected as the answer.
    await agent.reply(card, "So sorry, Kim", chat=group)
    assert group.last().text == t("en", "feedback.delivered")
    assert "Our team replies" in kim.last().text and "So sorry, Kim" in kim.last().text
    async with harness.sessions.begin() as session:
        pending = await conversations.current(session, 501, 501)
        relay = await session.scalar(
            select(FeedbackMessage).where(FeedbackMessage.direction == "to_customer")
        )
    assert pending is not None and pending.payload == {"id": 1}
    assert relay is not None and (relay.relay_chat_id, relay.relay_message_id) == (501, kim.last().message_id)
    # A customer who blocked the bot: staff are told it was not delivered.
    harness.emu.block_chat(501)
    await agent.reply(card, "Are you there?", chat=group)
    assert group.last().text == t("en", "feedback.not_delivered")
    # A reply in the group to anything else is no relay: the bot says nothing.
    said = len(group.messages())
    await agent.reply(group.last(), "ok", chat=group)
    assert len(group.messages()) == said

    answer = await agent.press("✅ Resolve", message=card)
    assert answer is not None and answer["text"] == t("en", "feedback.resolved_ok")
    prompt = group.last()
    assert prompt.text == t("en", "feedback.note_prompt", id=1) and prompt.force_reply
    assert prompt.reply_to_message_id == card.message_id
    resolved = _now(group, card)
    assert "Resolved by Alice" in resolved.text and all("🏷" in b for row in resolved.buttons for b in row)
    again = await agent.press_data("fc:resolve:1", card)
    assert again is not None and again["text"] == t("en", "feedback.already_resolved")
    await agent.reply(prompt, "Called, offered a voucher", chat=group)
    assert group.last().text == t("en", "feedback.note_saved")
    assert "Note: Called, offered a voucher" in _now(group, card).text
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
    assert item is not None and (item.status, item.resolution) == ("resolved", "Called, offered a voucher")
    actions = [a for a, _ in await _actions(harness) if a.startswith("feedback")]
    assert actions == [
        "feedback_claim",
        "feedback_followup",
        "feedback_reply",
        "feedback_resolve",
        "feedback_note",
    ]
