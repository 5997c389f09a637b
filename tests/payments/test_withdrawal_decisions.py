"""Staff approve or reject withdrawals in the admin: reject returns the earnings
exactly once, approve never does, each decision records who and when."""

import pytest

from payments.models import EarningsKind, ReferralAccount, ReferralEarningsEntry, Withdrawal
from payments.services import withdrawal_approve, withdrawal_reject, withdrawal_request
from tests.helpers import run_in_threads
from tests.payments.helpers import earnings_give

CHANGELIST = "/admin/payments/withdrawal/"


def earnings(user) -> int:
    return ReferralAccount.objects.get(user=user).earnings


@pytest.fixture
def withdrawal(owner) -> Withdrawal:
    earnings_give(owner, 200)
    return withdrawal_request(user=owner, amount=150, method="usdt_ton", destination="UQ-wallet")


@pytest.mark.django_db
def test_reject_from_the_admin_returns_the_earnings(staff_client, staff_user, owner, withdrawal, audit_passes):
    form = staff_client.post(CHANGELIST, {"action": "reject", "_selected_action": [withdrawal.pk]})
    assert form.status_code == 200 and b"Reason" in form.content
    response = staff_client.post(
        CHANGELIST,
        {"action": "reject", "_selected_action": [withdrawal.pk], "apply": "1", "reason": "wallet is invalid"},
        follow=True,
    )
    assert b"rejected" in response.content
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.REJECTED
    assert (withdrawal.decided_by, withdrawal.reject_reason) == (staff_user, "wallet is invalid")
    assert withdrawal.decided_at is not None
    assert earnings(owner) == 200
    back = ReferralEarningsEntry.objects.get(kind=EarningsKind.WITHDRAWAL_RETURN)
    assert (back.amount, back.created_by, back.reference) == (150, staff_user, f"withdrawal:{withdrawal.pk}")


@pytest.mark.django_db
def test_reject_twice_returns_once(staff_user, owner, withdrawal, audit_passes):
    assert withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user, reason="no")
    assert not withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user, reason="no again")
    assert earnings(owner) == 200


@pytest.mark.django_db(transaction=True)
def test_concurrent_rejects_return_once(staff_user, owner, withdrawal, audit_passes):
    results = run_in_threads(4, lambda i: withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user,
                                                            reason=f"reject {i}"))
    assert results.count(True) == 1, results
    assert earnings(owner) == 200
    assert ReferralEarningsEntry.objects.filter(kind=EarningsKind.WITHDRAWAL_RETURN).count() == 1


@pytest.mark.django_db(transaction=True)
def test_approve_racing_reject_one_wins(staff_user, owner, withdrawal, audit_passes):
    def decide(i: int) -> bool:
        if i % 2:
            return withdrawal_approve(withdrawal_id=withdrawal.pk, staff=staff_user, payout_reference="tx-1")
        return withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user, reason="no")

    results = run_in_threads(4, decide)
    assert results.count(True) == 1
    withdrawal.refresh_from_db()
    assert earnings(owner) == (200 if withdrawal.status == Withdrawal.Status.REJECTED else 50)


@pytest.mark.django_db
def test_approve_from_the_admin_records_the_payout_and_returns_nothing(
    staff_client, staff_user, owner, withdrawal, audit_passes
):
    staff_client.post(
        CHANGELIST,
        {"action": "approve", "_selected_action": [withdrawal.pk], "apply": "1", "payout_reference": "tx-abc"},
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID
    assert (withdrawal.payout_reference, withdrawal.decided_by) == ("tx-abc", staff_user)
    assert earnings(owner) == 50
    # A later reject of the paid withdrawal changes nothing.
    assert not withdrawal_reject(withdrawal_id=withdrawal.pk, staff=staff_user, reason="too late")
    assert earnings(owner) == 50
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PAID


@pytest.mark.django_db
def test_approve_needs_a_payout_reference(staff_client, withdrawal):
    response = staff_client.post(
        CHANGELIST, {"action": "approve", "_selected_action": [withdrawal.pk], "apply": "1", "payout_reference": ""}
    )
    assert response.status_code == 200 and b"This field is required" in response.content
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PENDING


@pytest.mark.django_db
def test_after_a_decision_a_new_request_is_possible(staff_user, owner, withdrawal, audit_passes):
    withdrawal_approve(withdrawal_id=withdrawal.pk, staff=staff_user, payout_reference="tx")
    earnings_give(owner, 100)
    again = withdrawal_request(user=owner, amount=150, method="ton", destination="UQ")
    assert again.status == Withdrawal.Status.PENDING and earnings(owner) == 0


@pytest.mark.django_db
def test_staff_without_the_permission_cannot_decide(plain_staff_client, owner, withdrawal):
    assert plain_staff_client.get(CHANGELIST).status_code == 200
    plain_staff_client.post(
        CHANGELIST, {"action": "reject", "_selected_action": [withdrawal.pk], "apply": "1", "reason": "x"}
    )
    withdrawal.refresh_from_db()
    assert withdrawal.status == Withdrawal.Status.PENDING
