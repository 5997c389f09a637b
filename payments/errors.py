"""Domain errors of payments, referrals and withdrawals, with their contract codes."""

from typing import Any

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class PackUnavailable(DomainError):
    status_code = 400
    code = "PACK_UNAVAILABLE"
    default_message = _("This credit pack is not on sale.")


class PaymentProviderUnavailable(DomainError):
    status_code = 503
    code = "PAYMENT_PROVIDER_UNAVAILABLE"
    default_message = _("Payments are temporarily unavailable. Please try again in a minute.")


class InvoiceRateLimited(DomainError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = _("Too many invoices. Please try again later.")


class PaymentNotMatched(DomainError):
    """A successful_payment that names no payable payment. Nothing was granted;
    `issue` is the PaymentIssue recorded for staff."""

    status_code = 409
    code = "PAYMENT_NOT_MATCHED"
    default_message = _("We received your payment but could not match it to an order. Support will contact you.")

    def __init__(self, *, issue: Any, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.issue = issue


class PaymentNotRefundable(DomainError):
    status_code = 409
    code = "PAYMENT_NOT_REFUNDABLE"
    default_message = _("Only a paid payment can be refunded.")


class RefundCreditsSpent(DomainError):
    status_code = 409
    code = "REFUND_CREDITS_SPENT"
    default_message = _("The user has already spent some of the credits of this payment.")


class RefundInProgress(DomainError):
    status_code = 409
    code = "REFUND_IN_PROGRESS"
    default_message = _("A refund of this payment is being processed. Try again in a minute.")


class RefundProviderError(DomainError):
    status_code = 502
    code = "REFUND_PROVIDER_ERROR"
    default_message = _("Telegram did not refund the Stars.")


class WithdrawalBelowMinimum(DomainError):
    status_code = 400
    code = "WITHDRAWAL_BELOW_MINIMUM"
    default_message = _("The amount is below the minimum withdrawal.")


class InsufficientEarnings(DomainError):
    status_code = 402
    code = "INSUFFICIENT_EARNINGS"
    default_message = _("Not enough referral earnings.")


class WithdrawalAlreadyPending(DomainError):
    status_code = 409
    code = "WITHDRAWAL_ALREADY_PENDING"
    default_message = _("You already have a withdrawal waiting for review.")


class SubscriptionNotCancellable(DomainError):
    status_code = 409
    code = "SUBSCRIPTION_NOT_CANCELLABLE"
    default_message = _("Telegram did not cancel this subscription; it may have ended already. "
                        "You can also manage it in Telegram's settings.")
