"""Loyalty end to end: earn → /points → /rewards → redeem → voucher → staff /fulfil, and the ways a
redemption must not happen twice (double press, duplicate update, forged button, restart)."""

from __future__ import annotations

import logging
import re

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import (
    add_reward,
    assert_ledger_consistent,
    balance,
    join,
    staff,
    vouchers,
)

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

CODE = re.compile(r"Voucher code: ([A-Z2-9]{8})")


async def _earn_and_open_coffee(harness: Harness, user_id: int = 401, amount: str = "250,50"):
    kim = harness.customer(user_id, "Kim", username=f"kim{user_id}")
    await join(harness, kim)
    if not (await staff(harness, harness.owner, "/reward list")).count("Coffee"):
        await add_reward(harness, "title=Coffee | cost=100 | stock=5 | description=A cup of our best")
    await staff(harness, harness.agent, f"/purchase @kim{user_id} {amount} latte")
    await kim.send("/rewards")
    await kim.press("Coffee · 100 pts")
    return kim


async def test_earn_points_redeem_and_fulfil(harness: Harness) -> None:
    kim = harness.customer(401, "Kim", username="kimmy")
    await join(harness, kim)
    added = await add_reward(harness, "title=Coffee | cost=100 | stock=5 | description=A cup of our best")
    assert "Saved." in added and "#1 Coffee" in added

    reply = await staff(harness, harness.agent, "/purchase @kimmy 250,50 latte")
    assert "Recorded 250.50" in reply and "+250 points" in reply
    await harness.run_outbox()
    assert "You earned 250 points" in kim.last().text

    await kim.send("/points")
    points = kim.last_text().text
    assert "250 points · tier Member" in points
    assert "250 more points to Silver" in points and "▰" in points
    assert "+250 · purchase — latte" in points

    await kim.send("/rewards")
    assert kim.last().buttons == [["Coffee · 100 pts"]]
    await kim.press("Coffee · 100 pts")
    detail = kim.last().text
    assert "A cup of our best" in detail and "Left: 5" in detail and "250 → 150" in detail
    await kim.press("Redeem")
    assert "Redeem Coffee for 100 points?" in kim.last().text
    assert await balance(harness, 401) == 250  # nothing deducted before Confirm
    await kim.press("✅ Confirm")
    voucher_text = kim.last().text
    code = CODE.search(voucher_text).group(1)
    assert "Show this code at the counter" in voucher_text and "Valid until" in voucher_text
    assert await balance(harness, 401) == 150

    await kim.send("/myrewards")
    assert code in kim.last().text and "active" in kim.last().text

    assert "is now marked used" in await staff(harness, harness.agent, f"/fulfil {code}")
    again = await staff(harness, harness.owner, f"/fulfil {code.lower()}")
    assert "was already used on" in again and "by Alice" in again
    await harness.run_outbox()
    assert "has been used" in kim.last().text
    await kim.send("/myrewards")
    assert "used" in kim.last().text
    await assert_ledger_consistent(harness)


async def test_confirm_pressed_twice_redeems_once(harness: Harness) -> None:
    kim = await _earn_and_open_coffee(harness)
    await kim.press("Redeem")
    confirm_message = kim.last()
    confirm_data = confirm_message.button_data["✅ Confirm"]
    await kim.press_data(confirm_data, confirm_message)
    first = kim.last().text
    answer = await kim.press_data(confirm_data, confirm_message)  # the same button again / a duplicate
    assert answer["text"] == "Already redeemed — here is your voucher."
    assert CODE.search(kim.last().text).group(1) == CODE.search(first).group(1)
    assert len(await vouchers(harness)) == 1
    assert await balance(harness, 401) == 150
    await assert_ledger_consistent(harness)


async def test_a_forged_confirm_for_another_customer_is_refused(harness: Harness) -> None:
    kim = await _earn_and_open_coffee(harness)
    await kim.press("Redeem")
    kims_confirm = kim.last().button_data["✅ Confirm"]
    mallory = await _earn_and_open_coffee(harness, user_id=402)
    answer = await mallory.press_data(kims_confirm, mallory.last())
    assert answer["text"] == "This button isn't for you." and answer["show_alert"]
    assert await vouchers(harness) == []
    assert await balance(harness, 401) == await balance(harness, 402) == 250
    forged = await mallory.press_data("b:not-a-real-token", mallory.last())
    assert forged["text"] == "This button has expired. Please start again."


async def test_a_restart_between_redeem_and_confirm(harness: Harness) -> None:
    kim = await _earn_and_open_coffee(harness)
    await kim.press("Redeem")
    await harness.restart()
    await kim.press("✅ Confirm")
    assert CODE.search(kim.last().text)
    assert await balance(harness, 401) == 150
    # Browsing buttons from before the restart still work too.
    await kim.press("◀ Back")
    assert "Coffee · 100 pts" in kim.last().buttons[0]


async def test_points_history_pages_by_editing_the_message(harness: Harness) -> None:
    kim = harness.customer(403, "Kim", username="kimpages")
    await join(harness, kim)
    for i in range(12):
        await staff(harness, harness.agent, f"/award @kimpages {i + 1} visit {i + 1}")
    await kim.send("/points")
    page = kim.last_text()
    assert "History (1–10)" in page.text and "+12 · gift from us — visit 12" in page.text
    assert page.buttons == [["More ▶"]]
    await kim.press("More ▶")
    edited = kim.last_text()
    assert edited.message_id == page.message_id and edited.edits >= 1
    assert "History (11–12)" in edited.text and "visit 1 " in edited.text + " "
    assert edited.buttons == [["◀ Newer"]]
    await kim.press("◀ Newer")
    assert "History (1–10)" in kim.last_text().text


async def test_referral_link_pays_both_after_the_first_purchase(harness: Harness) -> None:
    ann = harness.customer(404, "Ann", username="ann")
    await join(harness, ann)
    await ann.send("/invite")
    link = re.search(r"https://t\.me/\S+\?start=(ref_[A-Z2-9]{8})", ann.last().text)
    assert link is not None
    bob = harness.customer(405, "Bob", username="bob")
    await join(harness, bob, payload=link.group(1))
    await staff(harness, harness.agent, "/purchase @bob 10")
    await staff(harness, harness.agent, "/purchase @bob 10")
    assert await balance(harness, 404) == 100
    assert await balance(harness, 405) == 120
    await harness.run_outbox()
    assert any("Bob, whom you invited" in m.text for m in ann.messages())
    assert any("because Ann invited you" in m.text for m in bob.messages())
    await ann.send("/invite")
    assert "Joined through your link: 1 · bonus paid: 1" in ann.last().text


async def test_own_button_pressed_outside_the_private_chat_is_answered_once(
    harness: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    """A customer's database button (Redeem) pressed elsewhere, by its owner, on a message in a group:
    one answer ("not yours" here), nothing redeemed, nothing failed (a second answer would be refused)."""
    kim = await _earn_and_open_coffee(harness)
    redeem = kim.last().button_data["Redeem"]
    group_message = harness.agent.last(chat=harness.staff_group)
    caplog.set_level(logging.WARNING)
    answer = await kim.press_data(redeem, group_message)
    assert answer is not None and answer["text"] == "This button isn't for you." and answer["show_alert"]
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    await kim.press("Redeem")  # in her own chat it still works
    assert "✅ Confirm" in kim.last().button_data
