"""The staff dashboard shows the last Stars reconciliation and what is open for staff:
unmatched payments, refunds in progress, Telegram updates that failed."""

import pytest
from django.test import Client

from payments.models import PaymentIssue, StarsReconciliation
from telegram_bot.models import TelegramUpdate
from telegram_bot.services import update_store

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(staff_user) -> Client:
    client = Client()
    client.force_login(staff_user)
    return client


def test_never_reconciled_and_nothing_open(staff_client):
    page = staff_client.get("/admin/dashboard/").content.decode()
    assert "Stars reconciliation:</b>" in page and "never run" in page
    assert "No open discrepancy." in page


def test_the_last_reconciliation_and_the_open_discrepancies(staff_client, owner):
    StarsReconciliation.objects.create(days=3, status="done", transactions=12, credited=2, issues=1, refunds=1)
    PaymentIssue.objects.create(reason="bad_payload", telegram_user_id=owner.telegram_id, currency="XTR",
                                total_amount=5, telegram_payment_charge_id="stxDASH")
    update_store(payload={"update_id": 9})
    TelegramUpdate.objects.filter(pk=9).update(status="failed")
    update_store(payload={"update_id": 10})

    page = staff_client.get("/admin/dashboard/").content.decode()

    assert "3 days, 12 transactions: 2 credited, 1 recorded for staff, 1 refunds booked" in page
    assert "2 open discrepancies" in page
    assert "1 unmatched payments" in page and "1 failed Telegram updates" in page
    assert "Telegram updates waiting to be processed: 1." in page
    assert "/admin/telegram_bot/telegramupdate/?status__exact=failed" in page


def test_a_failed_reconciliation_is_flagged(staff_client):
    StarsReconciliation.objects.create(days=3, status="failed", error="getStarTransactions: 502 Bad Gateway")
    page = staff_client.get("/admin/dashboard/").content.decode()
    assert '<span class="ops-problem">failed: getStarTransactions: 502 Bad Gateway</span>' in page
