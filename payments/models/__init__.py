"""Money that comes in (Telegram Stars payments for credit packs), the referral
earnings it produces, and the withdrawals of those earnings. Only `payments.services`
writes these models.
"""

from payments.models.packs import (
    STARS_CURRENCY,
    SUBSCRIPTION_MAX_STARS,
    SUBSCRIPTION_PERIOD_DAYS,
    SUBSCRIPTION_PERIODS,
    TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS,
    CreditPack,
)
from payments.models.purchases import Payment, PaymentIssue
from payments.models.referrals import EarningsKind, ReferralAccount, ReferralEarningsEntry, Withdrawal
from payments.models.stars import StarsReconciliation, Subscription

__all__ = [
    "STARS_CURRENCY",
    "SUBSCRIPTION_MAX_STARS",
    "SUBSCRIPTION_PERIODS",
    "SUBSCRIPTION_PERIOD_DAYS",
    "TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS",
    "CreditPack",
    "EarningsKind",
    "Payment",
    "PaymentIssue",
    "ReferralAccount",
    "ReferralEarningsEntry",
    "StarsReconciliation",
    "Subscription",
    "Withdrawal",
]
