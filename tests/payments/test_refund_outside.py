"""Refunds Telegram made outside NanoGen (its support): the payment becomes refunded,
its credits and the referrer's commission are taken back like in a staff refund,
staff are alerted; reported twice, or concurrently, it is booked once."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from payments.errors import PaymentNotRefundable
from payments.models import EarningsKind, Payment, PaymentIssue, ReferralAccount, ReferralEarningsEntry
from payments.services import OutsideRefundOutcome, payment_refund, payment_refund_outside
from tests.factories import charge_id_new
from tests.helpers import run_in_threads
from tests.payments.test_payment_refunds import spend
from tests.telegram_bot.helpers import ADMIN_CHAT_ID
from tests.telegram_bot.queue import queued

ALERT_TASK = "telegram_bot.tasks.payment_refunded_outside_alert"
REASON = "Refunded by Telegram outside NanoGen (test)"


def refund_outside(payment: Payment):
    assert payment.telegram_payment_charge_id is not None and payment.user.telegram_id is not None
    return payment_refund_outside(
        telegram_payment_charge_id=payment.telegram_payment_charge_id, telegram_user_id=payment.user.telegram_id,
        total_amount=payment.stars, invoice_payload=payment.invoice_payload, reason=REASON,
    )


@pytest.mark.django_db
def test_an_outside_refund_takes_back_the_credits_and_the_commission_once(
        settings, referred_owner, referrer, pack, make_paid, audit_passes, django_capture_on_commit_callbacks):
    settings.ADMIN_ALERT_CHAT_ID = ADMIN_CHAT_ID
    payment = make_paid(referred_owner, pack)

    with django_capture_on_commit_callbacks(execute=True):
        first = refund_outside(payment)
        again = refund_outside(payment)

    assert (first.outcome, first.payment_id) == (OutsideRefundOutcome.REFUNDED, payment.pk)
    assert (first.reversal.credits_removed, first.reversal.earnings_reversed) == (120, 10)
    assert again.outcome == OutsideRefundOutcome.ALREADY_REFUNDED
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_outside, payment.refunded_by, payment.refund_forced) == (
        "refunded", True, None, False)
    assert (payment.refund_credits_removed, payment.refund_earnings_reversed, payment.refund_reason) == (
        120, 10, REASON)
    referred_owner.refresh_from_db()
    assert referred_owner.credits == 0
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).count() == 1
    assert ReferralAccount.objects.get(user=referrer).earnings == 0
    assert ReferralEarningsEntry.objects.filter(kind=EarningsKind.COMMISSION_REVERSAL).count() == 1
    assert [task["kwargs"] for task in queued(ALERT_TASK)] == [{"payment_id": payment.pk}]


@pytest.mark.django_db
def test_spent_credits_stay_spent_and_the_shortfall_is_recorded(owner, pack, make_paid, audit_passes):
    payment = make_paid(owner, pack)
    spend(owner, 100)

    result = refund_outside(payment)

    assert (result.reversal.credits_removed, result.reversal.credits_short) == (20, 100)
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert owner.credits == 0
    assert (payment.refund_credits_removed, payment.refund_forced) == (20, True)


@pytest.mark.django_db
def test_a_staff_refund_after_telegram_refunded_changes_nothing(owner, staff_user, pack, make_paid, fake_telegram,
                                                                audit_passes):
    payment = make_paid(owner, pack)
    refund_outside(payment)
    fake_telegram.fail("refundStarPayment", description="Bad Request: CHARGE_ALREADY_REFUNDED")

    with pytest.raises(PaymentNotRefundable):
        payment_refund(payment_id=payment.pk, staff=staff_user, reason="asked for it")
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).count() == 1


@pytest.mark.django_db
def test_unmatched_stars_refunded_by_telegram_close_their_issue(owner, stranger, pack, make_pending):
    from payments.errors import PaymentNotMatched
    from payments.services import payment_confirm

    pending = make_pending(owner, pack)
    charge = charge_id_new()
    with pytest.raises(PaymentNotMatched) as unmatched:  # paid by somebody else
        payment_confirm(telegram_user_id=stranger.telegram_id, payload=pending.invoice_payload, currency="XTR",
                        total_amount=100, telegram_payment_charge_id=charge)

    result = payment_refund_outside(telegram_payment_charge_id=charge, telegram_user_id=stranger.telegram_id,
                                    total_amount=100, invoice_payload=pending.invoice_payload, reason=REASON)

    assert result.outcome == OutsideRefundOutcome.ISSUE_CLOSED
    issue = PaymentIssue.objects.get(pk=unmatched.value.issue.pk)
    assert (issue.status, issue.resolution_note) == ("refunded", REASON)


@pytest.mark.django_db
def test_a_refund_of_a_charge_never_seen_is_recorded_as_settled(owner):
    result = payment_refund_outside(telegram_payment_charge_id="stxNEVERSEEN", telegram_user_id=owner.telegram_id,
                                    total_amount=50, invoice_payload="not ours", reason=REASON)

    assert result.outcome == OutsideRefundOutcome.UNKNOWN
    issue = PaymentIssue.objects.get(telegram_payment_charge_id="stxNEVERSEEN")
    assert (issue.reason, issue.status, issue.user, issue.total_amount) == ("unknown_charge", "refunded", owner, 50)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reports_of_one_refund_book_it_once(referred_owner, referrer, pack, make_paid, audit_passes):
    payment = make_paid(referred_owner, pack)
    payment = Payment.objects.select_related("user").get(pk=payment.pk)

    results = run_in_threads(6, lambda i: refund_outside(payment))

    assert sorted(result.outcome for result in results) == ["already_refunded"] * 5 + ["refunded"]
    referred_owner.refresh_from_db()
    assert referred_owner.credits == 0
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).count() == 1
    assert ReferralEarningsEntry.objects.filter(kind=EarningsKind.COMMISSION_REVERSAL).count() == 1
