"""A campaign's send time: parsed from the draft line, and each customer's instant in their own zone
(DST gaps and folds, the next occurrence, late on the day, too late)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from storage.campaigns import drafts, sendtime
from storage.campaigns.sendtime import SendTime, SendTimeRefused

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def test_the_send_time_is_read_from_the_draft_line() -> None:
    assert drafts.parse("a | all | Hi | at 10:00").send == SendTime(None, 600)
    assert drafts.parse("a | all | Hi | at 2026-12-24 7").send == SendTime(date(2026, 12, 24), 420)
    assert drafts.parse("a | all | Hi | at last, spring").texts == {"en": "Hi", "zh": "at last, spring"}
    assert drafts.parse("a | all | Hi").send is None
    for bad in ("24:00", "10:60", "2026-02-30 10:00", "10.30", "2026-12-24"):
        with pytest.raises(SendTimeRefused):
            sendtime.parse(bad)
    assert str(sendtime.parse("2026-12-24 9:05")) == "2026-12-24 09:05"


def test_a_day_over_everywhere_or_a_year_ahead_is_refused() -> None:
    sendtime.check(SendTime(date(2026, 3, 9), 600), NOW)  # still the 9th in UTC-12 until 12:00 UTC
    with pytest.raises(SendTimeRefused):
        sendtime.check(SendTime(date(2026, 3, 8), 600), NOW)
    with pytest.raises(SendTimeRefused):
        sendtime.check(SendTime(date(2027, 6, 1), 600), NOW)


def test_each_zone_gets_its_own_wall_clock_time() -> None:
    send = SendTime(date(2026, 3, 11), 600)
    at = {tz: sendtime.wanted(send, tz, confirmed=NOW, now=NOW) for tz in ("Asia/Shanghai", "Europe/Berlin")}
    assert at == {
        "Asia/Shanghai": datetime(2026, 3, 11, 2, tzinfo=UTC),
        "Europe/Berlin": datetime(2026, 3, 11, 9, tzinfo=UTC),
    }


def test_dst_gaps_move_forward_and_folds_take_the_first() -> None:
    # Berlin skips 02:00-03:00 on 29 March 2026: 02:30 is 03:30 CEST (01:30 UTC).
    gap = sendtime.wanted(SendTime(date(2026, 3, 29), 150), "Europe/Berlin", confirmed=NOW, now=NOW)
    assert gap == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)
    # Berlin repeats 02:00-03:00 on 25 October 2026: 02:30 is the first one, CEST (00:30 UTC).
    fold = sendtime.wanted(SendTime(date(2026, 10, 25), 150), "Europe/Berlin", confirmed=NOW, now=NOW)
    assert fold == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


def test_late_on_the_day_goes_at_once_and_after_the_day_not_at_all() -> None:
    send = SendTime(date(2026, 3, 10), 480)  # 08:00 on the 10th
    later = datetime(2026, 3, 10, 15, tzinfo=UTC)
    # Berlin: 16:00 on the 10th, still the day: at once. Shanghai: 23:00, the same. Tokyo: 00:00 on the
    # 11th: the day is over.
    assert sendtime.wanted(send, "Europe/Berlin", confirmed=NOW, now=later) == later
    assert sendtime.wanted(send, "Asia/Shanghai", confirmed=NOW, now=later) == later
    assert sendtime.wanted(send, "Asia/Tokyo", confirmed=NOW, now=later) is None
    # Without a date: the next occurrence after Confirm; reached late (a pause), the same rule.
    daily = SendTime(None, 480)
    assert sendtime.wanted(daily, "UTC", confirmed=NOW, now=NOW) == datetime(2026, 3, 11, 8, tzinfo=UTC)
    paused_long = datetime(2026, 3, 12, 9, tzinfo=UTC)
    assert sendtime.wanted(daily, "UTC", confirmed=NOW, now=paused_long) is None
    assert sendtime.wanted(None, "UTC", confirmed=NOW, now=later) == later
