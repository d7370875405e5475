"""Every way a redemption or a staff points command is refused: a clear message, nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.core.models import AuditEntry
from storage.people.models import OutboxMessage
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import (
    add_reward,
    assert_ledger_consistent,
    balance,
    join,
    latest,
    staff,
    vouchers,
)

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def _member(harness: Harness, user_id: int, username: str, amount: str | None = None, lang: str = "en"):
    person = harness.customer(user_id, username.title(), username=username, language_code=lang)
    await join(harness, person, lang=lang)
    if amount:
        await staff(harness, harness.agent, f"/purchase @{username} {amount}")
    return person


async def test_not_enough_points_shows_why_and_offers_no_redeem(harness: Harness) -> None:
    await add_reward(harness, "title=Mug | cost=300")
    kim = await _member(harness, 501, "kim", "120")
    await kim.send("/rewards")
    await kim.press("Mug · 300 pts")
    detail = kim.last()
    assert "You need 180 more points" in detail.text and "Nothing was deducted" in detail.text
    assert detail.buttons == [["◀ Back"]]
    assert await balance(harness, 501) == 120


async def test_out_of_stock_and_tier_locked_are_shown_as_such(harness: Harness) -> None:
    await add_reward(harness, "title=Poster | cost=10 | stock=0")
    await staff(harness, harness.admin, "/reward add title=Lounge | cost=10 | tier=Gold")
    kim = await _member(harness, 502, "kim", "50")
    await kim.send("/rewards")
    assert kim.last().buttons == [["Poster · 10 pts · out of stock"], ["🔒 Lounge · 10 pts · Gold only"]]
    await kim.press("Poster · 10 pts · out of stock")
    assert "out of stock" in kim.last().text and kim.last().buttons == [["◀ Back"]]
    await kim.press("◀ Back")
    await kim.press("🔒 Lounge · 10 pts · Gold only")
    assert "for Gold members and above" in kim.last().text
    assert await vouchers(harness) == [] and await balance(harness, 502) == 50


async def test_stock_gone_or_reward_disabled_between_redeem_and_confirm(harness: Harness) -> None:
    await add_reward(harness, "title=Cake | cost=10 | stock=1")
    await staff(harness, harness.admin, "/reward add title=Tea | cost=10")
    ann = await _member(harness, 503, "ann", "50")
    bob = await _member(harness, 504, "bob", "50")
    for person in (ann, bob):
        await person.send("/rewards")
        await person.press("Cake · 10 pts")
        await person.press("Redeem")
    await ann.press("✅ Confirm")
    await bob.press("✅ Confirm")
    assert "out of stock" in bob.last().text and "Nothing was deducted" in bob.last().text
    assert (await balance(harness, 503), await balance(harness, 504)) == (40, 50)

    await bob.press("◀ Back")
    await bob.press("Tea · 10 pts")
    await bob.press("Redeem")
    assert "Saved." in await staff(harness, harness.admin, "/reward disable 2")
    await bob.press("✅ Confirm")
    assert "no longer available" in latest(bob, bob.last()).text
    assert await balance(harness, 504) == 50 and len(await vouchers(harness)) == 1
    await bob.send("/rewards")
    assert bob.last().buttons == [["Cake · 10 pts · out of stock"]]
    await assert_ledger_consistent(harness)


async def test_per_customer_limit(harness: Harness) -> None:
    await add_reward(harness, "title=Gift | cost=10 | limit=1")
    kim = await _member(harness, 505, "kim", "100")
    await kim.send("/rewards")
    await kim.press("Gift · 10 pts")
    await kim.press("Redeem")
    stale_confirm = kim.last()
    await kim.press("✅ Confirm")
    await kim.press("◀ Back")
    await kim.press("Gift · 10 pts")
    assert "maximum number of times (1)" in kim.last().text
    assert await balance(harness, 505) == 90
    # A Confirm issued before the first redemption, pressed afterwards with a fresh Redeem: still one.
    await kim.press_data(stale_confirm.button_data["✅ Confirm"], kim.last())
    assert len(await vouchers(harness)) == 1


async def test_staff_refusals_change_nothing(harness: Harness) -> None:
    await _member(harness, 506, "kim", "100")
    agent, admin, group = harness.agent, harness.admin, harness.staff_group
    assert "Usage: /purchase" in await staff(harness, agent, "/purchase @kim")
    assert "is not an amount" in await staff(harness, agent, "/purchase @kim 12.5.0")
    assert "is not an amount" in await staff(harness, agent, "/purchase @kim -5")
    assert "above the limit" in await staff(harness, agent, "/purchase @kim 999999999")
    assert "No customer @nobody" in await staff(harness, agent, "/purchase @nobody 10")
    assert "between 1 and 1000" in await staff(harness, agent, "/award @kim 5000 big fan")
    assert "Usage: /award" in await staff(harness, agent, "/award @kim 10")
    assert "needs the role admin" in await staff(harness, agent, "/deduct @kim 10 typo")
    assert "needs the role admin" in await staff(harness, agent, "/reward add title=X | cost=1")
    await harness.grant_admin()
    assert "never goes below zero" in await staff(harness, admin, "/deduct @kim 101 typo")
    assert "cost must be a whole number" in await staff(harness, admin, "/reward add title=X | cost=0")
    assert "no tier “Platinum”" in await staff(harness, admin, "/reward add title=X | cost=5 | tier=Platinum")
    assert "There is no reward #9" in await staff(harness, admin, "/reward disable 9")
    assert "No voucher with code" in await staff(harness, agent, "/fulfil ABCDEFGH")
    assert await balance(harness, 506) == 100
    await harness.customer(507, "Mallory").send("/purchase @kim 100")  # not staff, private chat
    assert await balance(harness, 506) == 100
    assert "staff command" in harness.emu.user(507, "Mallory").last().text
    await agent.send("/award @kim 10 <b>thanks</b> & more", chat=group)
    assert "Awarded 10 points" in agent.last(chat=group).text
    async with harness.sessions.begin() as session:
        actions = [
            (a.action, a.outcome) for a in await session.scalars(select(AuditEntry).order_by(AuditEntry.id))
        ]
    assert ("deduct", "refused") in actions and ("award", "ok") in actions and ("purchase", "ok") in actions


async def test_award_deduct_and_cancel_tell_the_customer_in_their_language(harness: Harness) -> None:
    li = await _member(harness, 508, "li", "300", lang="zh")
    await harness.grant_admin()
    await staff(harness, harness.agent, "/award @li 50 <生日快乐>")
    await staff(harness, harness.admin, "/deduct @li 20 录入错误")
    await staff(harness, harness.admin, "/reward add title=Coffee | cost=100")
    await li.send("/rewards")
    await li.press("Coffee · 100 积分")
    await li.press("兑换")
    await li.press("✅ 确认兑换")
    code = li.last().text.split("兑换码：")[1][:8]
    assert await balance(harness, 508) == 230
    assert "cancelled; 100 points refunded" in await staff(
        harness, harness.admin, f"/cancel {code} out of beans"
    )
    assert "already cancelled" in await staff(harness, harness.admin, f"/cancel {code} again")
    assert "was cancelled on" in await staff(harness, harness.agent, f"/fulfil {code}")
    assert await balance(harness, 508) == 330
    await harness.run_outbox()
    texts = [m.text for m in li.messages()]
    assert any("我们赠送您 50 积分：<生日快乐>" in t for t in texts)
    assert any("已从您的账户扣除 20 积分：录入错误" in t for t in texts)
    assert any("已取消：out of beans" in t and "100 积分已退回" in t for t in texts)
    async with harness.sessions.begin() as session:
        languages = set(await session.scalars(select(OutboxMessage.language)))
    assert languages == {"zh"}
    await assert_ledger_consistent(harness)
