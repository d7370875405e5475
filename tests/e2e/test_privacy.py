"""Data rights through the bot: a customer's copy of their data (theirs only), erasure by the customer
and by an admin, what staff see afterwards, and that the books still add up."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from storage.core.models import AuditEntry
from storage.loyalty.models import LedgerEntry, LoyaltyAccount, Purchase, Voucher
from storage.people.models import Customer
from tests.e2e.harness import Harness

pytestmark = pytest.mark.strict_transactions

PHONE, BIRTHDAY = "+49 30 1234567", "1992-07-04"


async def _kim_with_history(harness: Harness) -> None:
    kim = harness.customer(301, "Kim", username="kimmy")
    await kim.send("/start")
    await kim.press("✅ Accept")
    await kim.send(BIRTHDAY)
    await kim.share_contact(PHONE)
    await kim.send("Skip")  # the time zone (reply keyboard)
    lee = harness.customer(302, "Lee", username="leelee")
    await harness.join(lee)
    group = harness.staff_group
    await harness.agent.send("/purchase @kimmy 120.00 big order", chat=group)
    await harness.agent.send("/purchase @leelee 30.00", chat=group)
    await harness.agent.send("/note @kimmy calls after 6pm", chat=group)
    await kim.send("/feedback")
    await kim.send("My address is Hauptstraße 1")


async def test_the_export_has_the_customers_data_and_no_one_elses(harness: Harness) -> None:
    await _kim_with_history(harness)
    kim = harness.customer(301, "Kim", username="kimmy")
    await kim.send("/privacy")
    shown = kim.last()
    assert "birthday: yes; phone: yes" in shown.text and "1 purchase," in shown.text
    await kim.press("📦 Send me a copy (JSON)")
    document = kim.last()
    assert document.document is not None
    data = json.loads(document.document)
    assert data["profile"]["phone"] == "+49301234567" and data["profile"]["birthday"].startswith("1992-")
    assert [p["amount"] for p in data["purchases"]] == ["120.00"]
    assert data["feedback"][0]["comment"] == "My address is Hauptstraße 1"
    assert data["notes_by_staff"][0]["text"] == "calls after 6pm"
    text = document.document.decode()
    assert "Lee" not in text and "leelee" not in text and "30.00" not in text


async def test_erasure_forgets_the_person_and_keeps_the_books(harness: Harness) -> None:
    await _kim_with_history(harness)
    kim = harness.customer(301, "Kim", username="kimmy")
    async with harness.sessions.begin() as session:
        balance_before = await session.scalar(select(func.sum(LoyaltyAccount.balance)))
        spend_before = await session.scalar(select(func.sum(Purchase.amount)))
    await kim.send("/privacy")
    await kim.press("🗑 Delete my data")
    assert "cannot be undone" in kim.last().text
    confirm = kim.last()
    await kim.press("✅ Yes, delete everything", message=confirm)
    assert kim.last().text.startswith("Your data has been deleted.")
    answer = await kim.press_data(confirm.button_data.get("✅ Yes, delete everything", "b:x"), confirm)
    assert answer is not None and answer.get("show_alert")  # a second press: nothing more to do

    await harness.grant_admin()
    group = harness.staff_group
    for query in ("kimmy", "+49301234567", "Kim", "301"):
        await harness.admin.send(f"/find {query}", chat=group)
        assert "No customer matches" in harness.admin.last(chat=group).text, query
    await harness.admin.send("/find #1", chat=group)
    card = harness.admin.last(chat=group).text
    assert "Kim" not in card and "1992" not in card and "+4930" not in card and "calls after" not in card

    async with harness.sessions.begin() as session:
        erased = await session.get(Customer, 1)
        assert erased is not None and erased.telegram_id == -1 and erased.erased_at is not None
        # The books: entries are kept, the cached balance still equals the ledger.
        assert await session.scalar(select(func.sum(Purchase.amount))) == spend_before
        assert await session.scalar(select(func.sum(LoyaltyAccount.balance))) == balance_before
        ledger_total = await session.scalar(
            select(func.sum(LedgerEntry.points)).where(LedgerEntry.customer_id == 1)
        )
        account = await session.get(LoyaltyAccount, 1)
        assert account is not None and account.balance == ledger_total
        notes = await session.scalar(
            select(func.count())
            .select_from(Purchase)
            .where(Purchase.note.is_not(None), Purchase.customer_id == 1)
        )
        assert notes == 0
        actions = list(await session.scalars(select(AuditEntry.action).where(AuditEntry.action == "erase")))
    assert actions == ["erase"]

    await kim.send("/start")  # a new customer now
    assert "Accept" in str(kim.last().buttons)
    await kim.press("✅ Accept")
    async with harness.sessions.begin() as session:
        rows = list(await session.scalars(select(Customer).where(Customer.telegram_id == 301)))
    assert len(rows) == 1 and rows[0].id != 1 and rows[0].phone is None


async def test_an_admin_erases_on_request_and_an_agent_cannot(harness: Harness) -> None:
    await _kim_with_history(harness)
    group = harness.staff_group
    await harness.agent.send("/erase @kimmy", chat=group)
    assert "needs the role admin" in harness.agent.last(chat=group).text
    await harness.grant_admin()
    await harness.admin.send("/erase @kimmy", chat=group)
    question = harness.admin.last(chat=group)
    assert "Erase #1 Kim?" in question.text
    await harness.admin.press("🗑 Erase #1 Kim", message=question, chat=group)
    assert harness.admin.last(chat=group).text.startswith("🗑 Customer #1 erased")
    await harness.admin.send("/erase #1", chat=group)
    assert "erased already" in harness.admin.last(chat=group).text
    async with harness.sessions.begin() as session:
        vouchers = await session.scalar(
            select(func.count()).select_from(Voucher).where(Voucher.status == "active")
        )
    assert vouchers == 0
