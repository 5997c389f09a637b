"""The refunded_payment message (Telegram's support refunded a Stars payment): the
payment is refunded and its credits taken back once, the admins are told."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from payments.models import Payment
from payments.services import payment_pending_create
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import queued_run

pytestmark = pytest.mark.django_db

ALERT_TASK = "telegram_bot.tasks.payment_refunded_outside_alert"


def test_a_refund_made_by_telegram_is_booked_once_and_the_admins_are_told(
        feed, updates, fake_telegram, owner, owner_profile, packs, bot_settings, audit_passes,
        django_capture_on_commit_callbacks):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID
    pending = payment_pending_create(user=owner, pack_slug="big")
    paid = fake_telegram.stars.payment(owner_profile, payload=pending.invoice_payload, amount=500)
    feed(updates.stars_payment(owner_profile, paid))
    refund = updates.refunded_payment(owner_profile, fake_telegram.stars.refund_outside(
        paid["telegram_payment_charge_id"]))

    with django_capture_on_commit_callbacks(execute=True):
        feed(refund, refund)  # Telegram's repeat of the same update
        feed(updates.refunded_payment(owner_profile, refund["message"]["refunded_payment"]))  # or a second one

    payment = Payment.objects.get(pk=pending.pk)
    assert (payment.status, payment.refunded_outside, payment.refund_credits_removed) == ("refunded", True, 700)
    owner.refresh_from_db()
    assert owner.credits == 0
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).count() == 1
    assert queued_run(ALERT_TASK) == [True]
    alert = fake_telegram.last("sendMessage")
    assert alert["chat_id"] == ADMIN_CHAT_ID
    assert alert["text"].startswith(f"↩️ Telegram refunded payment {payment.pk} outside NanoGen: 500 Stars")
    assert "700 of 700 credits taken back" in alert["text"]
    # The user heard about the payment only: a service message gets no "unknown message" answer.
    to_user = [call["text"] for call in fake_telegram.calls_to("sendMessage")
               if str(call["chat_id"]) == str(owner.telegram_id)]
    assert [text.split(":")[0] for text in to_user] == ["Payment received"]
