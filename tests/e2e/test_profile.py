"""/profile, changing fields with its buttons, /language, /help, and the command menus."""

from __future__ import annotations

import pytest

from storage.people.timezones import local_time
from tests.e2e.harness import STAFF_CHAT_ID, Harness
from tests.emulator import SentMessage, UserDriver

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions


async def test_profile_shows_and_changes_each_field(harness: Harness) -> None:
    gil = harness.customer(201, "Gil", username="gil")
    await harness.join(gil)
    await gil.send("/profile")
    card = gil.last_text()
    assert "Your profile" in card.text and "@gil" in card.text and "Europe/Berlin" in card.text
    assert card.buttons == [
        ["🎂 Birthday", "📱 Phone"],
        ["🌍 Time zone", "🗣 Language"],
        ["🔕 Turn off: Offers and promotions"],
        ["🔕 Turn off: Surveys"],
        ["🔕 Turn off: Birthday greeting"],
    ]
    assert "Offers and promotions: on" in card.text

    await gil.press("🎂 Birthday", message=card)
    await gil.send("1979-12-24")
    assert "24 December 1979" in gil.last().text and "Your profile" in gil.last().text  # back to the card

    await gil.press("🌍 Time zone", message=gil.last())
    await gil.send("Tokyo")
    await gil.press(f"✅ Asia/Tokyo — now {local_time('Asia/Tokyo', harness.clock.now())}")
    assert "Asia/Tokyo" in gil.last().text and "Your profile" in gil.last().text

    await gil.press("📱 Phone", message=gil.last())
    await gil.share_contact("+81 3 1234 5678")
    assert "+81312345678" in gil.last().text


async def test_profile_toggles_message_preferences_in_place(harness: Harness) -> None:
    """Each kind on by default; a toggle changes the presser's own choice and edits the card; pressed
    again (a double tap), the same choice; a forged toggle is stale; the choice survives a restart."""
    gil = harness.customer(204, "Gil")
    await harness.join(gil)
    await gil.send("/profile")
    card = _card(gil)  # the card, then the member code's QR photo
    data = card.button_data["🔕 Turn off: Surveys"]
    answer = await gil.press("🔕 Turn off: Surveys", message=card)
    assert answer is not None and answer["text"] == "Surveys: off"
    edited = _card(gil)
    assert edited.message_id == card.message_id and "Surveys: off" in edited.text
    assert ["🔔 Turn on: Surveys"] in edited.buttons
    again = await gil.press_data(data, card)  # the old button again: still off
    assert again is not None and "Surveys: off" in _card(gil).text
    forged = await gil.press_data("pf:nosuch:on", card)
    assert forged is not None and forged["text"] == harness.t("en", "button.stale")
    await harness.restart()
    await gil.send("/profile")
    assert "Surveys: off" in _card(gil).text and "Offers and promotions: on" in _card(gil).text
    await gil.press("🔔 Turn on: Surveys")
    assert "Surveys: on" in _card(gil).text


async def test_language_switch_changes_the_texts(harness: Harness) -> None:
    han = harness.customer(202, "Han")
    await harness.join(han)
    await han.send("/language")
    await han.press("中文")
    assert han.last().text == "语言已设为中文。"
    await han.send("/help")
    assert "我能做什么" in han.last().text
    await han.send("/language")
    await han.press("English")
    await han.send("/help")
    assert "What I can do" in han.last().text


async def test_commands_need_joining_first(harness: Harness) -> None:
    ivy = harness.customer(203, "Ivy")
    await ivy.send("/profile")
    assert "send /start and accept" in ivy.last().text
    await ivy.send("hello?")
    assert "/help" in ivy.last().text


async def test_command_menus_differ_for_customers_and_staff(harness: Harness) -> None:
    private = harness.emu.commands(scope={"type": "all_private_chats"})
    staff = harness.emu.commands(scope={"type": "chat", "chat_id": STAFF_CHAT_ID})
    assert {"start", "profile", "language", "help"} <= {c["command"] for c in private}
    assert {"find", "staff", "callback", "callbacks", "followup", "followups"} <= {
        c["command"] for c in staff
    }
    assert "find" not in {c["command"] for c in private}
    chinese = harness.emu.commands(scope={"type": "all_private_chats"}, language_code="zh")
    assert any(c["description"] == "我的资料" for c in chinese)
    # /cancel means "stop what you are asking" to customers and "cancel a voucher" to staff.
    descriptions = {c["command"]: c["description"] for c in private} | {
        f"staff:{c['command']}": c["description"] for c in staff
    }
    assert descriptions["cancel"] == "Stop what I am asking for"
    assert descriptions["staff:cancel"].startswith("Cancel a voucher")


def _card(person: UserDriver) -> SentMessage:
    """The newest profile card (its toggles), whatever followed it."""
    return next(m for m in reversed(person.messages()) if any("Turn" in b for row in m.buttons for b in row))
