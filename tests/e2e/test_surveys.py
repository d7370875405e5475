"""Surveys end to end, as customers and staff see them: CSAT with a comment, NPS without one, a custom
survey with every question type, a restart mid-survey, stale and expired buttons, the reward paid once,
throttling, and custom definitions with clear errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.loyalty import ledger
from storage.loyalty.models import LedgerEntry
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer
from storage.surveys.models import SurveyAnswer, SurveyInvitation
from tests.e2e.harness import Harness
from tests.emulator import UserDriver

pytestmark = pytest.mark.strict_transactions  # /survey and the answers talk after their transactions

STARS_4 = "⭐⭐⭐⭐"


async def _define(harness: Harness, *commands: str) -> None:
    for command in commands:
        await harness.owner.send(command, chat=harness.staff_group)


async def _send(harness: Harness, survey: str, audience: str = "all") -> str:
    """/survey send, Confirm, the bulk tick (the invitations are queued in the background), drain the
    outbox, and the tick again once the progress may be edited (the final summary); returns the
    preview text."""
    group = harness.staff_group
    await harness.owner.send(f"/survey send {survey} {audience}", chat=group)
    preview = harness.owner.last(chat=group).text
    await harness.owner.press("✅ Confirm", chat=group)
    await harness.tick("bulk")
    await harness.run_outbox()
    harness.clock.advance(seconds=harness.settings.config.bulk.report_seconds)
    await harness.tick("bulk")
    return preview


async def _balance(harness: Harness, telegram_id: int) -> int:
    async with harness.sessions.begin() as session:
        customer_id = await session.scalar(select(Customer.id).where(Customer.telegram_id == telegram_id))
        return await ledger.balance(session, customer_id)


async def _joined(harness: Harness, user_id: int, name: str, lang: str = "en") -> UserDriver:
    """A customer who has joined (onboarding itself is tested in test_onboarding)."""
    person = harness.customer(user_id, name, language_code=lang)
    async with harness.sessions.begin() as session:
        profile = TelegramProfile(user_id, name, language_code=lang)
        await customers.join(session, profile, harness.settings.config, harness.clock.now())
    return person


async def test_csat_with_a_comment_across_a_restart(harness: Harness) -> None:
    kim = await _joined(harness, 401, "Kim")
    await _define(harness, "/survey new service csat", "/survey activate service")
    preview = await _send(harness, "service")
    assert "1 will be invited" in preview
    assert "1 invitation sent" in harness.owner.last(chat=harness.staff_group).text

    invitation = kim.last()
    assert "How satisfied" in invitation.text
    assert invitation.buttons == [["⭐⭐⭐⭐⭐"], [STARS_4], ["⭐⭐⭐"], ["⭐⭐"], ["⭐"]]
    await kim.press(STARS_4)
    survey_message = next(m for m in kim.messages() if m.message_id == invitation.message_id)
    assert "Anything you'd like to add" in survey_message.text and survey_message.edits >= 1  # same message
    assert kim.last().force_reply and "write your answer" in kim.last().text

    await harness.restart()  # the half-answered survey continues
    await kim.reply(kim.last(), "Great coffee <3")
    thanks = kim.last()
    assert "Thank you for your answers" in thanks.text and "You earned 20 points" in thanks.text
    assert await _balance(harness, 401) == 20
    async with harness.sessions.begin() as session:
        answers = [(a.kind, a.score, a.text) for a in await session.scalars(select(SurveyAnswer))]
    assert answers == [("csat", 4, None), ("text", None, "Great coffee <3")]
    assert not harness.staff_group.messages()[-1].text.startswith("Feedback #")  # a 4 is no detractor


async def test_nps_without_comment_and_the_last_button_pressed_twice(harness: Harness) -> None:
    lee = await _joined(harness, 402, "Lee")
    await _define(harness, "/survey new loyal nps", "/survey activate loyal")
    await lee.send("/survey")
    question = lee.last()
    assert "How likely are you to recommend us" in question.text
    assert question.buttons == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    await lee.press("9")
    assert lee.last().force_reply
    comment = next(m for m in lee.messages() if m.message_id == question.message_id)
    assert comment.buttons == [["✍️ Write an answer"], ["Skip"]]
    skip_data = comment.button_data["Skip"]
    await lee.press("Skip", message=comment)
    assert (
        "You earned 20 points" in next(m for m in lee.messages() if m.message_id == question.message_id).text
    )
    again = await lee.press_data(skip_data, comment)  # the same last button, pressed again
    assert again is not None and "already recorded" in again["text"]
    async with harness.sessions.begin() as session:
        entries = await session.scalar(select(func.count()).select_from(LedgerEntry))
    assert entries == 1 and await _balance(harness, 402) == 20
    await lee.send("/survey")
    assert "already answered this survey" in lee.last().text
    # With the comment skipped, the pending written answer is forgotten: the next message is not one.
    await lee.send("hello")
    assert "didn't catch that" in lee.last().text


async def test_custom_survey_with_every_question_type(harness: Harness) -> None:
    mia = await _joined(harness, 403, "Mia")
    await _define(
        harness,
        "/survey new lunch custom\n"
        "intro Tell us about lunch\n"
        "rating 1-5 How was the food?\n"
        "choice Which dish? | Noodles | Rice\n"
        "text Your table number?\n"
        "text? Anything else?",
        "/survey activate lunch",
    )
    assert "Survey lunch is active" in harness.owner.last(chat=harness.staff_group).text
    await mia.send("/survey")
    first = mia.last()
    assert "Tell us about lunch" in first.text and "(1/4) How was the food?" in first.text
    await mia.press("2")  # a low custom rating alerts nobody: only CSAT and NPS do
    assert "(2/4) Which dish?" in mia.last().text
    await mia.press("Rice")
    assert mia.last().force_reply
    await mia.send("Table 7")
    last_question, prompt = mia.messages()[-2:]
    assert "(4/4) Anything else?" in last_question.text and prompt.force_reply
    await mia.press("Skip")
    done = next(m for m in mia.messages() if m.message_id == last_question.message_id)
    assert "You earned 20 points" in done.text and not done.buttons
    async with harness.sessions.begin() as session:
        rows = [
            (a.kind, a.score, a.text, a.skipped)
            for a in await session.scalars(select(SurveyAnswer).order_by(SurveyAnswer.id))
        ]
    assert rows == [
        ("rating", 2, None, False),
        ("choice", 1, None, False),
        ("text", None, "Table 7", False),
        ("text", None, None, True),
    ]
    assert all(not m.text.startswith("Feedback #") for m in harness.staff_group.messages())


async def test_stale_and_expired_buttons_answer_politely(harness: Harness) -> None:
    ned = await _joined(harness, 404, "Ned")
    await _define(harness, "/survey new service csat", "/survey activate service")
    await _send(harness, "service")
    invitation = ned.last()
    forged = await ned.press_data("sv:nosuchtoken:0:5", invitation)
    assert forged is not None and "expired" in forged["text"]
    stranger = harness.customer(499, "Eve")
    not_hers = await stranger.press_data(invitation.button_data["⭐"], invitation)
    assert not_hers is not None and "isn't for you" in not_hers["text"]

    harness.clock.advance(days=7, seconds=1)
    late = await ned.press(STARS_4)
    assert late is not None and "This survey has closed" in late["text"]
    edited = next(m for m in ned.messages() if m.message_id == invitation.message_id)
    assert "This survey has closed" in edited.text and not edited.buttons
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyAnswer)) == 0


async def test_closed_survey_button(harness: Harness) -> None:
    ora = await _joined(harness, 405, "Ora")
    await _define(harness, "/survey new service csat", "/survey activate service")
    await _send(harness, "service")
    await _define(harness, "/survey close service")
    answer = await ora.press("⭐⭐⭐⭐⭐")
    assert answer is not None and "This survey has closed" in answer["text"]


async def test_throttle_skips_a_second_survey_inside_the_window(harness: Harness) -> None:
    await _joined(harness, 406, "Pia")
    await _define(
        harness,
        "/survey new service csat",
        "/survey activate service",
        "/survey new loyal nps",
        "/survey activate loyal",
    )
    await _send(harness, "service")
    group = harness.staff_group
    await harness.owner.send("/survey send loyal all", chat=group)
    preview = harness.owner.last(chat=group).text
    assert "1 skipped: already invited to a survey in the last 30 days" in preview
    assert "Nobody to invite" in preview and not harness.owner.last(chat=group).buttons
    harness.clock.advance(days=31)
    await harness.owner.send("/survey send loyal #1", chat=group)
    assert "1 will be invited" in harness.owner.last(chat=group).text
    preview_message = harness.owner.last(chat=group)
    confirm = preview_message.button_data["✅ Confirm"]
    await harness.owner.press("✅ Confirm", chat=group)
    again = await harness.owner.press_data(confirm, preview_message)  # the same Confirm, pressed twice
    assert again is not None and "expired" in again["text"]
    await harness.tick("bulk")
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(SurveyInvitation)) == 2


async def test_staff_definitions_permissions_and_errors(harness: Harness) -> None:
    group = harness.staff_group
    await harness.agent.send("/survey new service csat", chat=group)
    assert "needs the role admin" in harness.agent.last(chat=group).text
    await harness.agent.send("/survey list", chat=group)
    assert "No surveys yet" in harness.agent.last(chat=group).text
    await harness.owner.send("/survey new lunch custom\nrating five How?\nchoice Only | one", chat=group)
    errors = harness.owner.last(chat=group).text
    assert "line 1: write a rating as" in errors and "line 2: a choice needs 2 to 8 options" not in errors
    await harness.owner.send("/survey new lunch custom\nchoice Only one option", chat=group)
    assert "line 1: question 1: a choice needs 2 to 8 options" in harness.owner.last(chat=group).text

    await harness.owner.send_document(
        "bad.json", b'{"name": "visit", "questions": [{"type": "slider"}]}', caption="/survey", chat=group
    )
    assert 'type "slider" must be rating, choice or text' in harness.owner.last(chat=group).text
    good = {"name": "visit", "intro": "Your visit", "questions": [{"type": "rating", "text": "Clean?"}]}
    await harness.owner.send_document("visit.json", json.dumps(good).encode(), caption="/survey", chat=group)
    assert "Survey visit (custom, 1 question) created" in harness.owner.last(chat=group).text
    await harness.agent.send_document("visit.json", json.dumps(good).encode(), caption="/survey", chat=group)
    assert "needs the role admin" in harness.agent.last(chat=group).text
    await harness.owner.send("/survey send visit all", chat=group)
    assert "not active" in harness.owner.last(chat=group).text
    await harness.owner.send("/survey activate visit", chat=group)
    await harness.owner.send("/survey send visit tier gold", chat=group)
    assert "Send visit to tier gold: 0 customers." in harness.owner.last(chat=group).text
    await harness.owner.send("/survey send visit tier platinum", chat=group)
    assert "There is no tier “platinum”. Tiers: Member, Silver, Gold." in harness.owner.last(chat=group).text
    await harness.owner.send("/survey list", chat=group)
    assert "visit (custom) — active: 0 invited, 0 completed" in harness.owner.last(chat=group).text
