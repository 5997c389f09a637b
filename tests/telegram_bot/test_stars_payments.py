"""Stars payments through the bot: pre_checkout_query answered through the payments
service, successful_payment credited exactly once and answered with the balance."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry, User
from payments.models import Payment, PaymentIssue
from payments.services import payment_pending_create
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import queued, queued_run

pytestmark = pytest.mark.django_db

ISSUE_ALERT = "telegram_bot.tasks.payment_issue_alert"


@pytest.fixture
def pending(owner, packs) -> Payment:
    return payment_pending_create(user=owner, pack_slug="big")


def test_pre_checkout_of_a_valid_invoice_is_accepted(feed, updates, fake_telegram, owner_profile, pending):
    feed(updates.pre_checkout(owner_profile, payload=pending.invoice_payload, total_amount=500))

    answer = fake_telegram.last("answerPreCheckoutQuery")
    assert answer["ok"] in (True, "true", "True")
    assert "error_message" not in answer.params
    assert Payment.objects.get(pk=pending.pk).status == "pending"  # nothing is paid before successful_payment


@pytest.mark.parametrize("language, message", [
    ("en", "This invoice is not valid. Please open the shop and buy again."),
    ("ru", "Этот счёт недействителен. Откройте магазин и купите снова."),
])
def test_pre_checkout_of_a_wrong_amount_is_refused_with_a_reason(feed, updates, fake_telegram, owner,
                                                                 owner_profile, pending, language, message):
    User.objects.filter(pk=owner.pk).update(language_code=language)

    feed(updates.pre_checkout(owner_profile, payload=pending.invoice_payload, total_amount=1))

    answer = fake_telegram.last("answerPreCheckoutQuery")
    assert answer["ok"] in (False, "false", "False")
    assert answer["error_message"] == message


def test_pre_checkout_of_someone_elses_invoice_is_refused(feed, updates, fake_telegram, stranger, pending):
    from tests.fakes.telegram_updates import telegram_profile

    feed(updates.pre_checkout(telegram_profile(stranger.telegram_id), payload=pending.invoice_payload,
                              total_amount=500))

    assert fake_telegram.last("answerPreCheckoutQuery")["ok"] in (False, "false", "False")


def test_a_successful_payment_credits_the_pack_once_and_says_the_balance(feed, updates, fake_telegram, owner,
                                                                        owner_profile, pending, audit_passes):
    paid = {"payload": pending.invoice_payload, "total_amount": 500, "charge_id": "stxBOT000001"}

    # Telegram's repeat of the update (the same update_id) and a second update for the same charge.
    first = updates.successful_payment(owner_profile, **paid)
    feed(first, first, updates.successful_payment(owner_profile, **paid))

    owner.refresh_from_db()
    assert owner.credits == 700
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 1
    payment = Payment.objects.get(pk=pending.pk)
    assert (payment.status, payment.telegram_payment_charge_id) == ("paid", "stxBOT000001")
    replies = fake_telegram.calls_to("sendMessage")
    assert len(replies) == 2  # one per distinct update
    assert replies[0]["text"] == "Payment received: +700 credits. Your balance: 700 credits."


def test_the_payment_reply_is_in_russian(feed, updates, fake_telegram, owner, owner_profile, pending,
                                         audit_passes):
    owner_profile["language_code"] = "ru"

    feed(updates.successful_payment(owner_profile, payload=pending.invoice_payload, total_amount=500,
                                    charge_id="stxBOT000002"))

    assert fake_telegram.last("sendMessage")["text"] == "Оплата получена: +700 кредитов. Ваш баланс: 700 кредитов."


def test_an_unmatched_payment_is_kept_for_staff_the_user_told_and_the_admins_alerted(
    feed, updates, fake_telegram, owner, owner_profile, pending, bot_settings, django_capture_on_commit_callbacks,
    audit_passes,
):
    bot_settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID

    with django_capture_on_commit_callbacks(execute=True):
        feed(updates.successful_payment(owner_profile, payload=pending.invoice_payload, total_amount=499,
                                        charge_id="stxBOT000003"))

    owner.refresh_from_db()
    assert owner.credits == 0
    issue = PaymentIssue.objects.get()
    assert (issue.reason, issue.telegram_payment_charge_id, issue.total_amount) == ("wrong_amount", "stxBOT000003",
                                                                                  499)
    assert fake_telegram.last("sendMessage")["text"] == (
        "We received your payment but could not match it to an order. Support will contact you.")
    assert [task["kwargs"] for task in queued(ISSUE_ALERT)] == [{"issue_id": issue.pk}]

    assert queued_run(ISSUE_ALERT) == [True]
    alert = fake_telegram.last("sendMessage")
    assert alert["chat_id"] == ADMIN_CHAT_ID
    assert alert["text"].startswith(f"⚠️ Unmatched Stars payment (issue {issue.pk}): nothing was credited.")
    assert "499 XTR from @owner (1001)" in alert["text"] and "stxBOT000003" in alert["text"]
