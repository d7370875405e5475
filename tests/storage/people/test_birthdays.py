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
        ("17/05/1990", Birthday(5, 17, 1990)),
        ("May 17, 1990", Birthday(5, 17, 1990)),
        ("may 17 1990", Birthday(5, 17, 1990)),
        ("17 May 1990", Birthday(5, 17, 1990)),
        ("17th of May, 1990", Birthday(5, 17, 1990)),
        ("17 May", Birthday(5, 17)),
        ("Sept 3", Birthday(9, 3)),
        ("1990年5月17日", Birthday(5, 17, 1990)),
        ("1990 年 5 月 17 号", Birthday(5, 17, 1990)),
        ("13/01", Birthday(1, 13)),  # no 13th month: day first
    ],
)
def test_accepted_forms(text: str, expected: Birthday) -> None:
    assert parse_birthday(text, TODAY) == expected


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        # Both numbers could be the month: English reads the day first, Chinese the month first.
        ("05/06", "en", Birthday(6, 5)),
        ("05/06", "zh", Birthday(5, 6)),
        ("05/06/1990", "en", Birthday(6, 5, 1990)),
        ("05/06/1990", "zh", Birthday(5, 6, 1990)),
        # One cannot be a month: the order is clear in any language.
        ("05/17", "en", Birthday(5, 17)),
        ("05/17", "zh", Birthday(5, 17)),
        ("17/05", "en", Birthday(5, 17)),
        ("17/05", "zh", Birthday(5, 17)),
    ],
)
def test_ambiguous_orders_follow_the_language(text: str, language: str, expected: Birthday) -> None:
    assert parse_birthday(text, TODAY, language) == expected


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("1990-02-30", "birthday.invalid"),
        ("2001-02-29", "birthday.invalid"),  # not a leap year
        ("13/13", "birthday.invalid"),
        ("Smarch 3", "birthday.invalid"),
        ("31 February", "birthday.invalid"),
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
