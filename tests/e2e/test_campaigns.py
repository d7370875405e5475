"""A campaign end to end through the emulator: drafted, previewed exactly as customers get it (in each
language) with the counts, confirmed, fanned out in the background under the contact budget and the
customers' preferences, with a reproducible hold-out; its offer claimed once under a double tap; "Stop
offers" honoured by the next campaign; the report compares recipients with the hold-out."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage.campaigns import holdout
from storage.campaigns.models import Campaign, CampaignMember
from storage.core import bulk
from storage.core.clock import FakeClock
from storage.core.models import BulkJob
from storage.loyalty.models import Purchase, Voucher
from storage.people import customers, preferences
from storage.people.customers import TelegramProfile
from storage.people.models import OutboxMessage
from tests.databases import new_database_url
from tests.e2e.harness import Harness
from tests.emulator import BotApiEmulator, UserDriver

pytestmark = pytest.mark.strict_transactions

PEOPLE = 30
HOLDOUT = 20
CLAIM, STOP = "🎁 Claim the offer", "🔕 Stop offers"


@pytest.fixture
async def harness(emu: BotApiEmulator, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Harness]:
    h = Harness(
        emu,
        await new_database_url("sqlite", tmp_path),
        clock,
        BULK_BATCH="10",
        BULK_REPORT_SECONDS="5",
        CAMPAIGN_HOLDOUT=str(HOLDOUT),
        CONTACT_BUDGET="2",
        CONTACT_BUDGET_DAYS="7",
    )
    await h.start()
    yield h
    await h.stop()


async def _customers(harness: Harness) -> dict[int, UserDriver]:
    """PEOPLE customers (every third speaks Chinese), by customer id."""
    people = {}
    async with harness.sessions.begin() as session:
        for n in range(PEOPLE):
            lang = "zh" if n % 3 == 0 else "en"
            person = harness.customer(7000 + n, f"C{n}", language_code=lang)
            profile = TelegramProfile(person.user_id, person.user["first_name"], language_code=lang)
            customer = await customers.join(session, profile, harness.settings.config, harness.clock.now())
            people[customer.id] = person
    return people


async def _over_budget(harness: Harness, customer_ids: list[int]) -> None:
    """Two budgeted messages (a win-back message and a survey sent to an audience) this week."""
    now = harness.clock.now()
    async with harness.sessions.begin() as session:
        for cid in customer_ids:
            for n, key in enumerate((f"winback:{cid}:1", f"survey:send:old:{cid}")):
                session.add(
                    OutboxMessage(
                        dedupe_key=key,
                        chat_id=1,
                        customer_id=cid,
                        template="winback.message",
                        params={},
                        language="en",
                        status="sent",
                        not_before=now - timedelta(days=2 + n),
                        sent_at=now - timedelta(days=2 + n),
                        created_at=now - timedelta(days=2 + n),
                    )
                )


async def _send(harness: Harness, name: str) -> None:
    """Confirm the preview on screen and run the fan-out and the sender to the end."""
    group = harness.staff_group
    await harness.owner.press("✅ Confirm", chat=group)
    assert "in the background" in harness.owner.last(chat=group).text
    for _ in range(20):
        await harness.tick("bulk")
        await harness.run_outbox()
        harness.clock.advance(seconds=6)
        async with harness.sessions.begin() as session:
            job = await session.scalar(
                select(BulkJob).where(BulkJob.key.endswith(f":{await _id(session, name)}"))
            )
            if job is not None and job.state == bulk.DONE:
                break
    harness.clock.advance(seconds=6)
    await harness.tick("bulk")


async def _id(session, name: str) -> int:
    return await session.scalar(select(Campaign.id).where(Campaign.name == name))


def _got(person: UserDriver, text: str) -> list:
    return [m for m in person.messages() if text in m.text]


async def test_a_campaign_with_an_offer_end_to_end(harness: Harness) -> None:
    people = await _customers(harness)
    ids = sorted(people)
    opted, busy = ids[0], ids[1:3]
    async with harness.sessions.begin() as session:
        await preferences.choose(session, opted, preferences.OFFERS, False, harness.clock.now())
    await _over_budget(harness, busy)
    group = harness.staff_group
    owner = harness.owner
    await owner.send("/reward add title=Coffee | cost=50 | stock=100 | limit=1", chat=group)

    # Bad input: a clear answer, nothing stored.
    await owner.send("/campaign new spring | all | <b>Spring sale", chat=group)
    assert "never closes" in owner.last(chat=group).text
    await owner.send("/campaign new spring | everyone | Hi", chat=group)
    assert "is not an audience" in owner.last(chat=group).text
    await owner.send("/campaign new spring | all | Hi | offer Tea", chat=group)
    assert "no active reward" in owner.last(chat=group).text
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Campaign)) == 0

    await owner.send(
        "/campaign new spring | all | <b>Spring sale</b>: 10% off! | 春季促销：<b>九折</b>！ | offer Coffee",
        chat=group,
    )
    assert "saved as a draft" in owner.last(chat=group).text
    async with harness.sessions.begin() as session:
        campaign_id = await _id(session, "spring")
    eligible = [cid for cid in ids if cid != opted and cid not in busy]
    held = [cid for cid in eligible if holdout.held_out(campaign_id, cid, HOLDOUT)]
    recipients = [cid for cid in eligible if cid not in held]
    assert held and recipients

    await owner.send("/campaign preview spring", chat=group)
    shown = owner.messages(chat=group)[-5:]
    assert shown[1].text == "Spring sale: 10% off!" and shown[1].buttons == [[CLAIM], [STOP]]
    assert shown[3].text == "春季促销：九折！" and shown[3].buttons == [["🎁 领取优惠"], ["🔕 不再接收优惠"]]
    preview = shown[4].text
    assert f"{PEOPLE} customers" in preview and f"{PEOPLE} reachable" in preview
    assert "1 turned offers off" in preview and "2 over the contact budget" in preview
    assert f"{len(held)} held out ({HOLDOUT}%)" in preview and f"{len(recipients)} will get it" in preview
    answer = await owner.press(CLAIM, chat=group)  # a preview's button does nothing
    assert answer is not None and "preview" in answer["text"]

    await _send(harness, "spring")
    summary = owner.last(chat=group).text
    assert f"{len(recipients)} sent" in summary and f"{len(held)} held out" in summary, summary
    assert "1 opted out" in summary and "2 over budget" in summary
    for cid, person in people.items():
        got = _got(person, "九折" if person.user["language_code"] == "zh" else "Spring sale")
        assert len(got) == (1 if cid in recipients else 0), cid
    async with harness.sessions.begin() as session:
        outcomes = dict(
            (await session.execute(select(CampaignMember.customer_id, CampaignMember.outcome))).all()
        )
    assert sorted(c for c, o in outcomes.items() if o == "held_out") == held

    # The offer: claimed once under a double tap, and only by a recipient.
    kim = people[recipients[0]]
    message = [m for m in kim.messages() if m.buttons][-1]
    claim = message.button_data[next(label for row in message.buttons for label in row if "🎁" in label)]
    first, second = await asyncio.gather(kim.press_data(claim, message), kim.press_data(claim, message))
    async with harness.sessions.begin() as session:
        kim_id = recipients[0]
        assert (
            await session.scalar(
                select(func.count()).select_from(Voucher).where(Voucher.customer_id == kim_id)
            )
            == 1
        )
        voucher = await session.scalar(select(Voucher).where(Voucher.customer_id == kim_id))
        assert voucher.points == 0  # a gift: no points taken
    # One press made the voucher (shown in the chat), the other was told it had been claimed already.
    assert sum(voucher.code in ((a or {}).get("text") or "") for a in (first, second)) == 1
    assert len([m for m in kim.messages() if voucher.code in m.text]) == 1
    outsider = people[held[0]]  # held out: the same button, forged in their own chat, claims nothing
    await outsider.send("/points")
    refused = await outsider.press_data(claim, outsider.last())
    assert refused is not None and refused["text"] == harness.t(
        outsider.user["language_code"], "button.stale"
    )
    forged = await kim.press_data("cp:99999", message)
    assert forged is not None and forged["text"] == harness.t(kim.user["language_code"], "button.stale")
    async with harness.sessions.begin() as session:
        assert await session.scalar(select(func.count()).select_from(Voucher)) == 1

    # "Stop offers": at once, for the presser only; the next campaign leaves them out and counts them.
    leaver_id = recipients[1]
    leaver = people[leaver_id]
    stop_label = STOP if leaver.user["language_code"] == "en" else "🔕 不再接收优惠"
    message = next(m for m in leaver.messages() if stop_label in m.button_data)
    elsewhere = await kim.press_data(message.button_data[stop_label], message)  # not in their own chat
    assert elsewhere is not None and elsewhere["text"] == harness.t(
        kim.user["language_code"], "button.not_yours"
    )
    await harness.restart()  # the button is data: it works after a restart
    stopped = await leaver.press(stop_label, message=message)
    said = harness.t(leaver.user["language_code"], "preferences.offers_stopped")
    assert stopped is not None and stopped["text"] == said
    assert (await leaver.press(stop_label, message=message) or {}).get("text") == said  # twice: the same
    async with harness.sessions.begin() as session:
        assert await preferences.opted_out(session, ids, preferences.OFFERS) == {opted, leaver_id}
    await owner.send(f"/find #{leaver_id}", chat=group)  # staff see it on the card
    assert "Turned off: Offers and promotions" in owner.last(chat=group).text
    await owner.send("/campaign new autumn | all | Autumn treats | holdout 0", chat=group)
    await owner.send("/campaign preview autumn", chat=group)
    assert "2 turned offers off" in owner.last(chat=group).text
    await _send(harness, "autumn")
    assert "2 opted out" in owner.last(chat=group).text and "0 held out" in owner.last(chat=group).text
    assert not _got(leaver, "Autumn") and not _got(people[opted], "Autumn")
    assert _got(kim, "Autumn")

    # The report: purchases since the send, recipients against the hold-out.
    async with harness.sessions.begin() as session:
        for n, cid in enumerate((recipients[0], recipients[2], held[0])):
            session.add(
                Purchase(
                    customer_id=cid,
                    amount=Decimal("40.00"),
                    points=0,
                    reference=f"t{n}",
                    created_at=harness.clock.now(),
                )
            )
    await owner.send("/campaign report spring", chat=group)
    report = owner.messages(chat=group)[-2].text
    chart = owner.last(chat=group)  # the chart follows the text
    assert chart.photo and chart.photo.startswith(b"\x89PNG")
    assert f"{len(recipients)} recipients · {len(held)} held out" in report, report
    assert "1 claimed" in report
    assert f"Recipients: {len(recipients)} customers, 2 bought" in report
    assert f"Hold-out: {len(held)} customers, 1 bought" in report and "Lift" in report
    await owner.send("/campaign list", chat=group)
    assert "spring" in owner.last(chat=group).text and "autumn" in owner.last(chat=group).text
    # Sent once: a second Confirm of a fresh preview is refused.
    await owner.send("/campaign preview spring", chat=group)
    assert "sent already" in owner.last(chat=group).text
