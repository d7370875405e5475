"""Knowing customers end to end: an imported purchase history makes one customer a clear champion and
another clearly lost; staff see it on /find, in /stats customers (with its two charts) and in an
audience preview; a valuable customer drifting away raises one early-warning task, once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import select

from storage.care.models import FollowUp
from storage.loyalty.models import Voucher
from tests.e2e.harness import Harness
from tests.emulator import UserDriver

pytestmark = pytest.mark.strict_transactions


def _history(harness: Harness) -> bytes:
    """Twelve customers over two years: c0 buys big every week lately (champion); c1 bought once, small,
    two years ago (lost); c2 spent a lot every month for a year and then stopped 100 days ago (a
    valuable customer drifting away); the rest buy now and then."""
    today = harness.clock.now().date()
    rows = ["customer,date,amount"]

    def bought(who: str, days_ago: int, amount: str) -> None:
        rows.append(f"@{who},{today - timedelta(days=days_ago)},{amount}")

    for week in range(30):
        bought("c0", 2 + 7 * week, "180.00")
    bought("c1", 720, "9.00")
    for month in range(12):
        bought("c2", 100 + 30 * month, "400.00")
    for n in range(3, 12):
        for k in range(n % 4 + 1):
            bought(f"c{n}", 20 + 45 * k + n, f"{20 + n}.00")
    return ("\n".join(rows) + "\n").encode()


# Eleven buyers: key is the top one; with the next 15% major, the second one (c2) is major too.
@pytest.mark.harness_env(INSIGHT_PYRAMID_PERCENT="1,15,30")
async def test_segments_levels_audiences_and_an_early_warning_from_an_imported_history(
    harness: Harness,
) -> None:
    group = harness.staff_group
    people: list[UserDriver] = []
    for n in range(12):
        person = harness.customer(401 + n, f"C{n}", username=f"c{n}")
        await harness.join(person)
        people.append(person)
    await harness.grant_admin()
    await harness.admin.send_document("history.csv", _history(harness), caption="/import", chat=group)
    await harness.tick("bulk")
    assert "finished: 67 new, 0 already there (skipped), 0 bad rows" in harness.admin.last(chat=group).text
    for _ in range(3):  # the first run ever starts at once; its batches follow
        await harness.tick("scoring")

    await harness.agent.send("/find @c0", chat=group)
    assert "📊 Champions · level Key" in harness.agent.last(chat=group).text
    await harness.agent.send("/find @c1", chat=group)
    assert "📊 Lost · level Small" in harness.agent.last(chat=group).text

    await harness.agent.send("/stats customers 90d", chat=group)
    photos = [m for m in group.messages()[-3:] if m.photo is not None]
    summary = group.messages()[-3].text
    assert "Champions 1" in summary and "Lost 1" in summary and "Key 1" in summary
    # Each share with the customers behind it; the snapshot's date as people write it.
    assert "repeat purchase rate 80% (8 of 10) · churn 14% (1 of the previous period's 7 buyers)" in summary
    assert "since 1 Mar 2026" in summary
    assert len(photos) == 2  # the pyramid and the segments

    await harness.admin.send("/survey new fb csat", chat=group)
    await harness.admin.send("/survey activate fb", chat=group)
    await harness.admin.send("/survey send fb segment champions", chat=group)
    assert "1 customer" in harness.admin.last(chat=group).text  # the preview counts the audience

    await harness.tick("churn")
    await harness.tick("churn")  # once per episode
    async with harness.sessions.begin() as session:
        warnings = list(await session.scalars(select(FollowUp).where(FollowUp.kind == "warning")))
    assert [w.customer_id for w in warnings] == [3]  # c2, the valuable one drifting away
    assert "P(alive) 10%; no purchase for 100 days (usually every 40)" in warnings[0].reason


@pytest.mark.harness_env(INSIGHT_PYRAMID_PERCENT="1,15,30", CAMPAIGN_HOLDOUT="0")
async def test_a_campaign_with_an_offer_to_a_segment(harness: Harness) -> None:
    """The scored segment as a campaign's audience: the preview counts its one customer, the fan-out
    reaches them and nobody else, and the offer is claimed once under a double tap."""
    group = harness.staff_group
    people: list[UserDriver] = []
    for n in range(12):
        person = harness.customer(401 + n, f"C{n}", username=f"c{n}")
        await harness.join(person)
        people.append(person)
    await harness.grant_admin()
    await harness.admin.send_document("history.csv", _history(harness), caption="/import", chat=group)
    await harness.tick("bulk")
    for _ in range(3):
        await harness.tick("scoring")
    owner = harness.owner
    await owner.send("/reward add title=Coffee | cost=50 | stock=10 | limit=1", chat=group)
    draft = "/campaign new vip | segment champions | Thank you, champion! | offer Coffee"
    await owner.send(draft, chat=group)
    await owner.send("/campaign preview vip", chat=group)
    preview = owner.last(chat=group).text
    assert "to segment champions: 1 customer" in preview and "1 will get it" in preview, preview
    await owner.press("✅ Confirm", chat=group)
    for _ in range(3):
        await harness.tick("bulk")
        await harness.run_outbox()
    champion = people[0]  # c0, the one Champion of the imported history
    got = [m for m in champion.messages() if "Thank you, champion!" in m.text]
    assert len(got) == 1 and got[0].buttons[0] == ["🎁 Claim the offer"]
    assert all("champion" not in m.text for p in people[1:] for m in p.messages())
    claim = got[0].button_data["🎁 Claim the offer"]
    taps = [champion.press_data(claim, got[0]) for _ in range(2)]
    first, second = await asyncio.gather(*taps)
    async with harness.sessions.begin() as session:
        vouchers = list(await session.scalars(select(Voucher)))
    assert [v.customer_id for v in vouchers] == [1]
    assert sum(vouchers[0].code in ((a or {}).get("text") or "") for a in (first, second)) == 1
