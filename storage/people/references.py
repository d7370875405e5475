"""How staff name a customer at the counter (`/purchase K7M2QX9 12.50`, `/purchase 0151 2345678 5 12.50`,
`/purchase "Kim Lee" 12.50`, `/award Kim 50 welcome`): where the reference ends and the command's value
begins, and who it names — one customer, several (staff choose), or nobody."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.people import customers, phones
from storage.people.models import Customer

CHOICES = 8  # at most this many customers offered as buttons; more: staff type more of the name
NAME_MAX = 100  # characters of a name reference
_PHONE_TOKENS = 5  # "+49 151 234 567 85"
_NAME_TOKENS = 4  # "Kim Lee" without quotes: the words before the value
_QUOTES = {'"': '"', "“": "”", "„": "“", "«": "»", "「": "」", "'": "'"}
_PHONE_TOKEN = re.compile(r"[0-9+()\-/]+")  # no ".": "12.50" is an amount, never part of a phone


@dataclass(frozen=True)
class Split:
    reference: str
    rest: list[str]  # the words after the reference (the value first)


def split(text: str, is_value: Callable[[str], bool], region: str | None) -> Split | None:
    """The reference at the start of `text` and the words after it; `is_value` says whether a word can
    be the command's value (an amount, a number of points). The value follows the reference, so:
    a quoted name ends at its closing quote; a phone number written in parts is the longest run of
    number-like words that reads as a phone number and is followed by a value; a plain name is the
    words before the first value; anything else is one word. None for nothing to read."""
    text = text.strip()
    if not text:
        return None
    closing = _QUOTES.get(text[0])
    if closing is not None:
        end = text.find(closing, 1)
        if end > 1:
            return Split(text[1:end].strip(), text[end + 1 :].split())
    words = text.split()
    if _PHONE_TOKEN.fullmatch(words[0]):
        for k in range(min(len(words) - 1, _PHONE_TOKENS), 1, -1):
            head = words[:k]
            if all(_PHONE_TOKEN.fullmatch(w) for w in head) and is_value(words[k]) and _phone(head, region):
                return Split(" ".join(head), words[k:])
        return Split(words[0], words[1:])
    if _is_name(words[0]):
        for k in range(1, min(len(words), _NAME_TOKENS + 1)):
            if is_value(words[k]):
                return Split(" ".join(words[:k]), words[k:])
    return Split(words[0], words[1:])


def _phone(words: list[str], region: str | None) -> bool:
    joined = " ".join(words)
    digits = sum(c.isdigit() for c in joined)
    return phones.parse(joined, region) is not None or (joined[0] in "+0(" and 7 <= digits <= 15)


def _is_name(word: str) -> bool:
    """A word that may begin a name: not #id, @username or a number ("BARBARA" may be a member code
    and a name: the code is tried first)."""
    return word[0] not in "#@+(" and not word[0].isdigit()


@dataclass(frozen=True)
class Found:
    """Who a reference names: `customers` holds one (found), several (staff choose; `more` when
    there were more than CHOICES) or none."""

    customers: list[Customer]
    more: bool = False

    @property
    def one(self) -> Customer | None:
        return self.customers[0] if len(self.customers) == 1 else None


async def resolve(session: AsyncSession, reference: str, *, by_phone: bool, region: str | None) -> Found:
    """An exact reference (#id, @username, member code, Telegram id, a phone number for roles that
    may see them) names one customer or nobody; otherwise a name: exact first-, last- or full-name
    matches (any case), else names containing it."""
    reference = reference.strip()[:NAME_MAX]
    exact = await customers.find(session, reference, by_phone=by_phone, region=region)
    if exact is not None:
        return Found([exact])
    if not reference or not _is_name(reference):
        return Found([])
    name = reference.lower()
    full = func.lower(Customer.first_name + " " + func.coalesce(Customer.last_name, ""))
    # 李伟: family name first, as Chinese, Japanese and Korean names are written
    family_first = func.lower(func.coalesce(Customer.last_name, "") + Customer.first_name)
    columns = (func.lower(Customer.first_name), func.lower(Customer.last_name), full, family_first)
    query = select(Customer).where(Customer.erased_at.is_(None)).order_by(Customer.id).limit(CHOICES + 1)
    rows = list(await session.scalars(query.where(or_(*(c == name for c in columns)))))
    if not rows:
        pattern = customers.like_pattern(name)
        rows = list(await session.scalars(query.where(or_(*(c.like(pattern, escape="\\") for c in columns)))))
    return Found(rows[:CHOICES], more=len(rows) > CHOICES)
