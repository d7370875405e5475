"""Full names in the order their script writes them."""

from __future__ import annotations

import pytest

from handlers.common import display_name


@pytest.mark.parametrize(
    ("first", "last", "shown"),
    [
        ("Kim", "Lee", "Kim Lee"),
        ("Kim", None, "Kim"),
        ("伟", "李", "李伟"),  # family name first, no space
        ("太郎", "山田", "山田太郎"),
        ("민준", "김", "김민준"),
        ("伟", "Li", "伟 Li"),  # mixed scripts: as given
        ("Wei", "李", "Wei 李"),
        ("伟", "", "伟"),
    ],
)
def test_names_follow_their_script(first: str, last: str | None, shown: str) -> None:
    assert display_name(first, last) == shown
