from __future__ import annotations

from datetime import date

import pytest

from storage.people.birthdays import Birthday, BirthdayError, parse_birthday

TODAY = date(2026, 3, 10)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1990-05-17", Birthday(5, 17, 1990)),
        ("17.05.1990", Birthday(5, 17, 1990)),
        ("05/17", Birthday(5, 17)),
        ("1990年5月17日", Birthday(5, 17, 1990)),
        ("5月17日", Birthday(5, 17)),
        (" 2000-02-29 ", Birthday(2, 29, 2000)),
        ("02/29", Birthday(2, 29)),
        ("1900-01-01", Birthday(1, 1, 1900)),
        ("2026-03-10", Birthday(3, 10, 2026)),
    ],
)
def test_accepted_forms(text: str, expected: Birthday) -> None:
    assert parse_birthday(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1990-02-30", "birthday.invalid"),
        ("2001-02-29", "birthday.invalid"),  # not a leap year
        ("13/01", "birthday.invalid"),
        ("31.04.1990", "birthday.invalid"),
        ("1990年13月1日", "birthday.invalid"),
        ("tomorrow", "birthday.invalid"),
        ("", "birthday.invalid"),
        ("2026-03-11", "birthday.future"),
        ("01.01.2030", "birthday.future"),
        ("1899-12-31", "birthday.too_old"),
        ("1850年1月1日", "birthday.too_old"),
    ],
)
def test_refused_forms(text: str, code: str) -> None:
    with pytest.raises(BirthdayError) as error:
        parse_birthday(text, TODAY)
    assert error.value.code == code
