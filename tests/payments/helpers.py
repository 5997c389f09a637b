"""Helpers of the payments tests: payments in each state, charge ids, referral earnings."""

import itertools

from accounts.models import User
from payments.models import CreditPack, Payment
from payments.services import invoice_payload_for, payment_confirm, referral_link

REFERRER_TELEGRAM_ID = 3003

_charges = itertools.count(1)


def charge_id_new() -> str:
    return f"stxTEST{next(_charges):06d}"


def payment_pending(user: User, pack: CreditPack) -> Payment:
    """A pending payment as the invoice endpoint leaves it (without calling Telegram)."""
    payment = Payment.objects.create(user=user, pack=pack, stars=pack.stars, credits=pack.credits)
    payment.invoice_payload = invoice_payload_for(payment)
    payment.invoice_link = f"https://t.me/$test{payment.pk}"
    payment.save()
    return payment


def payment_paid(user: User, pack: CreditPack) -> Payment:
    """A payment paid through the real confirmation service."""
    payment = payment_pending(user, pack)
    assert user.telegram_id is not None, "only a Telegram user pays"
    return payment_confirm(
        telegram_user_id=user.telegram_id,
        payload=payment.invoice_payload,
        currency="XTR",
        total_amount=payment.stars,
        telegram_payment_charge_id=charge_id_new(),
        provider_payment_charge_id="",
    )


_buyers = itertools.count(900_000)


def earnings_give(referrer: User, amount: int) -> Payment:
    """Earn the referrer `amount` Stars the honest way: an invited user buys a pack
    whose commission (REFERRAL_PERCENT, 10 in tests) is exactly `amount`."""
    buyer = User.objects.create(telegram_id=next(_buyers), first_name="Buyer")
    assert referral_link(referrer=referrer, new_user=buyer)
    big_pack = CreditPack.objects.create(
        slug=f"earn-{buyer.telegram_id}", title="Big", stars=amount * 10, credits=amount * 10
    )
    return payment_paid(buyer, big_pack)
