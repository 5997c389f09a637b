"""Writes for payments, referrals and withdrawals, re-exported here:
`from payments.services import payment_confirm`."""

from payments.services.checkout import (
    payment_confirm,
    payment_pre_checkout,
    payment_reference,
    referral_commission,
)
from payments.services.earnings import earnings_apply, referral_account_lock
from payments.services.invoices import (
    invoice_request_for,
    payment_cancel,
    payment_invoice_create,
    payment_invoice_failed,
    payment_pending_create,
)
from payments.services.payload import invoice_payload_for, invoice_payload_payment_id, invoice_payload_verify
from payments.services.referrals import referral_attach, referral_link
from payments.services.refunds import (
    PaymentRefundResult,
    payment_issue_refund,
    payment_issue_resolve,
    payment_refund,
)
from payments.services.reversals import (
    OutsideRefund,
    OutsideRefundOutcome,
    Reversal,
    commission_reverse,
    payment_refund_outside,
    payment_refund_reference,
    payment_reverse,
)
from payments.services.subscriptions import subscription_cancel, subscription_renewal_record, subscription_start
from payments.services.withdrawals import (
    withdrawal_approve,
    withdrawal_reference,
    withdrawal_reject,
    withdrawal_request,
)

__all__ = [
    "OutsideRefund",
    "OutsideRefundOutcome",
    "PaymentRefundResult",
    "Reversal",
    "commission_reverse",
    "earnings_apply",
    "invoice_payload_for",
    "invoice_payload_payment_id",
    "invoice_payload_verify",
    "invoice_request_for",
    "payment_cancel",
    "payment_confirm",
    "payment_invoice_create",
    "payment_invoice_failed",
    "payment_issue_refund",
    "payment_issue_resolve",
    "payment_pending_create",
    "payment_pre_checkout",
    "payment_reference",
    "payment_refund",
    "payment_refund_outside",
    "payment_refund_reference",
    "payment_reverse",
    "referral_account_lock",
    "referral_attach",
    "referral_commission",
    "referral_link",
    "subscription_cancel",
    "subscription_renewal_record",
    "subscription_start",
    "withdrawal_approve",
    "withdrawal_reference",
    "withdrawal_reject",
    "withdrawal_request",
]
