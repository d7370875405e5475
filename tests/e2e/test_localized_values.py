"""Per-language values staff and settings write: reward titles and descriptions, tier names, custom
survey questions. Each customer reads their own language, falling back to the default language's
value; staff see the default."""

from __future__ import annotations

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import add_reward, join, staff

pytestmark = pytest.mark.strict_transactions


async def test_reward_titles_and_tiers_in_each_language_with_a_fallback(harness: Harness) -> None:
    lin = harness.customer(601, "Lin", username="lin", language_code="zh")
    ann = harness.customer(602, "Ann", username="ann")
    await join(harness, lin, lang="zh")
    await join(harness, ann)
    saved = await add_reward(
        harness,
        "title=Free coffee | title_zh=免费咖啡 | cost=10 | description=A cup | description_zh=一杯咖啡",
    )
    assert "#1 Free coffee · 10 pts" in saved  # staff read the default language
    await staff(harness, harness.admin, "/reward add title=Lounge | cost=5 | tier=Gold")
    await staff(harness, harness.agent, "/award @lin 50 welcome")

    await ann.send("/rewards")
    assert ann.last().buttons == [["🔒 Lounge · 5 pts · Gold only"], ["Free coffee · 10 pts"]]
    await lin.send("/rewards")
    assert lin.last().buttons == [["🔒 Lounge · 5 积分 · 仅限金卡会员"], ["免费咖啡 · 10 积分"]]
    await lin.press("免费咖啡 · 10 积分")
    assert "免费咖啡" in lin.last().text and "一杯咖啡" in lin.last().text
    await lin.press("兑换")
    assert "免费咖啡" in lin.last().text
    await lin.press("✅ 确认兑换")
    assert "免费咖啡" in lin.last().text and "Free coffee" not in lin.last().text
    await lin.send("/myrewards")
    assert "免费咖啡" in lin.last().text

    await lin.send("/points")
    points = lin.last_text().text
    assert "等级 会员" in points and "银卡会员" in points
    await ann.send("/points")
    assert "tier Member" in ann.last_text().text and "Silver" in ann.last_text().text

    # The Chinese title removed: Chinese readers fall back to the default; the voucher keeps its own.
    await staff(harness, harness.admin, "/reward edit 1 title_zh=-")
    await lin.send("/rewards")
    assert ["Free coffee · 10 积分"] in lin.last().buttons
    await lin.send("/myrewards")
    assert "免费咖啡" in lin.last().text


async def test_a_misspelt_language_field_is_refused(harness: Harness) -> None:
    answer = await add_reward(harness, "title=Tea | cost=5 | title_fr=Thé")
    assert answer == harness.t("en", "reward.spec_invalid", part="title_fr=Thé")


@pytest.mark.harness_env(LOYALTY_TIER_NAMES_ZH="Member:普通会员, Silver:白银会员")
async def test_tier_names_from_the_settings(harness: Harness) -> None:
    lin = harness.customer(603, "Lin", language_code="zh")
    await join(harness, lin, lang="zh")
    await lin.send("/points")
    assert "等级 普通会员" in lin.last_text().text and "白银会员" in lin.last_text().text


async def test_custom_survey_questions_in_each_language(harness: Harness) -> None:
    lin = harness.customer(604, "Lin", language_code="zh")
    ann = harness.customer(605, "Ann")
    await join(harness, lin, lang="zh")
    await join(harness, ann)
    group = harness.staff_group
    await harness.owner.send(
        "/survey new lunch custom\n"
        "intro Tell us about lunch\n"
        "zh 说说您的午餐\n"
        "choice Which dish? | Noodles | Rice\n"
        "zh 哪道菜？ | 面条 | 米饭\n"
        "text? Anything else?",
        chat=group,
    )
    assert "Survey lunch (custom, 2 questions) created" in harness.owner.last(chat=group).text
    await harness.owner.send("/survey activate lunch", chat=group)
    await lin.send("/survey")
    first = lin.last()
    assert "说说您的午餐" in first.text and "哪道菜？" in first.text
    assert first.buttons[:2] == [["面条"], ["米饭"]]
    await lin.press("米饭")
    question, prompt = lin.messages()[-2:]
    assert "Anything else?" in question.text and prompt.force_reply  # no Chinese: the default
    await ann.send("/survey")
    assert "Tell us about lunch" in ann.last().text and ann.last().buttons[:2] == [["Noodles"], ["Rice"]]


async def test_a_translation_line_must_follow_what_it_translates(harness: Harness) -> None:
    group = harness.staff_group
    await harness.owner.send("/survey new lunch custom\nzh 午餐\ntext Anything?", chat=group)
    text = harness.owner.last(chat=group).text
    assert harness.t("en", "surveys.def_translation_orphan", language="zh") in text
    await harness.owner.send("/survey new lunch custom\nchoice Which? | A | B\nzh 哪个？ | 甲", chat=group)
    assert "as many as the options" in harness.owner.last(chat=group).text


async def test_a_survey_invitation_through_the_outbox_reads_in_the_customers_language(
    harness: Harness,
) -> None:
    lin = harness.customer(606, "Lin", language_code="zh")
    await join(harness, lin, lang="zh")
    group = harness.staff_group
    for command in (
        "/survey new visit custom\nrating 1-5 How was your visit?\nzh 这次到店体验如何？",
        "/survey activate visit",
        "/survey send visit all",
    ):
        await harness.owner.send(command, chat=group)
    await harness.owner.press("✅ Confirm", chat=group)
    await harness.tick("bulk")
    assert await harness.run_outbox() == 1
    assert "这次到店体验如何？" in lin.last().text and "How was" not in lin.last().text
