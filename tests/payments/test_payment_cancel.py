"""POST /api/payments/<id>/cancel: the buyer closed the invoice unpaid (Telegram told the
Mini App `cancelled` or `failed`). A pending payment becomes cancelled, so the purchase
list no longer says "awaiting payment"; nothing else changes, and Stars that arrive for
it all the same still pay it."""

import pytest

from payments.models import Payment
from payments.services import payment_cancel, payment_confirm, payment_pre_checkout
from tests.factories import charge_id_new
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db


def test_the_owner_cancels_a_pending_payment(owner_client, owner, pack, make_pending, audit_passes):
    payment = make_pending(owner, pack)
    response = owner_client.post(f"/api/payments/{payment.pk}/cancel")
    assert response.status_code == 200
    body = response.json()
    assert (body["id"], body["status"], body["paid_at"]) == (payment.pk, "cancelled", None)
    payment.refresh_from_db()
    assert payment.status == Payment.Status.CANCELLED
    assert owner_client.get("/api/payments").json()["results"][0]["status"] == "cancelled"
    # Again: the same answer, nothing more.
    assert owner_client.post(f"/api/payments/{payment.pk}/cancel").json()["status"] == "cancelled"


def test_a_paid_payment_stays_paid(owner_client, owner, pack, make_paid, audit_passes):
    payment = make_paid(owner, pack)
    response = owner_client.post(f"/api/payments/{payment.pk}/cancel")
    assert response.status_code == 200 and response.json()["status"] == "paid"
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PAID


def test_nobody_else_can_cancel_it(stranger_client, anonymous_client, owner, pack, make_pending):
    payment = make_pending(owner, pack)
    response = stranger_client.post(f"/api/payments/{payment.pk}/cancel")
    assert response.status_code == 404 and response.json()["code"] == "NOT_FOUND"
    assert anonymous_client.post(f"/api/payments/{payment.pk}/cancel").status_code == 401
    assert stranger_client.post("/api/payments/999999/cancel").status_code == 404
    payment.refresh_from_db()
    assert payment.status == Payment.Status.PENDING


def test_a_cancelled_invoice_is_refused_at_checkout_but_stars_that_arrive_still_pay_it(owner, pack, make_pending,
                                                                                      audit_passes):
    payment = make_pending(owner, pack)
    payment_cancel(user=owner, payment_id=payment.pk)
    ok, message = payment_pre_checkout(telegram_user_id=owner.telegram_id, payload=payment.invoice_payload,
                                       currency="XTR", total_amount=payment.stars)
    assert not ok and message
    # Telegram took the Stars anyway (a client that kept the invoice open): they count.
    paid = payment_confirm(telegram_user_id=owner.telegram_id, payload=payment.invoice_payload, currency="XTR",
                           total_amount=payment.stars, telegram_payment_charge_id=charge_id_new())
    assert paid.pk == payment.pk and paid.status == Payment.Status.PAID
    owner.refresh_from_db()
    assert owner.credits == pack.credits


@pytest.mark.django_db(transaction=True)
def test_a_cancel_racing_the_confirmation_never_unpays(owner, pack, make_pending, audit_passes):
    """The cancel is a conditional UPDATE from pending: whichever comes second, a paid
    payment stays paid with its credits."""
    for _ in range(5):
        payment = make_pending(owner, pack)

        def race(i: int, payment: Payment = payment) -> str:
            if i == 0:
                return payment_cancel(user=owner, payment_id=payment.pk).status
            return payment_confirm(
                telegram_user_id=owner.telegram_id, payload=payment.invoice_payload, currency="XTR",
                total_amount=payment.stars, telegram_payment_charge_id=charge_id_new()).status

        results = run_in_threads(2, race)
        assert results[1] == Payment.Status.PAID, results
        payment.refresh_from_db()
        assert payment.status == Payment.Status.PAID, results
    owner.refresh_from_db()
    assert owner.credits == 5 * pack.credits
