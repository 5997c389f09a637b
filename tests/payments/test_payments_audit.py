"""audit_ledger's payment checks: all hold after honest work, and each notices tampering."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.models import CreditKind, CreditLedgerEntry, User
from accounts.services import credits_change
from payments.models import Payment, ReferralAccount, Withdrawal
from payments.services import withdrawal_request
from tests.payments.helpers import earnings_give

pytestmark = pytest.mark.django_db


def audit_output() -> str:
    from io import StringIO

    out = StringIO()
    try:
        call_command("audit_ledger", stdout=out)
    except CommandError:
        return "FAILED\n" + out.getvalue()
    return out.getvalue()


@pytest.fixture
def honest_history(referred_owner, referrer, pack, make_paid, make_pending, staff_user, fake_telegram):
    from payments.services import payment_refund, withdrawal_reject

    make_paid(referred_owner, pack)
    refunded = make_paid(referred_owner, pack)
    payment_refund(payment_id=refunded.pk, staff=staff_user, reason="test")
    make_pending(referred_owner, pack)
    earnings_give(referrer, 300)
    rejected = withdrawal_request(user=referrer, amount=100, method="ton", destination="UQ")
    withdrawal_reject(withdrawal_id=rejected.pk, staff=staff_user, reason="no")
    withdrawal_request(user=referrer, amount=150, method="ton", destination="UQ")


def test_all_checks_hold_after_honest_work(honest_history, audit_passes):
    output = audit_output()
    assert "FAILED" not in output
    for check in ("referral earnings: ok", "payment grants: ok", "payment refunds: ok", "withdrawals: ok"):
        assert check in output


def test_an_earnings_balance_off_its_ledger_is_reported(honest_history, referrer):
    ReferralAccount.objects.filter(pk=referrer.pk).update(earnings=1)
    assert "earnings 1 != ledger sum" in audit_output()


def test_a_paid_payment_without_its_grant_is_reported(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    Payment.objects.filter(pk=payment.pk).update(status="paid", telegram_payment_charge_id="c")
    output = audit_output()
    assert "FAILED" in output and f"payment {payment.pk} (paid" in output


def test_a_purchase_grant_without_a_paid_payment_is_reported(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    credits_change(user_id=owner.pk, amount=120, kind=CreditKind.PURCHASE, reference=f"payment:{payment.pk}")
    output = audit_output()
    assert f"payment {payment.pk} is pending but granted 120" in output
    assert "which is no paid payment" in output


def test_a_refund_without_its_reversal_is_reported(honest_history):
    refunded = Payment.objects.get(status="refunded")
    CreditLedgerEntry.objects.filter(kind=CreditKind.PURCHASE_REFUND).delete()
    assert f"refunded payment {refunded.pk}" in audit_output()


def test_a_returned_withdrawal_that_was_not_rejected_is_reported(honest_history):
    rejected = Withdrawal.objects.get(status="rejected")
    Withdrawal.objects.filter(pk=rejected.pk).update(status="paid", payout_reference="x")
    assert f"withdrawal {rejected.pk} (paid, 100 Stars): 100 Stars returned" in audit_output()


def test_a_withdrawal_without_its_hold_is_reported(referrer):
    user = User.objects.get(pk=referrer.pk)
    withdrawal = Withdrawal.objects.create(user=user, amount=100, method="ton", destination="UQ")
    assert f"withdrawal {withdrawal.pk} of 100 Stars: held 0" in audit_output()
