"""The first owner from a set-up code; the staff group chosen in Telegram; what a Telegram status maps to."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.core import stored_settings
from storage.core.clock import FakeClock
from storage.core.models import AuditEntry, BotSetting
from storage.people import setup, staff
from storage.people.staff import Role


async def test_a_code_makes_the_first_owner_once(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        first = await setup.new_code(session, clock.now())
        code = await setup.new_code(session, clock.now())  # a new start: a new code, the old one is gone
        stored = (await session.scalars(select(BotSetting.value))).all()
    assert first and code and first != code and len(code.replace("-", "")) == setup.LENGTH
    assert stored and code.replace("-", "") not in stored[0]  # only the hash is kept
    async with sessions.begin() as session:
        assert await setup.claim(session, 5, "Eve", None, first, clock.now()) == "wrong"
        assert (
            await setup.claim(session, 7, "Olga", "olga", code.lower().replace("-", " "), clock.now())
            == "owner"
        )
        assert await setup.claim(session, 8, "Max", None, code, clock.now()) == "done"
        assert await setup.new_code(session, clock.now()) is None
        assert [(m.telegram_id, m.role) for m in await staff.list_staff(session)] == [(7, Role.OWNER)]
        audit = [(a.actor_id, a.outcome, a.detail) for a in await session.scalars(select(AuditEntry))]
    assert audit == [(5, "refused", {"reason": "wrong"}), (7, "ok", {}), (8, "refused", {"reason": "done"})]


async def test_wrong_codes_are_limited_per_person_and_code(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        code = await setup.new_code(session, clock.now())
        assert code is not None
        for _ in range(setup.MAX_ATTEMPTS):
            assert await setup.claim(session, 5, "Eve", None, "AAAAA-AAAAA", clock.now()) == "wrong"
        assert await setup.claim(session, 5, "Eve", None, code, clock.now()) == "too_many"
        clock.advance(minutes=1)
        code = await setup.new_code(session, clock.now())  # the next start
        assert code is not None
        assert await setup.claim(session, 5, "Eve", None, code, clock.now()) == "owner"


async def test_no_code_without_a_start(sessions: async_sessionmaker[AsyncSession], clock: FakeClock) -> None:
    async with sessions.begin() as session:
        assert await setup.claim(session, 5, "Eve", None, "AAAAA-AAAAA", clock.now()) == "no_code"
        await staff.bootstrap_owners(session, [1])
        assert await setup.new_code(session, clock.now()) is None


async def test_the_staff_group_is_stored(
    sessions: async_sessionmaker[AsyncSession], clock: FakeClock
) -> None:
    async with sessions.begin() as session:
        assert await stored_settings.staff_chat_id(session) is None
        await stored_settings.set_staff_chat(session, -1001234, clock.now())
        await stored_settings.set_staff_chat(session, -1005678, clock.now())
    async with sessions.begin() as session:
        assert await stored_settings.staff_chat_id(session) == -1005678


def test_telegram_statuses_map_to_roles() -> None:
    assert staff.group_role("creator", "admin", "agent") == Role.ADMIN
    assert staff.group_role("creator", "owner", "none") == Role.OWNER
    assert staff.group_role("administrator", "none", "none") is None
    assert staff.group_role("member", "owner", "owner") is None
    assert staff.effective_role(Role.AGENT, Role.ADMIN) == Role.ADMIN
    assert staff.effective_role(Role.OWNER, Role.ADMIN) == Role.OWNER
    assert staff.effective_role(Role.AGENT, None) == Role.AGENT
