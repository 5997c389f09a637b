"""payment_pre_checkout: what the bot answers to a pre_checkout_query."""

from typing import Any

import pytest

from payments.models import Payment
from payments.services import payment_pre_checkout
from tests.factories import CreditPackFactory

pytestmark = pytest.mark.django_db


def check(payment: Payment, **overrides) -> tuple[bool, Any]:
    query: dict[str, Any] = {
        "telegram_user_id": payment.user.telegram_id,
        "payload": payment.invoice_payload,
        "currency": "XTR",
        "total_amount": payment.stars,
    }
    return payment_pre_checkout(**{**query, **overrides})


def test_a_pending_payment_of_this_user_is_accepted(owner, pack, make_pending):
    assert check(make_pending(owner, pack)) == (True, None)


def test_a_forged_signature_is_refused(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    prefix, payment_id, signature = payment.invoice_payload.split(":")
    forged = f"{prefix}:{payment_id}:{'A' * len(signature)}"
    ok, message = check(payment, payload=forged)
    assert not ok and message


@pytest.mark.parametrize("payload", ["", "hello", "p:1", "p:x:abc", "p:99999999:" + "A" * 22, "p:-1:" + "A" * 22])
def test_payloads_that_are_not_ours_are_refused(owner, pack, make_pending, payload):
    payment = make_pending(owner, pack)
    ok, message = check(payment, payload=payload)
    assert not ok and message


def test_another_users_payload_is_refused(owner, stranger, pack, make_pending):
    payment = make_pending(owner, pack)
    ok, message = check(payment, telegram_user_id=stranger.telegram_id)
    assert not ok and message


def test_a_payload_cannot_be_moved_to_another_pack(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    cheaper = CreditPackFactory.create(slug="cheap", title="Cheap", stars=1, credits=1)
    Payment.objects.filter(pk=payment.pk).update(pack=cheaper)
    ok, _ = check(payment)
    assert not ok


def test_a_wrong_amount_is_refused(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    assert check(payment, total_amount=payment.stars - 1)[0] is False
    assert check(payment, total_amount=payment.stars + 1)[0] is False


def test_a_wrong_currency_is_refused(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    ok, message = check(payment, currency="USD")
    assert not ok and message


def test_a_pack_no_longer_sold_is_refused(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    pack.is_active = False
    pack.save()
    ok, message = check(payment)
    assert not ok and "no longer sold" in message


def test_a_pack_whose_price_changed_is_refused(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    pack.stars = 150
    pack.save()
    assert check(payment)[0] is False


def test_a_paid_payment_cannot_be_paid_again(owner, pack, make_paid, audit_passes):
    payment = make_paid(owner, pack)
    ok, message = check(payment)
    assert not ok and "already been paid" in message


def test_a_banned_user_cannot_pay(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    owner.is_banned = True
    owner.save()
    assert check(payment)[0] is False


def test_the_refusal_is_in_the_users_language(owner, pack, make_pending):
    owner.language_code = "ru"
    owner.save()
    payment = make_pending(owner, pack)
    ok, message = check(payment, total_amount=1)
    assert not ok and message == "Этот счёт недействителен. Откройте магазин и купите снова."


def test_pre_checkout_changes_nothing(owner, pack, make_pending):
    payment = make_pending(owner, pack)
    check(payment)
    payment.refresh_from_db()
    owner.refresh_from_db()
    assert payment.status == Payment.Status.PENDING and owner.credits == 0
