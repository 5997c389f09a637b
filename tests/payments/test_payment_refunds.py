"""Staff refund Stars payments from the admin, against the local fake Bot API."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from accounts.services import credits_change
from payments.models import EarningsKind, Payment, PaymentIssue, ReferralAccount, ReferralEarningsEntry
from payments.services import payment_refund, withdrawal_request
from tests.helpers import run_in_threads
from tests.payments.helpers import earnings_give

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/payments/payment/"


def refund_in_admin(client, payment, reason="asked for it", anyway=False):
    data = {"action": "refund", "_selected_action": [payment.pk], "apply": "1", "reason": reason}
    if anyway:
        data["refund_anyway"] = "on"
    return client.post(CHANGELIST, data, follow=True)


def spend(user, amount):
    credits_change(user_id=user.pk, amount=-amount, kind=CreditKind.GENERATION_CHARGE, reference=f"test:{amount}")


def test_refund_from_the_admin(staff_client, staff_user, referred_owner, referrer, pack, make_paid, fake_telegram,
                               audit_passes):
    payment = make_paid(referred_owner, pack)
    assert ReferralAccount.objects.get(user=referrer).earnings == 10

    form = staff_client.post(CHANGELIST, {"action": "refund", "_selected_action": [payment.pk]})
    assert form.status_code == 200 and b"Refund anyway" in form.content
    response = refund_in_admin(staff_client, payment, reason="double purchase")
    assert b"120 of 120 credits removed" in response.content

    call = fake_telegram.last("refundStarPayment")
    assert call.params == {"user_id": referred_owner.telegram_id,
                           "telegram_payment_charge_id": payment.telegram_payment_charge_id}
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED
    assert (payment.refunded_by, payment.refund_reason, payment.refund_forced) == (staff_user, "double purchase", False)
    assert payment.refunded_at is not None
    assert (payment.refund_credits_removed, payment.refund_earnings_reversed) == (120, 10)
    referred_owner.refresh_from_db()
    assert referred_owner.credits == 0
    removal = CreditLedgerEntry.objects.get(kind=CreditKind.PURCHASE_REFUND)
    assert (removal.amount, removal.reference, removal.created_by) == (-120, f"payment:{payment.pk}", staff_user)
    assert ReferralAccount.objects.get(user=referrer).earnings == 0
    reversal = ReferralEarningsEntry.objects.get(kind=EarningsKind.COMMISSION_REVERSAL)
    assert (reversal.amount, reversal.reference) == (-10, f"payment:{payment.pk}")


def test_spent_credits_refuse_the_refund(staff_client, owner, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    spend(owner, 100)
    response = refund_in_admin(staff_client, payment)
    assert b"has 20 credits left of the 120" in response.content
    assert not fake_telegram.calls_to("refundStarPayment")
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert payment.status == Payment.Status.PAID and owner.credits == 20


def test_refund_anyway_removes_what_is_left(staff_client, owner, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    spend(owner, 100)
    response = refund_in_admin(staff_client, payment, anyway=True)
    assert b"20 of 120 credits removed" in response.content
    assert fake_telegram.calls_to("refundStarPayment")
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert owner.credits == 0
    assert (payment.status, payment.refund_forced, payment.refund_credits_removed) == ("refunded", True, 20)


def test_refund_anyway_with_nothing_left(owner, staff_user, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    spend(owner, 120)
    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="fraud", force=True)
    assert (result.credits_removed, result.credits_short) == (0, 120)
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).exists()
    owner.refresh_from_db()
    assert owner.credits == 0


def test_charge_already_refunded_counts_as_done(owner, staff_user, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    fake_telegram.fail("refundStarPayment", error_code=400, description="Bad Request: CHARGE_ALREADY_REFUNDED")
    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="refunded by support")
    assert result.already_refunded_by_telegram
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED and owner.credits == 0


def test_a_telegram_refusal_changes_nothing(staff_client, owner, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    fake_telegram.fail("refundStarPayment", error_code=400, description="Bad Request: CHARGE_NOT_FOUND")
    response = refund_in_admin(staff_client, payment)
    assert b"CHARGE_NOT_FOUND" in response.content
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert payment.status == Payment.Status.PAID and owner.credits == 120


def test_a_refund_left_half_done_is_finished_by_running_it_again(owner, staff_user, pack, make_paid, fake_telegram,
                                                                 audit_passes):
    payment = make_paid(owner, pack)
    # As if the process died after Telegram refunded and before the bookkeeping.
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.REFUNDING)
    fake_telegram.fail("refundStarPayment", description="Bad Request: CHARGE_ALREADY_REFUNDED")
    payment_refund(payment_id=payment.pk, staff=staff_user, reason="retry")
    payment.refresh_from_db()
    assert payment.status == Payment.Status.REFUNDED


def test_a_refunded_payment_cannot_be_refunded_again(staff_client, owner, pack, make_paid, fake_telegram,
                                                     audit_passes):
    payment = make_paid(owner, pack)
    refund_in_admin(staff_client, payment)
    response = refund_in_admin(staff_client, payment)
    assert b"already been refunded" in response.content
    assert len(fake_telegram.calls_to("refundStarPayment")) == 1


def test_an_unpaid_payment_cannot_be_refunded(staff_client, owner, pack, make_pending, fake_telegram, audit_passes):
    payment = make_pending(owner, pack)
    response = refund_in_admin(staff_client, payment)
    assert b"Only a paid payment can be refunded" in response.content
    assert not fake_telegram.calls


@pytest.mark.django_db(transaction=True)
def test_concurrent_refunds_take_back_once(owner, staff_user, pack, make_paid, fake_telegram, audit_passes):
    payment = make_paid(owner, pack)
    results = run_in_threads(3, lambda i: payment_refund(payment_id=payment.pk, staff=staff_user, reason="r"))
    done = [r for r in results if not isinstance(r, Exception)]
    assert len(done) == 1, results
    owner.refresh_from_db()
    assert owner.credits == 0
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).count() == 1


def test_withdrawn_commission_is_reversed_as_far_as_possible(referred_owner, referrer, staff_user, pack, make_paid,
                                                             fake_telegram, audit_passes):
    payment = make_paid(referred_owner, pack)  # +10 commission
    earnings_give(referrer, 100)  # +100 from another invited buyer
    withdrawal_request(user=referrer, amount=105, method="ton", destination="UQ")  # 5 left
    result = payment_refund(payment_id=payment.pk, staff=staff_user, reason="chargeback")
    assert (result.earnings_reversed, result.earnings_short) == (5, 5)
    assert ReferralAccount.objects.get(user=referrer).earnings == 0
    payment.refresh_from_db()
    assert payment.refund_earnings_reversed == 5


def test_unmatched_stars_are_refunded_from_the_admin(staff_client, staff_user, owner, pack, make_pending,
                                                     fake_telegram, audit_passes):
    from payments.errors import PaymentNotMatched
    from payments.services import payment_confirm

    payment = make_pending(owner, pack)
    with pytest.raises(PaymentNotMatched):
        payment_confirm(telegram_user_id=owner.telegram_id, payload=payment.invoice_payload, currency="XTR",
                        total_amount=7, telegram_payment_charge_id="odd-charge", provider_payment_charge_id="")
    issue = PaymentIssue.objects.get()
    staff_client.post("/admin/payments/paymentissue/",
                      {"action": "refund_stars", "_selected_action": [issue.pk], "apply": "1", "note": "refunded"})
    call = fake_telegram.last("refundStarPayment")
    assert call.params == {"user_id": owner.telegram_id, "telegram_payment_charge_id": "odd-charge"}
    issue.refresh_from_db()
    assert (issue.status, issue.resolved_by, issue.resolution_note) == ("refunded", staff_user, "refunded")
    owner.refresh_from_db()
    assert owner.credits == 0


def test_staff_without_the_permission_cannot_refund(plain_staff_client, owner, pack, make_paid, fake_telegram,
                                                    audit_passes):
    payment = make_paid(owner, pack)
    refund_in_admin(plain_staff_client, payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID and not fake_telegram.calls
