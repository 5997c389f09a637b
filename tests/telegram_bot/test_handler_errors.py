"""A handler that fails is logged with the update, reported to the admins (rate-limited)
and the user hears that something went wrong."""

import logging

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from payments.services import payment_pending_create
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import queued

pytestmark = pytest.mark.django_db

ALERT = "telegram_bot.tasks.admin_alert_send"


@pytest.fixture
def admins(bot_settings):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID
    return bot_settings


def test_a_failing_handler_is_logged_reported_once_and_the_user_told(feed, updates, fake_telegram, owner,
                                                                     owner_profile, admins, caplog):
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)
    first = updates.command(owner_profile, "balance")

    with caplog.at_level(logging.ERROR, logger="telegram_bot"):
        feed(first)

    (record,) = [r for r in caplog.records if r.name == "telegram_bot.handlers"]
    assert record.update == {"update_id": first["update_id"], "kind": "message", "command": "/balance",
                             "telegram_user_id": owner.telegram_id}
    assert "TEST-TOKEN" not in caplog.text
    (alert,) = queued(ALERT)
    assert alert["kwargs"]["text"].startswith("🔥 Bot handler failed: NetworkError")
    assert f"update_id={first['update_id']}" in alert["kwargs"]["text"]
    sorry = fake_telegram.last("sendMessage")
    assert sorry["text"] == "Something went wrong on our side. Please try again later."

    # The same failure again within ADMIN_ALERT_INTERVAL_SECONDS: logged, not reported again.
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)
    feed(updates.command(owner_profile, "balance"))
    assert len(queued(ALERT)) == 1


def test_without_an_admin_chat_nothing_is_queued(feed, updates, fake_telegram, owner_profile, bot_settings):
    fake_telegram.fail("sendMessage", error_code=500, description="Internal Server Error", times=1)

    feed(updates.command(owner_profile, "help"))

    assert not queued(ALERT)


def test_every_failed_payment_update_is_reported_with_its_charge(feed, updates, fake_telegram, owner,
                                                                 owner_profile, packs, admins, audit_passes):
    # The payment is credited, then Telegram fails the reply.
    fake_telegram.fail("sendMessage", error_code=502, description="Bad Gateway", times=None)
    payments = [payment_pending_create(user=owner, pack_slug="small") for _ in range(2)]

    feed(*[
        updates.successful_payment(owner_profile, payload=payment.invoice_payload, total_amount=50,
                                   charge_id=f"stxFAIL{payment.pk}")
        for payment in payments
    ])

    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 2
    alerts = [task["kwargs"]["text"] for task in queued(ALERT)]
    assert len(alerts) == 2  # never rate-limited: each is money
    for payment, alert in zip(payments, alerts, strict=True):
        assert alert.startswith("💥 A Stars payment update failed")
        assert f"charge_id=stxFAIL{payment.pk}" in alert
