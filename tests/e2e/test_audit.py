"""/audit: admins read the trail (who did what to whom, refusals included), filtered and paged in
place; agents and customers cannot."""

from __future__ import annotations

import pytest

from storage.core import audit
from tests.e2e.harness import Harness

pytestmark = pytest.mark.strict_transactions


async def test_the_trail_lists_actions_and_refusals_with_filters_and_pages(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await harness.join(kim)
    group = harness.staff_group
    for n in range(17):
        await harness.agent.send(f"/purchase @kimmy {n + 1}.00", chat=group)
    await harness.agent.send("/deduct @kimmy 5 oops", chat=group)  # refused: agents may not deduct
    await kim.send("/find kimmy")  # refused: a customer trying a staff command
    await harness.grant_admin()

    await harness.admin.send("/audit", chat=group)
    first = harness.admin.last(chat=group)
    assert first.text.startswith("🧾 Audit trail since")
    assert first.buttons == [["›"]]  # 15 a page, newest first
    assert "⛔" in first.text and "deduct" in first.text

    await harness.admin.press("›", message=first, chat=group)
    second = harness.admin.messages(chat=group.chat_id)[-1]
    assert second.message_id == first.message_id and "page 2" in second.text
    assert second.buttons == [["‹"]]

    await harness.admin.send("/audit refused", chat=group)
    refused = harness.admin.last(chat=group).text
    assert "purchase" not in refused and "deduct" in refused

    await harness.admin.send("/audit by @alice purchase", chat=group)
    mine = harness.admin.last(chat=group).text
    assert mine.count("Alice · purchase") == 15 and "deduct" not in mine

    await harness.admin.send("/audit #1 refund", chat=group)
    assert "No action “refund” in the trail" in harness.admin.last(chat=group).text
    await harness.admin.send("/audit 99999d", chat=group)
    assert "A period is a number of days" in harness.admin.last(chat=group).text


async def test_agents_cannot_read_the_trail(harness: Harness) -> None:
    await harness.agent.send("/audit", chat=harness.staff_group)
    assert "needs the role admin" in harness.agent.last(chat=harness.staff_group).text


async def test_the_trail_exports_as_csv(harness: Harness) -> None:
    import csv
    import io

    await harness.agent.send("/deduct @nobody 5 oops", chat=harness.staff_group)  # a refusal, audited
    await harness.grant_admin()
    await harness.admin.send("/export audit", chat=harness.staff_group)
    await harness.tick("bulk")
    document = harness.admin.last(chat=harness.staff_group)
    assert document.document is not None
    rows = list(csv.DictReader(io.StringIO(document.document.decode("utf-8").removeprefix("\ufeff"))))
    assert any(r["action"] == "deduct" and r["outcome"] == "refused" for r in rows)
    assert any(r["action"] == "export" for r in rows)  # the export itself is audited


async def test_a_page_of_entries_at_every_limit_is_one_whole_message(harness: Harness) -> None:
    """Fifteen entries whose actor, action, target and detail are all as long as they can be: the page
    shows all fifteen (each clipped), within Telegram's limit, nothing lost at its end."""
    async with harness.sessions.begin() as session:
        for n in range(audit.PAGE):
            await audit.record(
                session,
                actor_id=10_000 + n,
                action=f"a{n:02d}" + "x" * 61,
                outcome="refused",
                target="t" * 128,
                detail={"text": "&<>" * 400, "n": n},
                at=harness.clock.now(),
            )
    await harness.grant_admin()
    await harness.admin.send("/audit", chat=harness.staff_group)
    page = harness.admin.last(chat=harness.staff_group).text
    assert len(page) <= 4096
    assert all(f"a{n:02d}" in page for n in range(audit.PAGE)), page
    assert page.count("…") >= 3 * audit.PAGE
