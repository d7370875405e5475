"""Steps the loyalty scenarios share: joining, the catalog, staff commands, reading the database."""

from __future__ import annotations

from sqlalchemy import select

from storage.loyalty import ledger
from storage.loyalty.models import Voucher
from storage.people.models import Customer
from tests.e2e.harness import Harness
from tests.e2e.invariants import ledger_problems
from tests.emulator import UserDriver
from tests.emulator.driver import SentMessage


def latest(person: UserDriver, message: SentMessage) -> SentMessage:
    """A message as it reads now (after edits)."""
    return next(m for m in person.messages(message.chat_id) if m.message_id == message.message_id)


async def join(harness: Harness, person: UserDriver, payload: str = "", lang: str = "en") -> None:
    """Accept the privacy notice (profile questions left unanswered: commands still work)."""
    await person.send(f"/start {payload}".strip())
    await person.press(harness.t(lang, "onboarding.accept"))


async def staff(harness: Harness, who: UserDriver, text: str) -> str:
    await who.send(text, chat=harness.staff_group)
    return who.last(chat=harness.staff_group).text


async def add_reward(harness: Harness, spec: str) -> str:
    await harness.grant_admin()
    return await staff(harness, harness.admin, f"/reward add {spec}")


async def customer_row(harness: Harness, telegram_id: int) -> Customer:
    async with harness.sessions.begin() as session:
        return await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))


async def balance(harness: Harness, telegram_id: int) -> int:
    customer = await customer_row(harness, telegram_id)
    async with harness.sessions.begin() as session:
        return await ledger.balance(session, customer.id)


async def vouchers(harness: Harness) -> list[Voucher]:
    async with harness.sessions.begin() as session:
        return list(await session.scalars(select(Voucher).order_by(Voucher.id)))


async def assert_ledger_consistent(harness: Harness) -> None:
    assert await ledger_problems(harness.sessions) == []
