"""The time zone step as a customer meets it: a city in Chinese during onboarding, a shared location in
/profile, an ambiguous abbreviation read by the customer's language, an offset, refusals and stale
buttons."""

from __future__ import annotations

import pytest

from storage.people.timezones import local_time
from tests.e2e.harness import Harness
from tests.e2e.loyalty_steps import customer_row
from tests.emulator import UserDriver

# Decide and commit, then talk: a Telegram request inside a transaction fails the update here.
pytestmark = pytest.mark.strict_transactions

MUNICH = (48.137, 11.576)


def shown(harness: Harness, zone: str, lang: str = "en", name: str | None = None) -> str:
    """A zone as the bot shows it: "Europe/Berlin — now 13:00", "Europe/Berlin (柏林) — 现在 13:00"."""
    now = local_time(zone, harness.clock.now())
    return f"{name or zone} — now {now}" if lang == "en" else f"{name or zone} — 现在 {now}"


async def _to_timezone_step(harness: Harness, person: UserDriver, lang: str) -> None:
    """Join and skip the birthday and the phone: the time zone is asked next."""
    await person.send("/start")
    await person.press(harness.t(lang, "onboarding.accept"))
    await person.press(harness.t(lang, "profile.skip"))
    await person.send(harness.t(lang, "profile.skip"))


async def test_onboarding_with_a_chinese_city_name_is_confirmed_then_saved(harness: Harness) -> None:
    mei = harness.customer(401, "梅", language_code="zh-hans")
    await _to_timezone_step(harness, mei, "zh")
    ask = mei.last()
    assert "你在哪个时区" in ask.text and "慕尼黑" in ask.text
    keyboard = mei.keyboard()
    assert keyboard and keyboard.location_buttons == ["📍 分享我的位置"] and ["跳过"] in keyboard.rows

    await mei.send("慕尼黑")
    berlin = shown(harness, "Europe/Berlin", "zh", "Europe/Berlin (柏林)")
    confirm = mei.last()
    assert confirm.text == f"是 {berlin} 吗？点击 ✅ 确认。"
    assert confirm.buttons == [[f"✅ {berlin}"], ["🔎 选择其他"]]
    assert (await customer_row(harness, 401)).timezone == "Europe/Berlin"  # the default: nothing saved yet

    await mei.send("Shenzhen")  # changed their mind: a new question, the step still open
    shanghai = shown(harness, "Asia/Shanghai", "zh", "Asia/Shanghai (上海)")
    assert mei.last().buttons == [[f"✅ {shanghai}"], ["🔎 选择其他"]]
    await mei.press(f"✅ {berlin}", message=confirm)  # the first question's button still answers
    assert f"时区已设为：{berlin}。" in mei.messages()[-2].text
    assert "资料已完善" in mei.last().text
    assert mei.keyboard() is None
    assert (await customer_row(harness, 401)).timezone == "Europe/Berlin"
    assert confirm.message_id in [m.message_id for m in mei.messages() if not m.buttons]  # buttons gone

    stale = await mei.press_data(f"tz:{'Asia/Shanghai'}", mei.messages()[-4])  # the step is over
    assert stale is not None and stale["text"] == harness.t("zh", "button.stale")
    assert (await customer_row(harness, 401)).timezone == "Europe/Berlin"


async def test_profile_with_a_shared_location_sets_the_zone_at_once(harness: Harness) -> None:
    ned = harness.customer(402, "Ned")
    await harness.join(ned)
    await ned.send("/profile")
    await ned.press("🌍 Time zone", message=ned.last_text())
    assert ned.keyboard() and ned.keyboard().request_location
    await ned.share_location(*MUNICH, horizontal_accuracy=35)
    saved = ned.messages()[-2]
    assert saved.text == f"🌍 Time zone set: {shown(harness, 'Europe/Berlin')}."
    assert "Your profile" in ned.last().text and ned.keyboard() is None
    row = await customer_row(harness, 402)
    assert row.timezone == "Europe/Berlin"
    # The location itself is kept nowhere: not in the customer's row.
    assert "48.137" not in repr(vars(row)) and "11.576" not in repr(vars(row))

    await ned.share_location(40.71, -74.0, via_button=False)  # no question pending: not understood
    assert ned.last().text == harness.t("en", "common.unknown_input")
    assert (await customer_row(harness, 402)).timezone == "Europe/Berlin"


@pytest.mark.parametrize(
    ("lang", "zone", "other"),
    [("zh", "Asia/Shanghai", "America/Chicago"), ("en", "America/Chicago", "Asia/Shanghai")],
)
async def test_cst_means_china_in_chinese_and_us_central_in_english(
    harness: Harness, lang: str, zone: str, other: str
) -> None:
    person = harness.customer(403, "Cy", language_code=lang)
    await _to_timezone_step(harness, person, lang)
    await person.send("CST")
    question = person.last()
    names = {"Asia/Shanghai": "Asia/Shanghai (上海)", "America/Chicago": "America/Chicago (芝加哥)"}
    label = shown(harness, zone, lang, names[zone] if lang == "zh" else None)
    assert label in question.text and "CST" in question.text
    assert question.buttons[0] == [f"✅ {label}"]
    other_label = shown(harness, other, lang, names[other] if lang == "zh" else None)
    assert [other_label] in question.buttons  # the other meaning, one tap away
    await person.press(f"✅ {label}")
    assert (await customer_row(harness, 403)).timezone == zone


async def test_an_offset_offers_places_and_the_fixed_zone(harness: Harness) -> None:
    ola = harness.customer(404, "Ola")
    await _to_timezone_step(harness, ola, "en")
    await ola.send("GMT+1")
    question = ola.last()
    assert "offset from UTC, not a place" in question.text
    assert [shown(harness, "Europe/Berlin")] in question.buttons  # no ✅: nothing is presumed
    assert question.buttons[-2:] == [["UTC+1 all year, no summer time"], ["🔎 Choose another"]]
    await ola.press("UTC+1 all year, no summer time")
    assert (await customer_row(harness, 404)).timezone == "Etc/GMT-1"  # POSIX's sign: east is minus


async def test_unknown_input_is_refused_with_examples_and_another_can_be_chosen(harness: Harness) -> None:
    pia = harness.customer(405, "Pia")
    await _to_timezone_step(harness, pia, "en")
    await pia.send("Qwertyland")
    refusal = pia.last().text
    assert "I don't know the time zone “Qwertyland”" in refusal
    assert "London" in refusal and "UTC+8" in refusal and "Share my location" in refusal
    await pia.send("Portland")
    question = pia.last()
    assert "can mean more than one time zone" in question.text
    await pia.press("🔎 Choose another", message=question)
    assert "Which time zone" in pia.last().text and question.message_id != pia.last().message_id
    forged = await pia.press_data("tz:Nowhere/Atlantis", question)
    assert forged is not None and forged["text"] == harness.t("en", "button.stale")
    await pia.send("Europe/Lisbon")  # a full IANA name needs no confirmation
    assert f"Time zone set: {shown(harness, 'Europe/Lisbon')}." in pia.messages()[-2].text
    assert (await customer_row(harness, 405)).timezone == "Europe/Lisbon"
