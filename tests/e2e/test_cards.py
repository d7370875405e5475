"""Cards edited in place, older cards without buttons: /profile, /rewards and /points opened again take
the buttons off the card before; a button pressed on an older card says it is out of date; a profile
step answered takes its Skip away. And /profile removes a phone or a birthday."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from storage.people.models import Customer
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import add_reward, latest
from tests.emulator import SentMessage, UserDriver

pytestmark = pytest.mark.strict_transactions


def _card(person: UserDriver) -> SentMessage:
    return person.last_text()  # /profile and /points end with the QR photo


async def test_an_older_card_loses_its_buttons_and_is_out_of_date(harness: Harness) -> None:
    ann = harness.customer(801, "Ann")
    await harness.join(ann)
    await add_reward(harness, "title=Tea | cost=5")
    for command in ("/profile", "/rewards", "/points"):
        await ann.send(command)
        first = _card(ann)
        if command != "/points":  # /points has page buttons only with a long history
            assert first.buttons, command
        await ann.send(command)
        second = _card(ann)
        assert second.message_id != first.message_id
        assert latest(ann, first).buttons == [], command
        if command == "/profile":
            assert second.buttons
    # A press on an older card (a client that still shows its buttons) is refused, the card stripped.
    old_profile = next(m for m in ann.messages() if "Your profile" in m.text)
    answer = await ann.press_data("profile:birthday", old_profile)
    assert answer is not None and answer["text"] == harness.t("en", "button.out_of_date")
    assert answer["show_alert"] is True
    # The newest card works, also after a restart (the newest card is written by the seen tick).
    await harness.tick("seen")
    await harness.restart()
    answer = await ann.press_data("profile:birthday", old_profile)
    assert answer is not None and answer["text"] == harness.t("en", "button.out_of_date")
    newest = [m for m in ann.messages() if "Your profile" in m.text][-1]
    await ann.press("🎂 Birthday", message=newest)
    assert ann.last().text == harness.t("en", "profile.ask_birthday")


async def test_an_old_rewards_catalog_cannot_redeem(harness: Harness) -> None:
    ann = harness.customer(802, "Ann", username="ann")
    await harness.join(ann)
    await add_reward(harness, "title=Tea | cost=5")
    await harness.agent.send("/award @ann 50 hi", chat=harness.staff_group)
    await ann.send("/rewards")
    old = ann.last()
    await ann.press("Tea · 5 pts")
    await ann.press("Redeem")
    confirm = latest(ann, old)
    confirm_data = confirm.button_data["✅ Confirm"]
    await ann.send("/rewards")
    assert latest(ann, old).buttons == []
    answer = await ann.press_data(confirm_data, confirm)
    assert answer is not None and answer["text"] == harness.t("en", "button.out_of_date")
    await ann.send("/myrewards")
    assert ann.last().text == harness.t("en", "reward.mine_empty")


async def test_an_answered_step_takes_its_skip_button_away(harness: Harness) -> None:
    ann = harness.customer(803, "Ann")
    await harness.join(ann)
    await ann.send("/profile")
    await ann.press("🎂 Birthday", message=_card(ann))
    prompt = ann.last()
    assert prompt.buttons == [["Skip"]]
    await ann.send("17 May 1990")
    assert latest(ann, prompt).buttons == []
    assert "17 May 1990" in ann.last().text and "Your profile" in ann.last().text


async def _customer(harness: Harness, telegram_id: int) -> Customer:
    async with harness.sessions.begin() as session:
        row = await session.scalar(select(Customer).where(Customer.telegram_id == telegram_id))
    assert row is not None
    return row


@pytest.mark.parametrize("lang", ["en", "zh"])
async def test_profile_removes_a_birthday_and_a_phone(harness: Harness, lang: str) -> None:
    ann = harness.customer(804, "Ann", language_code=lang)
    await harness.join(ann, lang)
    t = harness.t
    await ann.send("/profile")
    assert [t(lang, "profile.remove_birthday")] not in _card(ann).buttons  # nothing to remove yet
    await ann.press(t(lang, "profile.edit_birthday"), message=_card(ann))
    await ann.send("1990-05-17")
    await ann.press(t(lang, "profile.edit_phone"), message=_card(ann))
    await ann.share_contact("+49 151 23456785")
    await ann.send("/profile")
    card = _card(ann)
    assert [t(lang, "profile.remove_birthday"), t(lang, "profile.remove_phone")] in card.buttons
    assert (await _customer(harness, 804)).next_birthday_at is not None

    await ann.press(t(lang, "profile.remove_birthday"), message=card)
    asked = latest(ann, card)
    assert t(lang, "profile.remove_birthday_question") in asked.text
    assert asked.buttons == [[t(lang, "profile.remove_yes"), t(lang, "profile.remove_keep")]]
    await ann.press(t(lang, "profile.remove_keep"), message=asked)
    assert t(lang, "profile.remove_birthday_question") not in latest(ann, card).text
    assert (await _customer(harness, 804)).birthday.month == 5  # kept

    await ann.press(t(lang, "profile.remove_birthday"), message=card)
    answer = await ann.press(t(lang, "profile.remove_yes"), message=card)
    assert answer is not None and answer["text"] == t(lang, "profile.removed_birthday")
    shown = latest(ann, card)
    assert shown.message_id == card.message_id  # edited in place
    assert [t(lang, "profile.remove_phone")] in shown.buttons
    row = await _customer(harness, 804)
    assert (row.birthday, row.next_birthday_at) == (None, None)

    await ann.press(t(lang, "profile.remove_phone"), message=card)
    await ann.press(t(lang, "profile.remove_yes"), message=card)
    shown = latest(ann, card)
    assert t(lang, "profile.not_set") in shown.text and "+4915123456785" not in shown.text
    assert not any("🗑" in label for row_ in shown.buttons for label in row_)
    assert (await _customer(harness, 804)).phone is None
