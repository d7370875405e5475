"""The complaint clock's schedule (storage.care.complaints): which alert comes next, and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from storage.care import complaints
from storage.care.models import FeedbackItem
from storage.core.config import ComplaintConfig

T0 = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)
CONFIG = ComplaintConfig()


def _item(priority: str = "normal") -> FeedbackItem:
    item = FeedbackItem(status="open", alerts_sent=0, priority=priority)
    complaints.start(item, T0, priority, CONFIG)
    return item


def _walk(item: FeedbackItem, now: datetime) -> list[tuple[str, datetime]]:
    """Every alert from `now` on, as the tick would send them one after another."""
    sent = []
    while (due := complaints.next_alert(item, now, CONFIG)) is not None:
        index, at = due
        sent.append((complaints.ALERTS[index], at))
        item.alerts_sent = index + 1
        now = max(now, at)
    return sent


@pytest.mark.parametrize(
    ("priority", "hours"),
    [("normal", [6, 8, 54, 72]), ("high", [1.5, 2, 18, 24])],  # reminders at 75% of 8 h / 72 h, 2 h / 24 h
)
def test_a_round_reminds_then_escalates_each_target(priority: str, hours: list[float]) -> None:
    sent = _walk(_item(priority), T0)
    assert [name for name, _ in sent] == list(complaints.ALERTS)
    assert [at - T0 for _, at in sent] == [timedelta(hours=h) for h in hours]


def test_a_response_skips_the_first_response_alerts() -> None:
    item = _item()
    item.first_response_at = T0 + timedelta(hours=1)
    assert [name for name, _ in _walk(item, T0)] == ["resolve_reminder", "resolve_overdue"]


def test_a_reminder_whose_deadline_passed_is_skipped_for_the_escalation() -> None:
    item = _item()
    late = T0 + timedelta(hours=9)  # the clock first looks after the 8-hour target passed
    assert _walk(item, late)[0] == ("respond_overdue", T0 + timedelta(hours=8))


def test_a_resolved_item_has_no_alerts() -> None:
    item = _item()
    item.status = "resolved"
    assert complaints.next_alert(item, T0, CONFIG) is None


@pytest.mark.parametrize(
    ("level", "priority"), [("key", "high"), ("major", "high"), ("regular", "normal"), (None, "normal")]
)
def test_priority_follows_the_value_level(level: str | None, priority: str) -> None:
    assert complaints.priority_for(level) == priority


@pytest.mark.parametrize("data", ["cs:1:x", "cs::y", "cs:1", "cs:99999999999:y", "cs:-1:y", "xx:1:y"])
def test_forged_votes_are_not_read(data: str) -> None:
    assert complaints.parse_vote(data) is None
