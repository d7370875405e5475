"""Dates and times as people read them: in their language (Babel, CLDR) and on their own clock, in a
customer's chat and in the staff group, whether a handler answers or the sender renders an outbox row."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import join, staff

pytestmark = pytest.mark.strict_transactions

# 23:30 UTC on 10 March is already the 11th, 07:30, in Shanghai: every date below is the local one.
LATE = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)


@pytest.mark.harness_env(DEFAULT_TIMEZONE="Asia/Shanghai")
@pytest.mark.parametrize(("lang", "day"), [("en", "11 Mar 2026"), ("zh", "2026年3月11日")])
async def test_a_customer_reads_dates_in_their_language_on_their_clock(
    harness: Harness, lang: str, day: str
) -> None:
    harness.clock.set(LATE)
    kim = harness.customer(901, "Kim", username="kim901", language_code=lang)
    await join(harness, kim, lang=lang)
    await staff(harness, harness.agent, "/purchase @kim901 12 coffee")
    await harness.run_outbox()

    before = len(kim.messages())
    await kim.send("/points")  # the balance and history, then the member code
    shown = "\n".join(m.text or "" for m in kim.messages()[before:])
    assert day in shown and "2026-03" not in shown  # the history line, never ISO
    await kim.send("/privacy")
    shown = kim.last().text
    assert day in shown and "2026-03" not in shown  # the day consent was given


@pytest.mark.harness_env(DEFAULT_TIMEZONE="Asia/Shanghai")
async def test_staff_read_follow_up_times_as_dates_and_clock_times(harness: Harness) -> None:
    harness.clock.set(LATE)  # 07:30 on the 11th on the staff clock (Asia/Shanghai)
    lena = harness.customer(902, "Lena", username="lena902")
    await join(harness, lena)
    group = harness.staff_group
    # typed back by staff: ISO still understood; shown back: as people write it
    await harness.agent.send("/callback @lena902 2026-03-12 15:00 ask about the repair", chat=group)
    assert "scheduled at 12 Mar 2026, 15:00 (Asia/Shanghai)" in harness.agent.last(chat=group).text
    await harness.agent.send("/callbacks", chat=group)
    assert "#1 12 Mar 2026, 15:00 · " in harness.agent.last(chat=group).text

    harness.clock.set(datetime(2026, 3, 12, 7, 0, tzinfo=UTC))  # 15:00 in Shanghai: due
    await harness.tick("followups")
    await harness.run_outbox()  # the reminder is an outbox row: its time carries the staff clock's offset
    assert "Follow-up #1 is due (12 Mar 2026, 15:00)" in harness.agent.last(chat=group).text
