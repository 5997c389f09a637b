"""payment_confirm: a successful_payment grants the pack's credits exactly once."""

import pytest

from accounts.models import CreditKind, CreditLedgerEntry
from payments import hooks
from payments.errors import PaymentNotMatched
from payments.hooks import PAYMENT_ISSUE, PAYMENT_PAID, hook_register
from payments.models import Payment, PaymentIssue
from payments.services import payment_confirm
from tests.factories import charge_id_new
from tests.helpers import run_in_threads


def confirm(payment: Payment, charge_id: str, **overrides) -> Payment:
    data = {
        "telegram_user_id": payment.user.telegram_id,
        "payload": payment.invoice_payload,
        "currency": "XTR",
        "total_amount": payment.stars,
        "telegram_payment_charge_id": charge_id,
        "provider_payment_charge_id": "provider-1",
    }
    return payment_confirm(**{**data, **overrides})


@pytest.mark.django_db
def test_a_successful_payment_pays_and_grants_the_credits(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    paid = confirm(payment, "charge-1")
    assert paid.pk == payment.pk and paid.status == Payment.Status.PAID
    assert paid.telegram_payment_charge_id == "charge-1" and paid.provider_payment_charge_id == "provider-1"
    assert paid.paid_at is not None
    owner.refresh_from_db()
    assert owner.credits == 120
    entry = CreditLedgerEntry.objects.get(user=owner)
    assert (entry.kind, entry.amount, entry.reference) == (CreditKind.PURCHASE, 120, f"payment:{payment.pk}")


@pytest.mark.django_db
def test_a_repeated_delivery_returns_the_same_payment_and_grants_nothing(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    first = confirm(payment, "charge-1")
    again = confirm(payment, "charge-1")
    assert again.pk == first.pk and again.status == Payment.Status.PAID
    owner.refresh_from_db()
    assert owner.credits == 120
    assert CreditLedgerEntry.objects.filter(user=owner).count() == 1


@pytest.mark.django_db(transaction=True)
def test_three_concurrent_deliveries_of_one_charge_grant_once(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    results = run_in_threads(3, lambda i: confirm(payment, "charge-concurrent"))
    assert all(isinstance(r, Payment) and r.pk == payment.pk for r in results), results
    owner.refresh_from_db()
    assert owner.credits == 120
    assert CreditLedgerEntry.objects.filter(user=owner, kind=CreditKind.PURCHASE).count() == 1
    assert not PaymentIssue.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_concurrent_deliveries_of_many_payments_each_grant_once(owner, pack, make_pending, audit_passes):
    payments = [make_pending(owner, pack) for _ in range(4)]
    results = run_in_threads(12, lambda i: confirm(payments[i % 4], f"charge-{i % 4}"))
    assert all(isinstance(r, Payment) for r in results), results
    owner.refresh_from_db()
    assert owner.credits == 4 * 120
    assert Payment.objects.filter(status=Payment.Status.PAID).count() == 4


def assert_recorded_for_staff(reason: str, owner, **fields) -> PaymentIssue:
    issue = PaymentIssue.objects.get()
    assert issue.reason == reason and issue.status == PaymentIssue.Status.OPEN
    for name, value in fields.items():
        assert getattr(issue, name) == value, name
    owner.refresh_from_db()
    assert owner.credits == 0 or reason == PaymentIssue.Reason.ALREADY_PAID
    return issue


@pytest.mark.django_db
def test_a_forged_payload_grants_nothing_and_is_recorded(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    forged = payment.invoice_payload[:-4] + "AAAA"
    with pytest.raises(PaymentNotMatched) as info:
        confirm(payment, "charge-forged", payload=forged)
    issue = assert_recorded_for_staff(
        PaymentIssue.Reason.BAD_PAYLOAD, owner, payload=forged, total_amount=100, currency="XTR",
        telegram_user_id=owner.telegram_id, user=owner, telegram_payment_charge_id="charge-forged",
        provider_payment_charge_id="provider-1",
    )
    assert info.value.issue == issue
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.django_db
def test_an_unknown_payment_grants_nothing_and_is_recorded(owner, pack, audit_passes):
    with pytest.raises(PaymentNotMatched):
        payment_confirm(telegram_user_id=owner.telegram_id, payload="something-else", currency="XTR",
                        total_amount=100, telegram_payment_charge_id="charge-x", provider_payment_charge_id="")
    assert_recorded_for_staff(PaymentIssue.Reason.BAD_PAYLOAD, owner, user=owner, payment=None)


@pytest.mark.django_db
def test_another_users_payment_grants_nothing_and_is_recorded(owner, stranger, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    with pytest.raises(PaymentNotMatched):
        confirm(payment, "charge-y", telegram_user_id=stranger.telegram_id)
    assert_recorded_for_staff(PaymentIssue.Reason.WRONG_USER, owner, user=stranger, payment=payment)
    stranger.refresh_from_db()
    assert stranger.credits == 0


@pytest.mark.django_db
@pytest.mark.parametrize(("overrides", "reason"), [
    ({"total_amount": 1}, PaymentIssue.Reason.WRONG_AMOUNT),
    ({"currency": "USD"}, PaymentIssue.Reason.WRONG_CURRENCY),
])
def test_a_mismatching_amount_or_currency_grants_nothing(owner, pack, make_pending, overrides, reason, audit_passes):
    payment = make_pending(owner, pack)
    with pytest.raises(PaymentNotMatched):
        confirm(payment, "charge-z", **overrides)
    assert_recorded_for_staff(reason, owner, payment=payment)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


@pytest.mark.django_db
def test_a_second_charge_for_a_paid_payment_is_recorded_not_granted(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    confirm(payment, "charge-1")
    with pytest.raises(PaymentNotMatched):
        confirm(payment, "charge-2")
    assert_recorded_for_staff(PaymentIssue.Reason.ALREADY_PAID, owner, payment=payment)
    owner.refresh_from_db()
    assert owner.credits == 120


@pytest.mark.django_db
def test_a_repeated_unmatched_delivery_is_one_issue(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    for _ in range(2):
        with pytest.raises(PaymentNotMatched):
            confirm(payment, "charge-bad", total_amount=5)
    assert PaymentIssue.objects.count() == 1


@pytest.mark.django_db
def test_a_payment_marked_failed_is_still_honoured_when_paid(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.FAILED)
    assert confirm(payment, "charge-late").status == Payment.Status.PAID
    owner.refresh_from_db()
    assert owner.credits == 120


@pytest.mark.django_db
def test_the_credits_granted_are_those_of_the_invoice_not_the_edited_pack(owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    pack.credits = 1
    pack.save()
    confirm(payment, charge_id_new())
    owner.refresh_from_db()
    assert owner.credits == 120


@pytest.fixture
def own_hooks(monkeypatch):
    """Listeners a test registers are gone after it (the apps' own stay registered)."""
    registered = hooks.payments_hooks.listeners
    monkeypatch.setattr(hooks.payments_hooks, "listeners", {event: list(found) for event, found in registered.items()})


@pytest.mark.django_db(transaction=True)
def test_hooks_are_told_after_commit(owner, pack, make_pending, own_hooks, audit_passes):
    seen = []

    def on_paid(payment_id: int) -> None:
        seen.append(("paid", payment_id, Payment.objects.get(pk=payment_id).status))

    def on_issue(issue_id: int) -> None:
        seen.append(("issue", issue_id, PaymentIssue.objects.get(pk=issue_id).reason))

    def broken(**ids) -> None:
        raise RuntimeError("an alert that cannot be sent")

    hook_register(PAYMENT_PAID, broken)
    hook_register(PAYMENT_PAID, on_paid)
    hook_register(PAYMENT_ISSUE, on_issue)
    payment = make_pending(owner, pack)
    confirm(payment, "charge-1")
    confirm(payment, "charge-1")  # a repeat: no second event
    with pytest.raises(PaymentNotMatched):
        confirm(make_pending(owner, pack), "charge-2", total_amount=3)
    issue = PaymentIssue.objects.get()
    assert seen == [("paid", payment.pk, "paid"), ("issue", issue.pk, "wrong_amount")]
