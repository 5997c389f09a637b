"""Helpers of the payments tests: the referrer's id, referral earnings."""

import itertools

from accounts.models import User
from payments.models import Payment
from payments.services import referral_link
from tests.factories import CreditPackFactory, PaidPaymentFactory, UserFactory

REFERRER_TELEGRAM_ID = 3003

_buyers = itertools.count(900_000)


def earnings_give(referrer: User, amount: int) -> Payment:
    """Earn the referrer `amount` Stars the honest way: an invited user buys a pack
    whose commission (REFERRAL_PERCENT, 10 in tests) is exactly `amount`."""
    buyer = UserFactory.create(telegram_id=next(_buyers), first_name="Buyer")
    assert referral_link(referrer=referrer, new_user=buyer)
    big_pack = CreditPackFactory.create(
        slug=f"earn-{buyer.telegram_id}", title="Big", stars=amount * 10, credits=amount * 10
    )
    return PaidPaymentFactory.create(user=buyer, pack=big_pack)
