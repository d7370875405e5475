"""A customer joins, completes (or skips) the profile, in English and Chinese, across a restart."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from storage.core.models import AuditEntry, Conversation
from storage.people.birthdays import Birthday
from storage.people.models import Customer, StaffMember
from storage.people.timezones import local_time
from tests.e2e.harness import Harness

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def _customer(harness: Harness, telegram_id: int) -> Customer | None:
    async with harness.sessions.begin() as session:
        return await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))


async def test_full_onboarding_in_english_with_every_bad_birthday(harness: Harness) -> None:
    ann = harness.customer(101, "Ann", username="ann", language_code="en-US")
    await ann.send("/start")
    welcome = ann.last()
    assert "Hello, Ann!" in welcome.text and "Privacy" in welcome.text
    assert welcome.buttons == [["✅ Accept", "Decline"]]

    await ann.press("✅ Accept")
    assert "Welcome aboard, Ann!" in ann.messages()[-2].text  # the notice, edited
    assert ann.messages()[-2].buttons == []
    assert "When is your birthday?" in ann.last().text

    refusals = {
        "1990-02-30": "birthday.invalid",
        "31.04.1990": "birthday.invalid",
        "13/45": "birthday.invalid",
        "next week": "birthday.invalid",
        "2030-01-01": "birthday.future",
        "1899-12-31": "birthday.too_old",
    }
    for text, key in refusals.items():
        await ann.send(text)
        reply = ann.last().text
        assert harness.t("en", key) in reply, text
        assert "When is your birthday?" in reply  # asked again
    assert (await _customer(harness, 101)).birthday is None

    await ann.send("17.05.1990")
    assert "Got it: 17 May 1990." in ann.messages()[-2].text
    phone_prompt = ann.last()
    assert "share your phone number" in phone_prompt.text
    assert phone_prompt.reply_keyboard  # the share-contact keyboard

    await ann.share_contact("+44 7700 900123", user_id=999)  # someone else's card
    assert "isn't yours" in ann.last().text
    await ann.share_contact("+44 7700 900123")
    assert "phone number is saved" in ann.messages()[-2].text
    assert "Which time zone" in ann.last().text

    await ann.send("Qwertyland")
    assert "I don't know the time zone “Qwertyland”" in ann.last().text
    await ann.send("new york")
    new_york = f"America/New_York — now {local_time('America/New_York', harness.clock.now())}"
    assert ann.last().text == f"Is it {new_york}? Tap ✅ to confirm."
    await ann.press(f"✅ {new_york}")
    assert f"Time zone set: {new_york}." in ann.messages()[-2].text
    assert "Your profile is complete" in ann.last().text
    assert ann.keyboard() is None  # the share-location keyboard is gone

    stored = await _customer(harness, 101)
    assert (stored.first_name, stored.username, stored.language) == ("Ann", "ann", "en")
    assert stored.birthday == Birthday(5, 17, 1990)
    assert stored.phone == "+447700900123"
    assert stored.timezone == "America/New_York"
    assert stored.consent_at == harness.clock.now()


async def test_onboarding_in_chinese(harness: Harness) -> None:
    li = harness.customer(102, "李雷", language_code="zh-hans")
    await li.send("/start")
    assert "李雷，你好" in li.last().text
    await li.press("✅ 同意")
    assert "你的生日是哪天" in li.last().text
    await li.send("2000年2月30日")
    assert harness.t("zh", "birthday.invalid") in li.last().text
    await li.send("2000年2月29日")  # a leap day is a real birthday
    assert "好的：2000年2月29日。" in li.messages()[-2].text
    await li.share_contact("+86 138 0013 8000")
    await li.send("上海")
    shanghai = f"Asia/Shanghai (上海) — 现在 {local_time('Asia/Shanghai', harness.clock.now())}"
    await li.press(f"✅ {shanghai}")
    assert f"时区已设为：{shanghai}。" in li.messages()[-2].text
    assert "资料已完善" in li.last().text
    stored = await _customer(harness, 102)
    assert stored.birthday is not None
    assert (stored.language, stored.birthday.month, stored.birthday.day, stored.timezone) == (
        "zh",
        2,
        29,
        "Asia/Shanghai",
    )


async def test_birthday_without_a_year(harness: Harness) -> None:
    bo = harness.customer(103, "Bo")
    await bo.send("/start")
    await bo.press("✅ Accept")
    await bo.send("05/17")
    stored = await _customer(harness, 103)
    assert stored.birthday == Birthday(5, 17)


async def test_every_step_can_be_skipped(harness: Harness) -> None:
    cy = harness.customer(104, "Cy")
    await harness.join(cy)
    assert "Your profile is complete" in cy.last().text
    stored = await _customer(harness, 104)
    assert (stored.birthday, stored.phone, stored.timezone) == (None, None, "Europe/Berlin")
    async with harness.sessions.begin() as session:
        assert await session.get(Conversation, (104, 104)) is None


async def test_restart_in_the_middle_of_onboarding_continues(harness: Harness) -> None:
    dee = harness.customer(105, "Dee")
    await dee.send("/start")
    await dee.press("✅ Accept")
    await dee.send("1985-11-02")
    assert "share your phone number" in dee.last().text

    await harness.restart()

    await dee.share_contact("+1 202 555 0100")
    assert "phone number is saved" in dee.messages()[-2].text
    assert "Which time zone" in dee.last().text
    await dee.send("Skip")  # the share-location keyboard's
    assert "Your profile is complete" in dee.last().text
    stored = await _customer(harness, 105)
    assert (stored.birthday and stored.birthday.year, stored.phone) == (1985, "+12025550100")


async def test_decline_stores_nothing(harness: Harness) -> None:
    eve = harness.customer(106, "Eve", username="eve")
    await eve.send("/start")
    await eve.press("Decline")
    assert "nothing about you was stored" in eve.last().text
    assert "/start" in eve.last().text
    async with harness.sessions.begin() as session:
        for model, column in (
            (Customer, Customer.telegram_id),
            (Conversation, Conversation.user_id),
            (AuditEntry, AuditEntry.actor_id),
            (StaffMember, StaffMember.telegram_id),
        ):
            count = await session.scalar(select(func.count()).select_from(model).where(column == 106))
            assert count == 0, model.__name__


async def test_pressing_accept_twice_joins_once(harness: Harness) -> None:
    fay = harness.customer(107, "Fay")
    await fay.send("/start")
    notice = fay.last()
    await fay.press("✅ Accept", message=notice)
    answer = await fay.press_data(notice.button_data["✅ Accept"], notice)
    assert answer is not None and "already joined" in answer["text"]
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Customer)) == 1


async def test_names_with_markup_come_back_escaped(harness: Harness) -> None:
    name = "<b>Tom</b> & Jerry 🐱"
    tom = harness.customer(108, name)
    await tom.send("/start")
    assert f"Hello, {name}!" in tom.last().text  # shown literally: not bold, not rejected by Telegram
    await harness.join(tom)
    await harness.grant_admin()
    await harness.admin.send("/find Tom", chat=harness.staff_group)
    card = harness.admin.last(chat=harness.staff_group)
    assert name in card.text
    assert "&amp;" in card.html and "&lt;b&gt;" in card.html


async def test_cancel_stops_the_step_in_progress(harness: Harness) -> None:
    rae = harness.customer(109, "Rae")
    await rae.send("/start")
    await rae.press("✅ Accept")
    await rae.send("/cancel")
    assert rae.last().text == "Cancelled. Send /help to see what I can do."
    await rae.send("1990-01-01")  # no longer taken as a birthday
    assert "/help" in rae.last().text
    assert (await _customer(harness, 109)).birthday is None
    await rae.send("/cancel")
    assert rae.last().text == "There is nothing to cancel."
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(AuditEntry)) == 0  # not a staff refusal
