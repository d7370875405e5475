from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from storage.core import buttons, conversations
from storage.core.buttons import ButtonRefused
from storage.core.clock import FakeClock
from storage.people import outbox, staff
from storage.people.staff import Role, RoleChangeRefused
from tests.statements import statements


async def test_a_new_member_is_pending_until_approved(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        assert await staff.role_in_staff_group(session, 5, "Nina", None, approval=True) == staff.Seen(
            None, True
        )
        assert await staff.role_in_staff_group(session, 5, "Nina", None, approval=True) == staff.Seen(
            None, False
        )
        assert await staff.recorded_role(session, 5, "Nina", None) == staff.PENDING
        assert [m.telegram_id for m in await staff.list_staff(session)] == []  # not staff yet
        with pytest.raises(RoleChangeRefused):
            await staff.set_role(session, Role.OWNER, 5, Role.ADMIN)  # approve first
        assert await staff.approve(session, 5) and not await staff.approve(session, 5)
        assert await staff.recorded_role(session, 5, "Nina", None) == Role.AGENT


async def test_roles(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await staff.bootstrap_owners(session, [1])
        assert await staff.role_in_staff_group(session, 1, "Olga", "olga") == staff.Seen(Role.OWNER, False)
        assert await staff.role_in_staff_group(session, 2, "Adam", "adam") == staff.Seen(Role.AGENT, True)
        with pytest.raises(RoleChangeRefused):
            await staff.set_role(session, Role.AGENT, 2, Role.ADMIN)
        with pytest.raises(RoleChangeRefused):
            await staff.set_role(session, Role.OWNER, 1, Role.AGENT)  # owners come from configuration
        await staff.set_role(session, Role.OWNER, 2, Role.ADMIN)
        assert (await staff.role_in_staff_group(session, 2, "Adam", "adam")).role == Role.ADMIN
        assert [(m.telegram_id, m.role) for m in await staff.list_staff(session)] == [
            (1, Role.OWNER),
            (2, Role.ADMIN),
        ]
        assert (await staff.find_member(session, "@ADAM")).telegram_id == 2


async def test_recorded_role_reads_and_says_when_there_is_something_to_record(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    async with sessions.begin() as session:
        await staff.bootstrap_owners(session, [1])
        assert await staff.recorded_role(session, 2, "Adam", "adam") is None  # first time: to be recorded
        await staff.role_in_staff_group(session, 1, "Olga", "olga")
        await staff.role_in_staff_group(session, 2, "Adam", "adam")
    with statements(engine) as sent:
        async with sessions.begin() as session:
            assert await staff.recorded_role(session, 1, "Olga", "olga") == Role.OWNER
            assert await staff.recorded_role(session, 2, "Adam", "adam") == Role.AGENT
            assert await staff.recorded_role(session, 2, "Adam B", "adam") is None  # a new name
            assert await staff.recorded_role(session, 2, "Adam", None) is None  # the username dropped
    assert not [s for s in sent if s.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))]


async def test_buttons_check_owner_and_expiry(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        data = await buttons.issue(
            session, "redeem", {"reward": 3}, user_id=7, now=clock.now(), ttl=timedelta(hours=1)
        )
    assert len(data.encode()) <= 64
    async with sessions.begin() as session:
        assert (await buttons.resolve(session, data, 7, clock.now())).payload == {"reward": 3}
        with pytest.raises(ButtonRefused, match=r"button\.not_yours"):
            await buttons.resolve(session, data, 8, clock.now())
        with pytest.raises(ButtonRefused, match=r"button\.stale"):
            await buttons.resolve(session, "b:forged", 7, clock.now())
    clock.advance(hours=2)
    async with sessions.begin() as session:
        with pytest.raises(ButtonRefused, match=r"button\.stale"):
            await buttons.resolve(session, data, 7, clock.now())


async def test_outbox_dedupes_and_conversations_persist(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        args = {"chat_id": 5, "template": "common.error", "language": "en", "now": clock.now()}
        assert await outbox.enqueue(session, dedupe_key="k1", **args)
        assert not await outbox.enqueue(session, dedupe_key="k1", **args)
        await conversations.expect(session, 5, 5, "profile.birthday", {"onboarding": True})
    async with sessions.begin() as session:
        claimed = await outbox.claim_due(session, worker="w", now=clock.now(), limit=10)
        assert [(row.chat_id, row.template, row.attempts) for row in claimed] == [(5, "common.error", 1)]
        assert await outbox.claim_due(session, worker="w2", now=clock.now(), limit=10) == []
        pending = await conversations.current(session, 5, 5)
        assert (pending.step, pending.payload) == ("profile.birthday", {"onboarding": True})
        # Plain values, not ORM objects: the sender claims thousands a second.
        assert isinstance(claimed[0], outbox.Claimed)


async def test_the_staff_list_and_names_are_one_query_however_many(
    engine: AsyncEngine, sessions: async_sessionmaker[AsyncSession]
) -> None:
    counts = []
    async with sessions.begin() as session:
        await staff.bootstrap_owners(session, [1])
        for start, count in ((10, 2), (100, 40)):
            for telegram_id in range(start, start + count):
                await staff.role_in_staff_group(session, telegram_id, f"Agent {telegram_id}", None)
            with statements(engine) as sent:
                members = await staff.list_staff(session)
                names = await staff.names(session, [m.telegram_id for m in members] + [None, 5])
            counts.append(len(sent))
        with statements(engine) as sent:
            assert await staff.names(session, [None]) == {}
        assert sent == []
    assert counts == [2, 2]
    assert [m.name for m in members[:3]] == ["1", "Agent 10", "Agent 100"]  # owner first, then by name
    assert len(names) == 43 and names[11] == "Agent 11" and 5 not in names
