"""At the counter (issue 13): the member code and its QR code, /purchase by code, by a phone number
written with spaces, by a name (a choice pressed once), the deep link staff open, and an edited
command that never confirms something other than what was done."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import func, select

from handlers.customer.member_card import qr_png
from storage.loyalty.models import Purchase
from storage.people import member_codes
from storage.people.birthdays import Birthday
from tests.e2e.harness import Harness
from tests.e2e.invariants import changed, staff_state
from tests.e2e.loyalty_steps import balance, customer_row, join, staff
from tests.emulator import UserDriver

pytestmark = pytest.mark.strict_transactions

CODE = re.compile(r"Member code ([A-Z2-9]{7})")


async def _counter(harness: Harness) -> None:
    """National phone numbers are German here."""
    harness.env["DEFAULT_REGION"] = "DE"
    await harness.restart()


async def _kim(
    harness: Harness, user_id: int = 501, last_name: str = "Lee", phone: str | None = None
) -> UserDriver:
    kim = harness.customer(user_id, "Kim", last_name=last_name)
    await join(harness, kim)
    if phone:
        await kim.send("/profile")
        await kim.press(harness.t("en", "profile.edit_phone"))
        await kim.share_contact(phone)
    return kim


async def _purchases(harness: Harness) -> list[tuple[int, str]]:
    async with harness.sessions.begin() as session:
        rows = await session.execute(select(Purchase.customer_id, Purchase.amount).order_by(Purchase.id))
        return [(customer_id, f"{amount:.2f}") for customer_id, amount in rows]


async def test_points_and_profile_show_the_code_and_its_qr_code(harness: Harness) -> None:
    kim = await _kim(harness)
    code = (await customer_row(harness, kim.user_id)).member_code
    assert member_codes.normalize(code) == code
    link = f"https://t.me/{harness.app.bot.username}?start=m_{code}"
    for command in ("/points", "/profile"):
        await kim.send(command)
        text, photo = kim.messages()[-2:]
        assert code in text.text, command
        assert photo.photo == qr_png(link) and photo.text == f"🪪 {code}", command  # the text, then the photo
    assert CODE.search(kim.messages()[-4].text).group(1) == code
    await kim.send("/points")  # a read: nothing written, the same code
    assert (await customer_row(harness, kim.user_id)).member_code == code


async def test_purchase_by_code_and_by_a_phone_written_with_spaces(harness: Harness) -> None:
    await _counter(harness)
    kim = await _kim(harness, phone="+49 151 23456785")
    row = await customer_row(harness, kim.user_id)
    assert row.phone == "+4915123456785"

    reply = await staff(harness, harness.agent, f"/purchase {row.member_code.lower()} 12.50 latte")
    assert f"Recorded 12.50 for #{row.id} Kim Lee: +12 points (balance 12, Member)" in reply
    reply = await staff(harness, harness.owner, "/purchase 0151 2345678 5 7.50")
    assert f"Recorded 7.50 for #{row.id} Kim Lee" in reply and "balance 19, Member" in reply
    for typed in ("+49 151 23456785", "0151-23456785", "015123456785"):
        assert "balance 20" in await staff(harness, harness.owner, f"/award {typed} 1 phone {typed}")
        assert "balance 19" in await staff(harness, harness.owner, f"/deduct {typed} 1 undo")
    # An agent may not look customers up by phone: nobody is found, nothing is booked.
    before = await staff_state(harness.sessions)
    reply = await staff(harness, harness.agent, "/purchase 0151 2345678 5 12.50")
    assert reply.startswith("No customer 0151 2345678 5")
    assert changed(before, await staff_state(harness.sessions)) == []
    assert await _purchases(harness) == [(row.id, "12.50"), (row.id, "7.50")]


async def test_a_name_asks_which_customer_and_books_once(harness: Harness) -> None:
    kim_lee, kim_park = await _kim(harness, 501, "Lee"), await _kim(harness, 502, "Park")
    lee, park = await customer_row(harness, kim_lee.user_id), await customer_row(harness, kim_park.user_id)
    group = harness.staff_group

    assert f"#{park.id} Kim Park" in await staff(harness, harness.agent, '/purchase "Kim Park" 5')
    assert f"#{lee.id} Kim Lee" in await staff(harness, harness.agent, "/purchase Kim Lee 6")

    choice_text = await staff(harness, harness.agent, "/purchase Kim 20 two coffees")
    choice = harness.agent.last(chat=group)
    assert choice_text == "2 customers match “Kim”: which one?"
    labels = [row[0] for row in choice.buttons]
    assert labels == [f"#{lee.id} Kim Lee · {lee.member_code}", f"#{park.id} Kim Park · {park.member_code}"]
    # Someone else's choice is not theirs to make.
    answer = await harness.owner.press(labels[1], choice)
    assert answer is not None and answer["text"] == harness.t("en", "button.not_yours")
    data = choice.button_data[labels[1]]
    await harness.agent.press(labels[1], choice)
    done = harness.agent.last(chat=group)
    assert done.message_id == choice.message_id and done.buttons == []
    assert f"Recorded 20.00 for #{park.id} Kim Park: +20 points (balance 25, Member)" in done.text
    # A double press (and a press on the other customer) finds the buttons spent: booked once.
    for again in (data, choice.button_data[labels[0]]):
        answer = await harness.agent.press_data(again, choice)
        assert answer is not None and answer["text"] == harness.t("en", "button.stale")
    assert await _purchases(harness) == [(park.id, "5.00"), (lee.id, "6.00"), (park.id, "20.00")]
    assert await balance(harness, kim_park.user_id) == 25

    # /award and /deduct ask the same way; /deduct's choice only for admins.
    await staff(harness, harness.agent, "/award Kim 3 sorry")
    await harness.agent.press(f"#{lee.id} Kim Lee · {lee.member_code}", chat=group)
    assert f"Awarded 3 points to #{lee.id} Kim Lee (balance 9, Member)" in harness.agent.last(chat=group).text
    assert await balance(harness, kim_lee.user_id) == 9
    await harness.grant_admin()
    await staff(harness, harness.admin, "/deduct Kim 2 mistake")
    await harness.admin.press(f"#{lee.id} Kim Lee · {lee.member_code}", chat=group)
    assert "Deducted 2 points from" in harness.admin.last(chat=group).text
    assert await balance(harness, kim_lee.user_id) == 7
    assert harness.t("en", "loyalty.customer_unknown", reference="Nobody") == await staff(
        harness, harness.agent, "/purchase Nobody 5"
    )


async def test_the_deep_link_opens_the_card_for_staff_only(harness: Harness) -> None:
    kim = await _kim(harness)
    code = (await customer_row(harness, kim.user_id)).member_code
    agent = harness.agent
    await agent.send(f"/start m_{code}")  # the agent's phone camera, in their private chat
    card = agent.last()
    assert "Kim Lee" in card.text and code in card.text and "Balance" not in card.text.split("\n")[0]
    assert card.buttons == []  # the timeline button works in the staff group only

    # A customer (and someone who has not joined) opening it gets their own /start.
    bob = harness.customer(503, "Bob")
    await bob.send(f"/start m_{code}")
    assert "Kim" not in bob.last().text and bob.last().buttons  # the privacy notice, to accept
    await kim.send(f"/start m_{code.lower()}")
    assert kim.last().text == harness.t("en", "onboarding.welcome_back", name="Kim")
    # Someone who left the staff group is a customer again.
    harness.emu.set_member(harness.staff_group.chat_id, agent.user_id, "left")
    harness.clock.advance(seconds=61)
    await agent.send(f"/start m_{code}")
    assert "Kim" not in agent.last().text


async def test_an_edited_purchase_confirms_only_what_was_booked(harness: Harness) -> None:
    kim = await _kim(harness)
    row = await customer_row(harness, kim.user_id)
    group, agent = harness.staff_group, harness.agent
    sent = await agent.send(f"/purchase #{row.id} 10", chat=group)
    assert "Recorded 10.00" in agent.last(chat=group).text
    await agent.edit(sent, f"/purchase #{row.id} 100")
    assert agent.last(chat=group).text == harness.t("en", "staff.edit_not_applied")
    assert not any("100.00" in m.text for m in agent.messages(group))
    assert await _purchases(harness) == [(row.id, "10.00")]
    assert await balance(harness, kim.user_id) == 10
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Purchase)) == 1


async def test_birthdays_and_follow_ups_in_the_forms_people_type(harness: Harness) -> None:
    kim = await _kim(harness)
    await kim.send("/profile")
    await kim.press(harness.t("en", "profile.edit_birthday"))
    await kim.send("May 17")
    assert "Got it: 17 May." in [m.text for m in kim.messages()[-3:]]
    await kim.send("/profile")
    assert "Birthday: 17 May\n" in kim.last_text().text and "--05-17" not in kim.last_text().text
    li = harness.customer(502, "李", language_code="zh-hans")
    await join(harness, li, lang="zh")
    await li.send("/profile")
    await li.press(harness.t("zh", "profile.edit_birthday"))
    await li.send("05/06/1990")  # Chinese writes the month first
    row = await customer_row(harness, li.user_id)
    assert row.birthday == Birthday(5, 6, 1990)

    code = (await customer_row(harness, kim.user_id)).member_code
    reply = await staff(harness, harness.owner, f"/find {code.lower()}")
    assert "Birthday: 17 May ·" in reply and code in reply
    reply = await staff(harness, harness.agent, f"/callback {code} friday 15:00 ask about the order")
    assert "Kim" in reply and "15:00" in reply
    reply = await staff(harness, harness.agent, f"/note {code} prefers calls")
    assert "Kim Lee" in reply
    reply = await staff(harness, harness.agent, f"/tag {code.lower()} vip")
    assert "vip" in reply


async def test_note_tag_and_callback_take_a_name_only_one_customer_has(harness: Harness) -> None:
    lee, park = await _kim(harness, 501, "Lee"), await _kim(harness, 502, "Park")
    lee_row, park_row = await customer_row(harness, lee.user_id), await customer_row(harness, park.user_id)
    assert f"#{park_row.id} Kim Park" in await staff(harness, harness.agent, "/note Park likes tea")
    assert "vip" in await staff(harness, harness.agent, "/tag park vip")
    assert "Kim" in await staff(harness, harness.agent, "/callback Lee friday 15:00 ask")
    before = await staff_state(harness.sessions)
    reply = await staff(harness, harness.agent, "/note Kim likes tea")
    both = [f"#{row.id} Kim {row.last_name} ({row.member_code})" for row in (lee_row, park_row)]
    assert reply == harness.t("en", "loyalty.several_customers", reference="Kim", customers=", ".join(both))
    assert changed(before, await staff_state(harness.sessions)) == []


def _photographed(png: bytes) -> bytes:
    """The QR code as a phone photographs it: smaller, off centre on a coloured counter, then JPEG, as
    Telegram recompresses a photo."""
    with Image.open(io.BytesIO(png)) as qr:
        counter = Image.new("RGB", (1280, 960), (190, 170, 150))
        counter.paste(qr.convert("RGB").resize((360, 360)), (700, 420))
    out = io.BytesIO()
    counter.save(out, "JPEG", quality=70)
    return out.getvalue()


async def test_a_photo_of_the_qr_code_captioned_find_opens_the_card(harness: Harness) -> None:
    kim = await _kim(harness)
    code = (await customer_row(harness, kim.user_id)).member_code
    await kim.send("/points")
    photo = kim.messages()[-1].photo  # the QR code exactly as Kim's phone shows it
    group, agent = harness.staff_group, harness.agent
    await agent.send_photo(_photographed(photo), caption="/find", chat=group)
    card = agent.last(chat=group)
    assert "Kim Lee" in card.text and code in card.text
    assert card.buttons == [[harness.t("en", "overview.timeline_button")]]

    await agent.send_photo(_photographed(qr_png("https://example.com/menu")), caption="/find", chat=group)
    assert agent.last(chat=group).text == harness.t("en", "staff.scan_none")
    await agent.send_photo(b"not an image at all", caption="/find", chat=group)
    assert agent.last(chat=group).text == harness.t("en", "staff.scan_none")
    before = len(agent.messages(chat=group))
    await agent.send_photo(_photographed(photo), caption="lunch menu", chat=group)  # not for the bot
    assert len(agent.messages(chat=group)) == before

    # Not staff: a customer's photo captioned /find in their private chat shows nobody's card.
    bob = harness.customer(504, "Bob")
    await join(harness, bob)
    await bob.send_photo(_photographed(photo), caption="/find")
    assert all("Kim" not in m.text for m in bob.messages())
