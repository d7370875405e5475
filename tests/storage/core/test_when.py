"""The follow-up time parser: every accepted form, and the refusals."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from storage.core.when import WhenError, local_iso, parse_when

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)  # 17:00 in Shanghai
TZ = "Asia/Shanghai"


def sh(*args: int) -> datetime:
    """A Shanghai wall-clock time as UTC."""
    return datetime(*args, tzinfo=ZoneInfo(TZ)).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-01 15:00", sh(2026, 12, 1, 15, 0)),
        ("2026-12-01T15:00", sh(2026, 12, 1, 15, 0)),
        ("2026-12-01", sh(2026, 12, 1, 10, 0)),
        ("tomorrow 15:00", sh(2026, 3, 11, 15, 0)),
        ("Tomorrow 9:30", sh(2026, 3, 11, 9, 30)),
        ("tomorrow", sh(2026, 3, 11, 10, 0)),
        ("today 18:00", sh(2026, 3, 10, 18, 0)),
        ("18:00", sh(2026, 3, 10, 18, 0)),
        ("明天 15:00", sh(2026, 3, 11, 15, 0)),
        ("明天15:00", sh(2026, 3, 11, 15, 0)),
        ("后天 8:00", sh(2026, 3, 12, 8, 0)),
        ("in 3d", sh(2026, 3, 13, 17, 0)),
        ("in 2h", sh(2026, 3, 10, 19, 0)),
        ("in 30m", sh(2026, 3, 10, 17, 30)),
        ("in 2 weeks", sh(2026, 3, 24, 17, 0)),
        ("3天后", sh(2026, 3, 13, 17, 0)),
        ("2小时后", sh(2026, 3, 10, 19, 0)),
    ],
)
def test_accepted_forms(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, TZ) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("", "followups.when_invalid"),
        ("soon", "followups.when_invalid"),
        ("in 3 fortnights", "followups.when_invalid"),
        ("2026-02-30 10:00", "followups.when_invalid"),
        ("tomorrow 25:00", "followups.when_invalid"),
        ("2026-13-01", "followups.when_invalid"),
        ("2025-12-01 15:00", "followups.when_past"),
        ("today 08:00", "followups.when_past"),
        ("16:59", "followups.when_past"),
        ("in 0h", "followups.when_past"),
        ("2028-01-01 10:00", "followups.when_too_far"),
        ("in 400d", "followups.when_too_far"),
    ],
)
def test_refused_forms(text: str, code: str) -> None:
    with pytest.raises(WhenError) as refused:
        parse_when(text, NOW, TZ)
    assert refused.value.code == code


def test_dst_and_formatting() -> None:
    # New York's clocks jump on 2026-03-08: "tomorrow 15:00" on the 7th is 19:00 UTC (EDT), not 20:00.
    now = datetime(2026, 3, 7, 17, 0, tzinfo=UTC)
    assert parse_when("tomorrow 15:00", now, "America/New_York") == datetime(2026, 3, 8, 19, 0, tzinfo=UTC)
    assert local_iso(datetime(2026, 3, 8, 19, 0, tzinfo=UTC), "America/New_York") == "2026-03-08T15:00-04:00"


# NOW is Tuesday 10 March 2026, 17:00 in Shanghai.
@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("friday 15:00", sh(2026, 3, 13, 15, 0)),
        ("Fri 15:00", sh(2026, 3, 13, 15, 0)),
        ("friday", sh(2026, 3, 13, 10, 0)),
        ("tuesday 18:00", sh(2026, 3, 10, 18, 0)),  # today, still ahead
        ("tuesday 15:00", sh(2026, 3, 17, 15, 0)),  # today, gone: next week
        ("next tuesday 18:00", sh(2026, 3, 17, 18, 0)),  # "next": after today
        ("next friday 9:00", sh(2026, 3, 13, 9, 0)),
        ("monday 10:00", sh(2026, 3, 16, 10, 0)),
        ("周五 15:00", sh(2026, 3, 13, 15, 0)),
        ("星期五15:00", sh(2026, 3, 13, 15, 0)),
        ("礼拜天 9:00", sh(2026, 3, 15, 9, 0)),
        ("下周一 10:00", sh(2026, 3, 16, 10, 0)),
        ("下周五 10:00", sh(2026, 3, 20, 10, 0)),  # next week's Friday, not this week's
        ("下个星期二", sh(2026, 3, 17, 10, 0)),
        ("这周五 10:00", sh(2026, 3, 13, 10, 0)),
        ("本周日 20:00", sh(2026, 3, 15, 20, 0)),
    ],
)
def test_weekdays(text: str, expected: datetime) -> None:
    assert parse_when(text, NOW, TZ) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("这周一 10:00", "followups.when_past"),  # this week's Monday is gone
        ("friyay 10:00", "followups.when_invalid"),
        ("周八 10:00", "followups.when_invalid"),
        ("friday 25:00", "followups.when_invalid"),
    ],
)
def test_weekday_refusals(text: str, code: str) -> None:
    with pytest.raises(WhenError) as refused:
        parse_when(text, NOW, TZ)
    assert refused.value.code == code
