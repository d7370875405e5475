from __future__ import annotations

import pytest

from storage.people.timezones import resolve_timezone


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("Berlin", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("Shanghai", "Asia/Shanghai"),
        ("上海", "Asia/Shanghai"),
        ("Beijing", "Asia/Shanghai"),
        ("UTC", "UTC"),
        ("Pacific/Kiritimati", "Pacific/Kiritimati"),
    ],
)
def test_known_names(text: str, expected: str) -> None:
    assert resolve_timezone(text) == expected


@pytest.mark.parametrize("text", ["", "Atlantis", "Europe/Atlantis", "../etc/passwd", "x" * 100, "<b>"])
def test_unknown_names(text: str) -> None:
    assert resolve_timezone(text) is None
