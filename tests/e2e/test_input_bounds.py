"""Input that does not parse (non-ASCII digits, numbers beyond the id columns, dates at the calendar's
edges, forged button data, a /start payload that does not fit a button): the usual "bad input" reply or
a "stale" answer, nothing changed, nothing logged as an error."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import func, select

from storage.care.models import FollowUp
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import balance, customer_row, join, latest, staff
from tests.emulator import UserDriver

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

HUGE = "9" * 25


@pytest.fixture(autouse=True)
def no_errors_logged(caplog: pytest.LogCaptureFixture):
    caplog.set_level(logging.WARNING)
    yield
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def _kim(harness: Harness) -> tuple[UserDriver, int]:
    kim = harness.customer(701, "Kim", username="kim")
    await join(harness, kim)
    await staff(harness, harness.agent, "/purchase @kim 50")
    return kim, (await customer_row(harness, 701)).id


async def test_award_with_a_non_ascii_or_huge_number_gets_the_usage(harness: Harness) -> None:
    _, kim_id = await _kim(harness)
    usage = harness.t("en", "loyalty.award_usage")
    assert await staff(harness, harness.agent, f"/award #{kim_id} ² thanks") == usage
    assert await staff(harness, harness.agent, f"/award #{kim_id} {HUGE} thanks") == usage
    await harness.grant_admin()
    deduct_usage = harness.t("en", "loyalty.deduct_usage")
    assert await staff(harness, harness.admin, f"/deduct #{kim_id} {HUGE} oops") == deduct_usage
    assert await staff(harness, harness.admin, f"/deduct #{kim_id} ١ oops") == deduct_usage
    assert await balance(harness, 701) == 50


async def test_ids_beyond_the_columns_get_a_clear_reply(harness: Harness) -> None:
    await _kim(harness)
    for reference in (f"#{HUGE}", HUGE, "#²"):
        assert await staff(harness, harness.agent, f"/award {reference} 5 thanks") == harness.t(
            "en", "loyalty.customer_unknown", reference=reference
        )
    assert await staff(harness, harness.owner, f"/promote {HUGE}") == harness.t(
        "en", "staff.refused_unknown", reference=HUGE
    )
    assert await staff(harness, harness.owner, "/promote ²") == harness.t(
        "en", "staff.refused_unknown", reference="²"
    )
    await harness.grant_admin()
    assert await staff(harness, harness.admin, f"/reward disable #{HUGE}") == harness.t(
        "en", "reward.staff_usage"
    )
    assert await balance(harness, 701) == 50


async def test_a_follow_up_at_the_calendar_s_edges_is_refused(harness: Harness) -> None:
    _, kim_id = await _kim(harness)
    past = await staff(harness, harness.agent, f"/callback #{kim_id} 0001-01-01 00:00 call")
    assert past == harness.t("en", "followups.when_past")
    far = await staff(harness, harness.agent, f"/callback #{kim_id} 9999-12-31 23:59 call")
    assert far == harness.t("en", "followups.when_too_far")
    too_long = await staff(harness, harness.agent, f"/callback #{kim_id} tomorrow {'x' * 1001}")
    assert too_long == harness.t("en", "common.too_long", max=1000, length=1001)
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(FollowUp)) == 0


async def test_start_with_a_long_chinese_payload_still_offers_a_working_accept(harness: Harness) -> None:
    lin = harness.customer(702, "Lin", language_code="zh")
    await lin.send("/start " + "邀请码" * 20)  # 60 characters, 180 bytes: not a referral code
    notice = lin.last()
    assert harness.t("zh", "onboarding.privacy") in notice.text
    await lin.press(harness.t("zh", "onboarding.accept"), message=notice)
    assert latest(lin, notice).text == harness.t("zh", "onboarding.accepted", name="Lin")
    assert await customer_row(harness, 702) is not None


async def test_forged_button_data_is_stale(harness: Harness) -> None:
    kim, _ = await _kim(harness)
    await kim.send("/points")
    stale = harness.t("en", "button.stale")
    for data in (f"pts:{HUGE}", "pts:²", "rw:open:²", f"rw:open:{HUGE}", "rw:nothing", "sv:tok:²:1"):
        answer = await kim.press_data(data, kim.last_text())
        assert answer is not None and answer["text"] == stale, data
    await staff(harness, harness.agent, "/callbacks")
    card = harness.staff_group.last()
    for data in ("fc:claim:²", f"fc:claim:{HUGE}"):
        answer = await harness.agent.press_data(data, card)
        assert answer is not None and answer["text"] == stale, data
    assert await balance(harness, 701) == 50
