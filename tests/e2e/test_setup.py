"""Set-up inside Telegram: from nothing but a token, the owner's first hour (the set-up code from the
log, /setup, the bot added to a group, "Use this group for staff", /help, a first reward), in both
languages; wrong codes; who may choose the staff group; feedback sent before there was a staff group;
the closest command for a mistyped one; Telegram's creator and administrators mapped to roles."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.care.models import FeedbackItem
from storage.core import stored_settings
from storage.core.clock import FakeClock
from storage.core.models import AuditEntry
from storage.people import setup, staff
from storage.people.models import StaffMember
from tests.databases import new_database_url
from tests.e2e.harness import OWNER_ID, STAFF_CHAT_ID, Harness
from tests.e2e.invariants import changed, staff_state
from tests.e2e.loyalty_steps import join
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions


@pytest.fixture
async def fresh(
    emu: BotApiEmulator, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> AsyncIterator[Harness]:
    """The bot as a new shop owner starts it: a token, nothing else (no owner, no staff group)."""
    caplog.set_level(logging.INFO, logger="bot.app")
    h = Harness(emu, await new_database_url("sqlite", tmp_path), clock, OWNER_IDS="", STAFF_CHAT_ID="")
    await h.start()
    yield h
    await h.stop()


def logged(caplog: pytest.LogCaptureFixture) -> str:
    """What the bot logged, the fixture's start included (caplog.text holds only the test's own phase)."""
    records = caplog.get_records("setup") + caplog.get_records("call")
    return "\n".join(r.getMessage() for r in records)


def setup_code(caplog: pytest.LogCaptureFixture) -> str:
    codes = re.findall(r"set-up code: (\S+)", logged(caplog))
    assert codes, logged(caplog)
    return codes[-1]


def speaks(harness: Harness, person: UserDriver, lang: str) -> None:
    harness.emu.state.users[person.user_id]["language_code"] = lang


async def said(person: UserDriver, text: str, chat: object = None) -> str:
    await person.send(text, chat=chat)  # type: ignore[arg-type]
    return person.last(chat).text  # type: ignore[arg-type]


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_the_owners_first_hour(fresh: Harness, caplog: pytest.LogCaptureFixture, lang: str) -> None:
    h, group = fresh, fresh.staff_group
    olga, alice = h.owner, h.agent
    speaks(h, olga, lang)
    assert "staff group: not set" in logged(caplog) and "owners: none yet" in logged(caplog)
    code = setup_code(caplog)

    # Before anything: no staff command works anywhere, and says why.
    assert await said(olga, "/find Kim") == h.t(lang, "staff.no_group")
    assert await said(olga, "/find Kim", group) == h.t(lang, "staff.no_group")

    # A customer's feedback before there is a staff group: kept, and the customer is told so.
    kim = h.customer(301, "Kim", username="kimmy")
    await join(h, kim)
    assert await said(kim, "/feedback The coffee was cold") == h.t("en", "feedback.saved", id=1)

    assert await said(olga, f"/setup {code}") == h.t(lang, "setup.owner")
    assert await said(olga, f"/setup {code}") == h.t(lang, "setup.done")

    await group.add_bot(olga)
    hello = group.last()
    assert str(STAFF_CHAT_ID) in hello.text and h.t(lang, "setup.hello_owner") in hello.text
    button = h.t(lang, "setup.use_group")
    assert [button] in hello.buttons
    assert not [m for m in group.messages() if "cold" in m.text]

    # An agent (a plain member) may not choose; nothing is stored.
    before = await staff_state(h.sessions)
    answer = await alice.press(button, hello)
    assert answer is not None and "⛔" in answer["text"]
    assert changed(before, await staff_state(h.sessions)) == []

    answer = await olga.press(button, hello)
    assert answer is not None and "⛔" not in (answer.get("text") or "")
    assert any(m.text == h.t(lang, "setup.chosen", name="Olga") and not m.buttons for m in group.messages())
    async with h.sessions.begin() as session:
        assert await stored_settings.staff_chat_id(session) == STAFF_CHAT_ID
        item = await session.scalar(select(FeedbackItem))
        assert item.card_chat_id == STAFF_CHAT_ID  # the feedback kept reached the group
    assert sum("cold" in m.text for m in group.messages()) == 1
    assert h.emu.commands({"type": "chat", "chat_id": STAFF_CHAT_ID})  # the staff menu

    # /help for an agent lists what an agent may use, with examples; an owner sees more.
    speaks(h, alice, lang)
    agent_help = await said(alice, "/help", group)
    assert "/find" in agent_help and "/purchase" in agent_help
    assert "/reward" not in agent_help and "/promote" not in agent_help and "/deduct" not in agent_help
    owner_help = await said(olga, "/help", group)
    assert "/reward" in owner_help and "/promote" in owner_help and "/find" in owner_help
    assert h.t(lang, "setup.help_title", role=h.t(lang, "staff.role_owner")) in owner_help
    assert h.t(lang, "setup.start", name="Alice", role=h.t(lang, "staff.role_agent")) == await said(
        alice, "/start", group
    )

    # The first reward, as the owner.
    await olga.send("/reward add title=Free coffee | cost=100", chat=group)
    assert "Free coffee" in group.last().text
    await kim.send("/rewards")
    assert any("Free coffee" in label for row in kim.last().buttons for label in row)

    # Nobody can take the owner's place with the old code.
    async with h.sessions.begin() as session:
        owners = (
            await session.scalars(select(StaffMember.telegram_id).where(StaffMember.role == "owner"))
        ).all()
    assert owners == [OWNER_ID]


async def test_a_new_code_at_each_start_until_one_is_used(
    fresh: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    first = setup_code(caplog)
    await fresh.restart()
    second = setup_code(caplog)
    assert first != second
    trudy = fresh.customer(303, "Trudy")
    assert await said(trudy, f"/setup {first}") == fresh.t("en", "setup.wrong")
    assert await said(trudy, "/setup") == fresh.t("en", "setup.usage")
    for _ in range(setup.MAX_ATTEMPTS - 1):
        assert await said(trudy, "/setup ABCDE-23456") == fresh.t("en", "setup.wrong")
    assert await said(trudy, f"/setup {second}") == fresh.t("en", "setup.too_many")
    async with fresh.sessions.begin() as session:
        assert await setup.owner_count(session) == 0
        refused = (await session.scalars(select(AuditEntry).where(AuditEntry.action == "setup"))).all()
    assert len(refused) == setup.MAX_ATTEMPTS + 1 and {a.outcome for a in refused} == {"refused"}
    assert await said(fresh.owner, f"/setup {second}") == fresh.t("en", "setup.owner")
    caplog.clear()
    await fresh.restart()
    assert "set-up code" not in caplog.text and "owners: 1" in caplog.text


async def test_nobody_but_an_owner_chooses_the_staff_group(
    fresh: Harness, caplog: pytest.LogCaptureFixture
) -> None:
    h, group = fresh, fresh.staff_group
    await group.add_bot(h.admin)  # an administrator of the group who is not the bot's owner
    hello = group.last()
    assert not hello.buttons and h.t("en", "setup.hello_no_group") in hello.text
    before = await staff_state(h.sessions)
    for who in (h.admin, h.agent, h.customer(303, "Trudy")):
        answer = await who.press_data("staffgroup:use", hello)
        assert answer is not None and "⛔" in answer["text"]
    assert changed(before, await staff_state(h.sessions)) == []
    async with h.sessions.begin() as session:
        refused = (
            await session.scalars(select(AuditEntry).where(AuditEntry.action == "staff_group_set"))
        ).all()
    assert [a.outcome for a in refused] == ["refused"] * 3


async def test_the_environment_wins_over_the_group_chosen_in_telegram(harness: Harness) -> None:
    """STAFF_CHAT_ID given: another group gets no button, and a forged press changes nothing."""
    other = harness.emu.group(-100777, "Neighbours")
    other.set_member(harness.owner.user_id, "creator")
    await other.add_bot(harness.owner)
    hello = other.last()
    assert not hello.buttons and str(STAFF_CHAT_ID) in hello.text
    answer = await harness.owner.press_data("staffgroup:use", hello)
    assert answer is not None and answer["text"] == harness.t("en", "setup.fixed")
    async with harness.sessions.begin() as session:
        assert await stored_settings.staff_chat_id(session) is None
    assert "Kim" not in await said(harness.owner, "/find Kim", other)  # still refused there


async def test_a_mistyped_command_gets_the_closest_one(harness: Harness) -> None:
    h, group = harness, harness.staff_group
    kim = h.customer(301, "Kim", username="kimmy")
    await join(h, kim)
    assert await said(kim, "/pints") == h.t("en", "setup.did_you_mean", typed="pints", command="/points")
    assert await said(kim, "/xyzzy") == h.t("en", "setup.unknown_command", typed="xyzzy")
    # Customers are never offered a staff command.
    assert "/find" not in await said(kim, "/fnd")
    assert await said(h.agent, "/fnd Kim", group) == h.t(
        "en", "setup.did_you_mean", typed="fnd", command="/find"
    )
    # An agent is not offered what needs an admin.
    assert "/deduct" not in await said(h.agent, "/deduc", group)
    assert "/deduct" in await said(h.owner, "/deduc", group)

    count = len(group.messages())
    await h.agent.send("/fnd@other_bot Kim", chat=group)  # another bot's command
    stranger = h.customer(303, "Trudy")
    other = h.emu.group(-100777, "Neighbours")
    await stranger.send("/pints", chat=other)  # another group
    await stranger.send("/fnd Kim", chat=other)
    assert len(group.messages()) == count and not other.messages()
    assert await said(kim, "/pints@other_bot") != h.t(
        "en", "setup.did_you_mean", typed="pints", command="/points"
    )


async def test_telegram_administrators_can_be_admins(
    emu: BotApiEmulator, tmp_path: Path, clock: FakeClock
) -> None:
    """GROUP_ADMIN_ROLE=admin: the group's administrators act as admins without /promote; by default
    (agent) they are agents."""
    for role, allowed in (("agent", False), ("admin", True)):
        (tmp_path / role).mkdir()
        h = Harness(emu, await new_database_url("sqlite", tmp_path / role), clock, GROUP_ADMIN_ROLE=role)
        await h.start()
        try:
            reply = await said(h.admin, "/reward add title=Tea | cost=5", h.staff_group)
            assert ("⛔" not in reply) == allowed, reply
            assert ("/reward" in await said(h.admin, "/help", h.staff_group)) == allowed
        finally:
            await h.stop()


async def test_a_group_chosen_on_another_instance_is_read_on_the_next_tick(fresh: Harness) -> None:
    """Two instances: one chose the staff group (bot_settings); the other reads it on its next tick,
    and the tick posts the feedback kept meanwhile (once, and only once it has settled)."""
    h, group = fresh, fresh.staff_group
    kim = h.customer(301, "Kim", username="kimmy")
    await join(h, kim)
    await kim.send("/feedback The coffee was cold")
    async with h.sessions.begin() as session:  # as the other instance's "Use this group for staff"
        await stored_settings.set_staff_chat(session, STAFF_CHAT_ID, h.clock.now())
        await staff.bootstrap_owners(session, [OWNER_ID])
    await h.tick("staff_group")
    assert "Kim" in await said(h.agent, "/find Kim", group)  # the staff group works at once
    assert not any("cold" in m.text for m in group.messages())  # too fresh: maybe being posted
    h.clock.advance(minutes=3)
    await h.tick("staff_group")
    await h.tick("staff_group")
    assert sum("cold" in m.text for m in group.messages()) == 1
