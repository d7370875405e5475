"""What people read, written as their language writes it (issue 13): "1 point" and "2 points", amounts
in the shop's CURRENCY in the reader's locale, 李伟 (family name first) on the staff card, and never a
negative "balance after" for a reward the customer cannot have."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import add_reward, join, staff
from tests.emulator import UserDriver

pytestmark = pytest.mark.strict_transactions


async def _member(harness: Harness, user_id: int, lang: str = "en", **names: str) -> UserDriver:
    first = names.pop("first_name", "Kim")
    person = harness.customer(user_id, first, username=f"m{user_id}", language_code=lang, **names)
    await join(harness, person, lang=lang)
    return person


def _texts(person: UserDriver) -> str:
    return "\n".join(m.text for m in person.messages())


async def test_one_point_is_one_point_and_two_are_points(harness: Harness) -> None:
    kim = await _member(harness, 801)
    assert "Awarded 1 point to" in await staff(harness, harness.agent, "/award @m801 1 welcome")
    await harness.run_outbox()
    assert "You received 1 point from us: welcome. Balance: 1 point." in kim.last().text
    await kim.send("/points")
    points = kim.last_text().text
    assert "1 point · tier Member" in points and "1 points" not in points
    assert "499 more points to Silver" in points

    await staff(harness, harness.agent, "/award @m801 1 again")
    await kim.send("/points")
    assert "2 points · tier Member" in kim.last_text().text


@pytest.mark.harness_env(CURRENCY="EUR")
async def test_a_purchase_shows_the_amount_in_the_currency_of_the_shop(harness: Harness) -> None:
    kim = await _member(harness, 802, last_name="Lee")
    wei = await _member(harness, 803, lang="zh", first_name="伟", last_name="李")

    reply = await staff(harness, harness.agent, "/purchase @m802 1234.5 sofa")
    assert "Recorded €1,234.50 for #1 Kim Lee: +1,234 points (balance 1,234, Silver)" in reply
    await staff(harness, harness.agent, "/purchase @m803 1234,5")
    await harness.run_outbox()
    assert "Thank you for your purchase of €1,234.50! You earned 1,234 points." in _texts(kim)
    assert "感谢您消费 €1,234.50！本次获得 1,234 积分" in _texts(wei)  # Babel's zh_Hans_CN form

    await harness.agent.send("/find 李伟", chat=harness.staff_group)
    card = harness.agent.last(chat=harness.staff_group).text
    assert card.startswith("#2 · 李伟") and "伟 李" not in card  # family name first, no space
    assert "1,234 points · Silver · last 12 months: €1,234.50 in 1 purchase" in card


@pytest.mark.harness_env(CURRENCY="CNY")
async def test_yuan_as_each_language_writes_them(harness: Harness) -> None:
    kim = await _member(harness, 804)
    wei = await _member(harness, 805, lang="zh", first_name="伟", last_name="李")
    await staff(harness, harness.agent, "/purchase @m804 1234.5")
    await staff(harness, harness.agent, "/purchase @m805 88")
    await harness.run_outbox()
    assert "purchase of CN¥1,234.50!" in _texts(kim)  # English says which yuan
    assert "感谢您消费 ¥88.00！" in _texts(wei)  # in China, ¥ is the yuan


async def test_a_reward_out_of_reach_shows_no_balance_after(harness: Harness) -> None:
    await add_reward(harness, "title=Cake | cost=10")
    await add_reward(harness, "title=Crown | cost=1 | tier=Gold")
    kim = await _member(harness, 806)
    await staff(harness, harness.agent, "/award @m806 3 welcome")

    await kim.send("/rewards")
    assert kim.last().text.startswith("🎁 Rewards\nYour balance: 3 points.")
    await kim.press("Cake · 10 pts")
    detail = kim.last().text
    assert "Your balance: 3 points\n" in detail and "→" not in detail and "-7" not in detail
    assert "You need 7 more points for this reward" in detail

    await kim.press("◀ Back")
    await kim.press("🔒 Crown · 1 pt · Gold only")  # affordable, but not for this tier
    detail = kim.last().text
    assert "Cost: 1 point\n" in detail and "Your balance: 3 points\n" in detail and "→" not in detail
