"""Notes and tags staff keep about customers: bounded, removable by the right people, on the cards in a
fixed number of queries, and tags usable as an audience."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.care import customer_cards, notes, tags
from storage.care.notes import NoteRefused
from storage.care.tags import TagRefused
from storage.core.clock import FakeClock
from storage.core.config import Config
from storage.core.inputs import InputRefused
from storage.people import customers
from storage.people.customers import TelegramProfile
from storage.people.models import Customer

AUTHOR, OTHER = 7001, 7002


async def _join(session: AsyncSession, clock: FakeClock, telegram_id: int, name: str) -> Customer:
    return await customers.join(
        session, TelegramProfile(telegram_id, name, f"u{telegram_id}"), Config(), clock.now()
    )


async def test_a_note_is_kept_whole_and_listed_newest_first(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _join(session, clock, 1, "Kim")
        first = await notes.add(session, kim.id, AUTHOR, "  prefers calls after 18:00  ", clock.now())
        second = await notes.add(session, kim.id, OTHER, "x" * notes.NOTE_MAX, clock.now())
    async with sessions.begin() as session:
        found, total = await notes.latest(session, kim.id)
    assert total == 2
    assert [n.id for n in found] == [second.id, first.id]
    assert found[1].text == "prefers calls after 18:00" and len(found[0].text) == notes.NOTE_MAX


async def test_an_empty_or_too_long_note_is_refused(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _join(session, clock, 1, "Kim")
        with pytest.raises(NoteRefused) as empty:
            await notes.add(session, kim.id, AUTHOR, "   ", clock.now())
        with pytest.raises(InputRefused) as long:
            await notes.add(session, kim.id, AUTHOR, "x" * (notes.NOTE_MAX + 1), clock.now())
        assert empty.value.code == "notes.empty" and long.value.code == "common.too_long"
        assert (await notes.latest(session, kim.id))[1] == 0


async def test_only_the_author_or_an_admin_removes_a_note(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _join(session, clock, 1, "Kim")
        mine = await notes.add(session, kim.id, AUTHOR, "mine", clock.now())
        theirs = await notes.add(session, kim.id, OTHER, "theirs", clock.now())
    async with sessions.begin() as session:
        with pytest.raises(NoteRefused) as refused:
            await notes.remove(session, theirs.id, AUTHOR, any_author=False)
        assert refused.value.code == "notes.not_yours"
        assert (await notes.remove(session, mine.id, AUTHOR, any_author=False)).text == "mine"
        assert (await notes.remove(session, theirs.id, AUTHOR, any_author=True)).text == "theirs"
        with pytest.raises(NoteRefused) as gone:
            await notes.remove(session, theirs.id, AUTHOR, any_author=True)
        assert gone.value.code == "notes.unknown"
        assert (await notes.latest(session, kim.id))[1] == 0


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("VIP", "vip"), ("#vip", "vip"), ("老客户", "老客户"), ("late-payer_2", "late-payer_2")],
)
def test_tags_are_one_word_in_lower_case(typed: str, stored: str) -> None:
    assert tags.normalise(typed) == stored


@pytest.mark.parametrize("typed", ["", "-", "_x", "two words", "a" * (tags.TAG_MAX + 1), "<b>", "vip!"])
def test_what_is_not_a_tag_is_refused(typed: str) -> None:
    with pytest.raises(TagRefused) as refused:
        tags.normalise(typed)
    assert refused.value.code == "tags.invalid"


async def test_tags_are_added_once_removed_and_bounded(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _join(session, clock, 1, "Kim")
        assert await tags.add(session, kim.id, "vip", AUTHOR, clock.now())
        assert not await tags.add(session, kim.id, "vip", OTHER, clock.now())  # had it already
        assert await tags.remove(session, kim.id, "vip")
        assert not await tags.remove(session, kim.id, "vip")
        for n in range(tags.PER_CUSTOMER):
            await tags.add(session, kim.id, f"t{n}", AUTHOR, clock.now())
        with pytest.raises(TagRefused) as refused:
            await tags.add(session, kim.id, "one-more", AUTHOR, clock.now())
        assert refused.value.code == "tags.too_many"
        assert len((await tags.of(session, [kim.id]))[kim.id]) == tags.PER_CUSTOMER


async def test_a_tag_selects_its_customers(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim, lee, ann = [
            await _join(session, clock, i, name) for i, name in enumerate(("Kim", "Lee", "Ann"), 1)
        ]
        await tags.add(session, kim.id, "vip", AUTHOR, clock.now())
        await tags.add(session, ann.id, "vip", AUTHOR, clock.now())
        await tags.add(session, lee.id, "new", AUTHOR, clock.now())
    async with sessions.begin() as session:
        ids = set(await session.scalars(select(Customer.id).where(Customer.id.in_(tags.tagged("vip")))))
    assert ids == {kim.id, ann.id}


async def test_cards_carry_tags_and_the_newest_notes(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        kim = await _join(session, clock, 1, "Kim")
        lee = await _join(session, clock, 2, "Lee")
        for n in range(notes.ON_CARD + 2):
            await notes.add(session, kim.id, AUTHOR, f"note {n}", clock.now())
        await tags.add(session, kim.id, "vip", AUTHOR, clock.now())
        await tags.add(session, kim.id, "coffee", AUTHOR, clock.now())
    async with sessions.begin() as session:
        cards = {c.id: c for c in await customer_cards.search(session, "u")}
    assert cards[kim.id].tags == ("coffee", "vip")
    assert [n.text for n in cards[kim.id].notes] == [f"note {n}" for n in (4, 3, 2)]
    assert cards[lee.id].tags == () and cards[lee.id].notes == ()
