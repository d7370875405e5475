"""Fail closed: every staff command, in every spelling Telegram turns into the same command, from a
customer, a stranger and an agent without the role, changes nothing and shows no customer data; the
staff role follows membership of the staff group."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.care.models import FeedbackItem
from storage.core.models import AuditEntry
from storage.people.models import Customer, StaffMember
from tests.e2e.harness import ADMIN_ID, AGENT_ID, Harness
from tests.e2e.invariants import changed, ledger_problems, staff_state
from tests.e2e.loyalty_steps import join, staff

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


def spellings(command: str, bot: str) -> list[str]:
    """What Telegram turns into the bot_command entity "/<command>" (or "/<command>@bot")."""
    return [
        f"/{command}",
        f"/{command.upper()}",
        f"/{command}-",
        f"/{command},",
        f"/{command}.x",
        f"/{command}@{bot}",
        f"/{command.capitalize()}@{bot.upper()}",
    ]


# Staff commands with arguments that would change something (or read customer data) if allowed.
ATTEMPTS = [
    ("award", "#1 500 gift"),
    ("purchase", "#1 100"),
    ("deduct", "#1 5 fix"),
    ("reward", "add Coffee | 10"),
    ("reward", "disable 1"),
    ("fulfil", "ABCD-1234"),
    ("cancel", "ABCD-1234 mistake"),
    ("callback", "#1 tomorrow 10:00 call"),
    ("callbacks", ""),
    ("followup", "#1 tomorrow 10:00 call"),
    ("followups", ""),
    ("find", "Kim"),
    ("note", "#1 prefers calls"),
    ("tag", "#1 vip"),
    ("erase", "#1"),
    ("audit", "refused"),
    ("owner", "#1 me"),
    ("staff", ""),
    ("stats", "surveys"),
    ("outbox", ""),
    ("feedback", ""),
    ("survey", "new lunch csat"),
    ("survey", "list"),
    ("promote", "@alice"),
    ("demote", "@adam"),
    ("import", ""),
    ("export", "customers"),
    ("export", "purchases"),
    ("campaign", "new spring | all | Hi"),
    ("campaign", "list"),
    ("campaign", "repeat spring welcome 24h"),
    ("campaign", "activate spring"),
    ("campaign", "stop spring"),
    ("campaign", "image spring off"),
]
ADMIN_ONLY = {
    "deduct",
    "reward",
    "cancel",
    "promote",
    "demote",
    "import",
    "export",
    "erase",
    "audit",
    "owner",
    "campaign",
}
SHARED = {"survey", "feedback", "cancel"}


async def _kim(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await join(harness, kim)
    await kim.send("/feedback The coffee was cold")


@pytest.mark.parametrize("actor", ["customer", "stranger", "agent"])
async def test_staff_commands_in_every_spelling_change_nothing(harness: Harness, actor: str) -> None:
    await _kim(harness)
    await harness.grant_admin()
    bot = harness.app.bot.username
    other_group = harness.emu.group(-100777, "Neighbours")
    people = {
        "customer": (harness.customer(302, "Mallory"), None),
        "stranger": (harness.customer(303, "Trudy"), other_group),
        "agent": (harness.agent, harness.staff_group),
    }
    person, chat = people[actor]
    if actor == "customer":
        await join(harness, person)
    if actor == "agent":
        await staff(harness, person, "/staff")  # recorded as an agent on their first staff action
    before = await staff_state(harness.sessions)
    tried = 0
    for command, args in ATTEMPTS:
        if actor == "agent" and command not in ADMIN_ONLY and not args.startswith("new"):
            continue  # an agent may use these
        if actor == "customer" and command in SHARED:
            continue  # in a private chat these are the customer's own /survey, /feedback, /cancel
        for spelling in spellings(command, bot):
            sent = f"{spelling} {args}".strip()
            await person.send(sent, chat=chat)
            last = person.last(chat).text
            tried += "⛔" in last
            assert "Kim" not in last and "cold" not in last, sent
            # "/survey- new …" reaches /survey with the subcommand "-": an agent gets the usage text.
            assert "⛔" in last or (actor == "agent" and last.startswith("Usage")), (sent, last)
            assert changed(before, await staff_state(harness.sessions)) == [], sent
    assert tried >= 7 * 4  # several commands, each in every spelling
    assert await ledger_problems(harness.sessions) == []
    async with harness.sessions.begin() as session:
        refused = await session.scalars(select(AuditEntry).where(AuditEntry.outcome == "refused"))
        assert len(refused.all()) == tried


async def test_a_member_who_leaves_is_no_longer_staff(harness: Harness) -> None:
    await _kim(harness)
    group, agent = harness.staff_group, harness.agent
    assert "Kim" in await staff(harness, agent, "/find Kim")
    await harness.grant_admin()

    await group.leave(agent)  # Telegram tells the bot (chat_member)
    await group.kick(harness.admin, by=harness.owner)
    async with harness.sessions.begin() as session:
        roles = {m.telegram_id: m.role for m in await session.scalars(select(StaffMember))}
    assert AGENT_ID not in roles and ADMIN_ID not in roles

    # A public group's messages can be seen, and their buttons pressed, by someone who is not a member.
    harness.emu.state.chats[group.chat_id].chat["username"] = "staffroom"
    card = next(m for m in group.messages() if m.buttons)
    before = await staff_state(harness.sessions)
    answer = await agent.press(harness.t("en", "feedback.claim_button"), card)
    assert answer is not None and "⛔" in answer["text"]
    assert changed(before, await staff_state(harness.sessions)) == []
    async with harness.sessions.begin() as session:
        item = await session.scalar(select(FeedbackItem))
        assert item.claimed_by is None


async def test_membership_is_asked_again_after_a_minute(harness: Harness) -> None:
    """Without chat_member updates (the bot is not an administrator of the group), a removal counts
    once the remembered membership is older than a minute."""
    await _kim(harness)
    agent = harness.agent
    assert "Kim" in await staff(harness, agent, "/find Kim")
    harness.emu.set_member(harness.staff_group.chat_id, AGENT_ID, "left")  # no update sent
    harness.emu.state.chats[harness.staff_group.chat_id].chat["username"] = "staffroom"  # public
    harness.clock.advance(seconds=61)
    card = next(m for m in harness.staff_group.messages() if m.buttons)
    answer = await agent.press(harness.t("en", "feedback.claim_button"), card)
    assert answer is not None and "⛔" in answer["text"]


async def test_a_survey_file_in_another_group_records_nobody(harness: Harness) -> None:
    stranger = harness.customer(303, "Trudy")
    other_group = harness.emu.group(-100777, "Neighbours")
    before = await staff_state(harness.sessions)
    await stranger.send_document(
        "s.json",
        b'{"name": "x", "questions": [{"type": "text", "text": "Hi?"}]}',
        caption="/survey",
        chat=other_group,
    )
    assert changed(before, await staff_state(harness.sessions)) == []


async def test_an_edited_staff_command_is_not_applied_again(harness: Harness) -> None:
    await _kim(harness)
    group, agent = harness.staff_group, harness.agent
    sent = await agent.send("/purchase #1 10", chat=group)
    assert "Recorded" in agent.last(chat=group).text
    before = await staff_state(harness.sessions)
    await agent.edit(sent, "/purchase #1 100")
    assert agent.last(chat=group).text == harness.t("en", "staff.edit_not_applied")
    assert changed(before, await staff_state(harness.sessions)) == []


@pytest.mark.parametrize("actor", ["customer", "stranger", "agent", "admin"])
async def test_only_an_owner_chooses_the_staff_group(harness: Harness, actor: str) -> None:
    """ "Use this group for staff" (staffgroup:use), pressed or forged by anyone but an owner, in the
    staff group, another group or a private chat, changes nothing and is refused (and audited)."""
    await harness.grant_admin()
    other = harness.emu.group(-100777, "Neighbours")
    other.set_member(harness.owner.user_id, "creator")
    await other.add_bot(harness.owner)  # STAFF_CHAT_ID is set: no button offered, the message is there
    person = {
        "customer": harness.customer(302, "Mallory"),
        "stranger": harness.customer(303, "Trudy"),
        "agent": harness.agent,
        "admin": harness.admin,
    }[actor]
    if actor == "customer":
        await join(harness, person)
    await person.send("/staff", chat=harness.staff_group)  # a message of the bot's to press under
    before = await staff_state(harness.sessions)
    for chat in (other, harness.staff_group, None):
        await person.send("/help", chat=chat)
        target = person.last(chat)
        answer = await person.press_data("staffgroup:use", target)
        assert answer is not None and "⛔" in (answer["text"] or ""), (chat, answer)
    assert changed(before, await staff_state(harness.sessions)) == []


async def test_setup_changes_nothing_once_there_is_an_owner(harness: Harness) -> None:
    trudy = harness.customer(303, "Trudy")
    before = await staff_state(harness.sessions)
    for text in ("/setup", "/setup ABCDE-23456", "/SETUP x", "/setup@engage_test_bot 1"):
        await trudy.send(text)
        assert "owner" not in trudy.last().text.lower() or "done" in trudy.last().text.lower()
    assert changed(before, await staff_state(harness.sessions)) == []
    async with harness.sessions.begin() as session:
        outcomes = (
            await session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "setup"))
        ).all()
    assert outcomes == [{"reason": "done"}] * 3


async def test_a_choice_of_customers_is_pressed_only_by_its_owner_with_the_role(harness: Harness) -> None:
    """The buttons /deduct <name> offers belong to the admin who asked, and need an admin when pressed."""
    for user_id, last in ((311, "Lee"), (312, "Park")):
        kim = harness.customer(user_id, "Kim", last_name=last)
        await join(harness, kim)
        await staff(harness, harness.owner, f"/award #{user_id - 310} 10 welcome")
    await harness.grant_admin()
    group, admin = harness.staff_group, harness.admin
    await staff(harness, admin, "/deduct Kim 5 mistake")
    choice = admin.last(chat=group)
    label = choice.buttons[0][0]
    before = await staff_state(harness.sessions)
    for person in (harness.agent, harness.customer(313, "Mallory")):
        answer = await person.press_data(choice.button_data[label], choice)
        assert answer is not None and answer["text"] == harness.t("en", "button.not_yours")
    assert changed(before, await staff_state(harness.sessions)) == []
    await staff(harness, harness.owner, "/demote @adam")
    before = await staff_state(harness.sessions)
    answer = await admin.press(label, choice)
    assert answer is not None and "⛔" in answer["text"]
    assert changed(before, await staff_state(harness.sessions)) == []


async def test_a_member_link_shows_a_card_to_staff_only(harness: Harness) -> None:
    await _kim(harness)
    async with harness.sessions.begin() as session:
        code = await session.scalar(select(Customer.member_code).where(Customer.telegram_id == 301))
    for person in (harness.customer(302, "Mallory"), harness.customer(303, "Trudy")):
        if person.user_id == 302:
            await join(harness, person)
        await person.send(f"/start m_{code}")
        assert "Kim" not in person.last().text and code not in person.last().text
    await harness.agent.send(f"/start m_{code}")
    assert "Kim" in harness.agent.last().text


async def test_a_campaign_image_and_pause_or_resume_need_an_admin(harness: Harness) -> None:
    """A photo captioned /campaign image from an agent (or in another group), and Pause / Resume pressed
    by an agent or forged by a customer, change nothing; each refusal in the staff group is audited."""
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + (4).to_bytes(4, "big") + (3).to_bytes(4, "big") + b"x"
    await _kim(harness)
    group, owner, agent = harness.staff_group, harness.owner, harness.agent
    await staff(harness, owner, "/campaign new later | all | Later | at 10:00")
    await staff(harness, owner, "/campaign preview later")
    await owner.press("✅ Confirm", chat=group)
    progress = owner.last(chat=group)
    assert progress.buttons == [["⏸ Pause", "⏹ Stop"]]
    await staff(harness, agent, "/staff")  # recorded as an agent
    before = await staff_state(harness.sessions)
    await agent.send_photo(png, caption="/campaign image later", chat=group)
    assert "⛔" in agent.last(chat=group).text
    other = harness.emu.group(-100777, "Neighbours")
    stranger = harness.customer(303, "Trudy")
    await stranger.send_photo(png, caption="/campaign image later", chat=other)
    answer = await agent.press("⏸ Pause", progress)
    assert answer is not None and "⛔" in answer["text"]
    kim = harness.customer(301, "Kim", username="kimmy")
    job_id = progress.button_data["⏸ Pause"].rsplit(":", 1)[1]
    for data in (f"bulk:pause:{job_id}", f"bulk:resume:{job_id}"):
        forged = await kim.press_data(data, kim.last())
        assert forged is not None and "⛔" in forged["text"]
    assert changed(before, await staff_state(harness.sessions)) == []
    async with harness.sessions.begin() as session:
        refused = (
            await session.scalars(select(AuditEntry.action).where(AuditEntry.outcome == "refused"))
        ).all()
    assert {"campaign image", "bulk_pause"} <= set(refused), refused
