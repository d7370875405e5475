"""Long texts and long lists fit Telegram's limits, and nothing a customer wrote is lost: long feedback
and relays arrive whole in parts, echoes are cut, staff lists page in place, and edits of messages that
are gone or inaccessible stay quiet."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest
from sqlalchemy import select

from jobs import followups as followup_job
from storage.care import feedback, followups
from storage.care.models import FeedbackItem, FollowUp
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer
from tests.e2e.harness import STAFF_CHAT_ID, Harness
from tests.emulator import UserDriver
from tests.emulator.driver import SentMessage

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

LIMIT = 4096
STAFF_FOOTER = "\n\nYou can answer here."


async def _joined(harness: Harness, user_id: int, name: str) -> UserDriver:
    person = harness.customer(user_id, name)
    async with harness.sessions.begin() as session:
        profile = TelegramProfile(user_id, name, language_code="en")
        await customers.join(session, profile, harness.settings.config, harness.clock.now())
    return person


def _long_text(length: int) -> str:
    """Chinese, English and the characters HTML cares about, over several lines."""
    words = ["顾客", "反馈<b>", "Tom & Jerry", "a<b>c", "排队太久了。", "&amp;", "x>y"]
    text, n = "", 0
    while len(text) < length:
        text += words[n % len(words)] + ("\n" if n % 11 == 10 else " ")
        n += 1
    return text[:length].strip()


def _body(message: SentMessage) -> str:
    """A part as the user reads it, without its one-line header."""
    return message.text.split("\n", 1)[1]


def _since(messages: list[SentMessage], first_id: int) -> list[SentMessage]:
    return [m for m in messages if m.message_id > first_id]


async def test_a_long_feedback_reaches_staff_whole_before_the_thanks(harness: Harness) -> None:
    group = harness.staff_group
    ann = await _joined(harness, 701, "Ann")
    text = _long_text(4000)
    await ann.send(f"/feedback {text}")

    card, *parts = group.messages()
    assert card.text.startswith("Feedback #1") and "Comment: " in card.text and "…" in card.text
    assert len(card.text) < LIMIT and card.buttons[0] == ["👤 Claim", "📞 Call back", "✅ Resolve"]
    assert parts and all(len(p.text) <= LIMIT for p in parts)
    assert parts[0].text.startswith(f"Feedback #1, the whole text (1/{len(parts)}):")
    assert all(p.reply_to_message_id == card.message_id for p in parts)
    assert "".join(_body(p) for p in parts) == text
    assert ann.last().text == harness.t("en", "feedback.thanks", id=1)
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
    assert item is not None and item.comment == text


async def test_feedback_whose_card_cannot_be_posted_is_saved_and_said_so(harness: Harness) -> None:
    ann = await _joined(harness, 702, "Ann")
    harness.emu.failures.failing[STAFF_CHAT_ID] = (400, "Bad Request: chat not found")
    await ann.send("/feedback The soup was cold")
    assert ann.last().text == harness.t("en", "feedback.saved", id=1)
    del harness.emu.failures.failing[STAFF_CHAT_ID]
    await harness.agent.send("/feedback", chat=harness.staff_group)
    assert "#1 [open] Ann (—): The soup was cold" in harness.staff_group.last().text


async def test_long_replies_are_relayed_whole_both_ways(harness: Harness) -> None:
    group = harness.staff_group
    kim = await _joined(harness, 703, "Kim")
    await kim.send("/feedback Where is my order?")
    card = group.last()

    reply = _long_text(4090)
    await harness.agent.reply(card, reply, chat=group)
    assert "Delivered to the customer" in group.last().text
    first, *rest = [m for m in kim.messages() if "Our team replies" in m.text or "(#1 continued" in m.text]
    assert rest and all(len(m.text) <= LIMIT for m in [first, *rest])
    assert _body(first).removesuffix(STAFF_FOOTER) + "".join(_body(m) for m in rest) == reply

    before = group.last().message_id
    answer = _long_text(4090)
    await kim.send(answer)
    assert kim.last().text == harness.t("en", "feedback.answer_sent")
    relayed = _since(group.messages(), before)
    assert len(relayed) >= 2 and relayed[0].text.startswith("💬 Kim answers (feedback #1)")
    assert all(m.reply_to_message_id == card.message_id for m in relayed)
    assert "".join(_body(m) for m in relayed) == answer


async def test_long_arguments_are_echoed_cut(harness: Harness) -> None:
    group = harness.staff_group
    await harness.agent.send("/find " + "<&>" * 1300, chat=group)
    found = group.last().text
    assert found.startswith(harness.t("en", "staff.find_none", query="<&>")[:10]) and "…" in found
    assert len(found) < 1200 and "<&><&>" in found
    await harness.agent.send("/purchase " + "y" * 4000 + " 10", chat=group)
    unknown = group.last().text
    assert "y" * 900 in unknown and "…" in unknown and len(unknown) < 1200


async def test_open_follow_ups_page_in_place_and_reread_on_every_press(harness: Harness) -> None:
    group = harness.staff_group
    await _joined(harness, 704, "Lena")
    async with harness.sessions.begin() as session:
        lena = await session.scalar(select(Customer))
        assert lena is not None
        for n in range(60):
            await followups.create(
                session,
                customer_id=lena.id,
                kind="call",
                reason=f"call {n + 1}",
                due_at=harness.clock.now() + timedelta(hours=n + 1),
            )
    await harness.agent.send("/callbacks", chat=group)
    listing = group.last()
    assert "Open follow-ups" in listing.text and listing.text.endswith("Page 1/3")
    assert "· call 20 ·" in listing.text and "· call 21 ·" not in listing.text
    assert listing.buttons == [["›"]]

    await harness.agent.press("›", message=listing)
    page = group.last()
    assert page.message_id == listing.message_id and page.edits == 1  # edited in place
    assert page.text.endswith("Page 2/3") and "· call 21 ·" in page.text and "· call 40 ·" in page.text
    assert page.buttons == [["‹", "›"]]
    await harness.agent.press("›", message=page)
    assert "· call 60 ·" in group.last().text and group.last().buttons == [["‹"]]

    async with harness.sessions.begin() as session:  # closed meanwhile: the next press shows it gone
        assert await followups.complete(session, 21, "done", harness.clock.now())
    await harness.agent.press("‹", message=group.last())
    page = group.last()
    assert page.text.endswith("Page 2/3") and "· call 21 ·" not in page.text and "· call 41 ·" in page.text

    stale = harness.t("en", "button.stale")
    for forged in ("pg:cb:x", "pg:cb:²", "pg:cb:١", "pg:cb:99999", "pg:cb:0", "pg:nope:1", "pg:"):
        answer = await harness.agent.press_data(forged, page)
        assert answer is not None and answer["text"] == stale and answer["show_alert"]
    assert len(group.messages()) == 1  # no error message anywhere


async def test_staff_feedback_list_pages(harness: Harness) -> None:
    group = harness.staff_group
    await _joined(harness, 705, "Ann")
    async with harness.sessions.begin() as session:
        ann = await session.scalar(select(Customer))
        assert ann is not None
        for n in range(45):
            await feedback.submit(
                session, ann, f"note {n + 1} " + "z" * 50, source_ref=f"t{n}", now=harness.clock.now()
            )
    await harness.agent.send("/feedback", chat=group)
    assert group.last().text.endswith("Page 1/3") and "#20 [open]" in group.last().text
    await harness.agent.press("›", message=group.last())
    assert group.last().text.endswith("Page 2/3") and "#21 [open]" in group.last().text


async def test_a_long_outcome_closes_the_follow_up(harness: Harness) -> None:
    group = harness.staff_group
    lena = harness.customer(706, "Lena", username="lena")
    await harness.join(lena)
    await harness.agent.send("/callback @lena in 2h ask about the repair", chat=group)
    harness.clock.advance(hours=2)
    assert await followup_job.tick(harness.sessions, harness.clock, harness.settings.config) == 1
    await harness.run_outbox()
    await harness.agent.press("✅ Done", message=group.last())
    outcome = _long_text(3000)
    await harness.agent.send(outcome, chat=group)
    closed = group.last().text
    assert closed.startswith("✅ Follow-up #1 closed: ") and closed.endswith("…") and len(closed) < 1100
    async with harness.sessions.begin() as session:
        task = await session.get(FollowUp, 1)
    assert task is not None and task.status == "done" and task.outcome == outcome


async def test_edits_of_deleted_or_inaccessible_messages_are_quiet(harness: Harness) -> None:
    zoe = harness.customer(707, "Zoe")
    await harness.join(zoe)
    await zoe.send("/language")
    chooser = zoe.last()
    # The emulator's deleteMessage is for the bot; a user deleting it is the stored message going away.
    harness.emu.state.chats[zoe.user_id].messages.pop(chooser.message_id)
    count = len(zoe.messages())
    await zoe.press_data(chooser.button_data["中文"], chooser)
    assert len(zoe.messages()) == count  # no "something went wrong"
    async with harness.sessions.begin() as session:
        customer = await customers.get(session, zoe.user_id)
    assert customer is not None and customer.language == "zh"

    # A reminder card older than 48 hours: Telegram sends an InaccessibleMessage (date 0).
    group = harness.staff_group
    await harness.agent.send("/callback #1 in 1h ask", chat=group)
    harness.clock.advance(hours=1)
    await followup_job.tick(harness.sessions, harness.clock, harness.settings.config)
    await harness.run_outbox()
    card = group.last()
    harness.emu.state.chats[STAFF_CHAT_ID].messages.pop(card.message_id)
    old = dataclasses.replace(card, raw={"chat": card.raw["chat"], "message_id": card.message_id, "date": 0})
    await harness.agent.press_data(card.button_data["✅ Done"], old)
    assert "please reply with the outcome of follow-up #1" in group.last().text
