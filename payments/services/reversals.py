"""Taking back what a paid payment gave, and refunds made outside NanoGen.

`payment_reverse` is the booking part of every refund: the payment's credits
leave the buyer's balance (never below 0: what was spent stays spent) and the
referrer's commission leaves their earnings (as much as is left: they may have
withdrawn it). A staff refund (`payment_refund`) and a refund Telegram made
itself (`payment_refund_outside`) both book through it.

Telegram's support can refund a Stars payment without NanoGen: the bot then gets a
`refunded_payment` message, and `reconcile_stars` finds the refund among the Stars
transactions. Either way `payment_refund_outside` books it once: the payment row
lock serialises deliveries, a refunded payment books nothing more, and the ledgers'
once-per-reference rule (PURCHASE_REFUND, COMMISSION_REVERSAL of `payment:<id>`)
is the database's backstop.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from payments.hooks import PAYMENT_REFUNDED, PAYMENT_REFUNDED_OUTSIDE, hook_emit_on_commit
from payments.models import STARS_CURRENCY, EarningsKind, Payment, PaymentIssue, ReferralEarningsEntry
from payments.services.checkout import payment_reference
from payments.services.earnings import earnings_apply, referral_account_lock

logger = logging.getLogger(__name__)

Status = Payment.Status


@dataclass(frozen=True)
class Reversal:
    credits_removed: int
    # Credits the buyer had already spent, so could not be taken back.
    credits_short: int
    earnings_reversed: int
    # Commission the referrer had already withdrawn, so could not be taken back.
    earnings_short: int


def payment_refund_reference(payment_id: int, attempt: int) -> str:
    """The ledger reference of one try at refunding a payment: `payment:<id>` for the
    first, `payment:<id>:<n>` for the n-th (a try Telegram refused was booked and undone
    under its own reference, which the ledgers' once-per-reference rule keeps unique)."""
    reference = payment_reference(payment_id)
    return reference if attempt <= 1 else f"{reference}:{attempt}"


def payment_reverse(*, payment: Payment, buyer: User, reference: str, note: str, staff: User | None) -> Reversal:
    """Take back a paid payment's credits and its referrer's commission, booked
    under `reference`. The caller holds the payment's and the buyer's row locks
    (`user_lock`) in its transaction and records the result on the payment."""
    credits_removed = min(payment.credits, buyer.credits)
    if credits_removed:
        credits_apply(
            user=buyer,
            amount=-credits_removed,
            kind=CreditKind.PURCHASE_REFUND,
            reference=reference,
            note=note,
            created_by=staff,
        )
    earnings_reversed, earnings_short = commission_reverse(
        payment_id=payment.pk, reference=reference, note=note, staff=staff
    )
    return Reversal(
        credits_removed=credits_removed,
        credits_short=payment.credits - credits_removed,
        earnings_reversed=earnings_reversed,
        earnings_short=earnings_short,
    )


def commission_reverse(*, payment_id: int, reference: str, note: str, staff: User | None) -> tuple[int, int]:
    """Take back the referrer's commission on a payment, as much as is left.
    Returns (reversed, could not reverse)."""
    commission = ReferralEarningsEntry.objects.filter(
        kind=EarningsKind.COMMISSION, reference=payment_reference(payment_id)
    ).first()
    if commission is None:
        return 0, 0
    account = referral_account_lock(user_id=commission.account_id)
    reversed_amount = min(commission.amount, account.earnings)
    if reversed_amount:
        earnings_apply(
            account=account,
            amount=-reversed_amount,
            kind=EarningsKind.COMMISSION_REVERSAL,
            reference=reference,
            note=note,
            created_by=staff,
        )
    return reversed_amount, commission.amount - reversed_amount


class OutsideRefundOutcome:
    REFUNDED = "refunded"  # the payment was paid: now refunded, its credits taken back
    ALREADY_REFUNDED = "already_refunded"  # a repeat, or NanoGen's staff refunded it
    ISSUE_CLOSED = "issue_closed"  # unmatched Stars (a PaymentIssue) that Telegram returned
    UNKNOWN = "unknown"  # a charge NanoGen never recorded: recorded now, as a settled issue


@dataclass(frozen=True)
class OutsideRefund:
    outcome: str
    payment_id: int | None = None
    issue_id: int | None = None
    reversal: Reversal | None = None


def payment_refund_outside(
    *, telegram_payment_charge_id: str, telegram_user_id: int, total_amount: int, invoice_payload: str, reason: str
) -> OutsideRefund:
    """Book a refund that Telegram made outside NanoGen (see the module docstring),
    once however often it is reported. `reason` says how NanoGen learnt of it."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().filter(
            telegram_payment_charge_id=telegram_payment_charge_id
        ).first()
        if payment is None:
            return _issue_refunded(
                charge_id=telegram_payment_charge_id, telegram_user_id=telegram_user_id, total_amount=total_amount,
                invoice_payload=invoice_payload, reason=reason,
            )
        if payment.status == Status.REFUNDED:
            return OutsideRefund(outcome=OutsideRefundOutcome.ALREADY_REFUNDED, payment_id=payment.pk)
        if payment.status == Status.REFUNDING and payment.refund_attempts > 0:
            # A staff refund holds the credits and commission and is asking Telegram:
            # the hold is the booking. The staff try then finds the payment refunded.
            Payment.objects.filter(pk=payment.pk).update(
                status=Status.REFUNDED, refunded_at=timezone.now(), refund_call_started_at=None,
                updated_at=timezone.now(),
            )
            hook_emit_on_commit(PAYMENT_REFUNDED, payment_id=payment.pk)
            return OutsideRefund(outcome=OutsideRefundOutcome.ALREADY_REFUNDED, payment_id=payment.pk)
        # Paid. Booked as one more refund try (`payment:<id>` for the first): an earlier
        # staff try that Telegram refused was booked and undone under its own reference.
        attempt = payment.refund_attempts + 1
        buyer = user_lock(user_id=payment.user_id)
        reversal = payment_reverse(
            payment=payment, buyer=buyer, reference=payment_refund_reference(payment.pk, attempt), note=reason,
            staff=None,
        )
        payment.status = Status.REFUNDED
        payment.refund_attempts = attempt
        payment.refunded_outside = True
        payment.refunded_at = timezone.now()
        payment.refund_reason = reason[:500]
        # Nobody chose to refund spent credits: Telegram did. Recorded as forced when
        # credits were short, so that the shortfall is never mistaken for an error.
        payment.refund_forced = reversal.credits_short > 0
        payment.refund_credits_removed = reversal.credits_removed
        payment.refund_earnings_reversed = reversal.earnings_reversed
        payment.save(update_fields=[
            "status", "refund_attempts", "refunded_outside", "refunded_at", "refund_reason", "refund_forced",
            "refund_credits_removed", "refund_earnings_reversed", "updated_at",
        ])
        hook_emit_on_commit(PAYMENT_REFUNDED, payment_id=payment.pk)
        hook_emit_on_commit(PAYMENT_REFUNDED_OUTSIDE, payment_id=payment.pk)
    logger.warning(
        "payment %s refunded outside NanoGen (%s): %s of %s credits removed, %s Stars of commission reversed",
        payment.pk, reason, reversal.credits_removed, payment.credits, reversal.earnings_reversed,
        extra={"payment_id": payment.pk},
    )
    return OutsideRefund(outcome=OutsideRefundOutcome.REFUNDED, payment_id=payment.pk, reversal=reversal)


def _issue_refunded(
    *, charge_id: str, telegram_user_id: int, total_amount: int, invoice_payload: str, reason: str
) -> OutsideRefund:
    """Unmatched Stars that Telegram returned: the issue is settled. A charge NanoGen
    never recorded is recorded now, already settled, so that it is known next time."""
    now = timezone.now()
    issue, created = PaymentIssue.objects.get_or_create(
        telegram_payment_charge_id=charge_id,
        defaults={
            "reason": PaymentIssue.Reason.UNKNOWN_CHARGE, "status": PaymentIssue.Status.REFUNDED,
            "telegram_user_id": telegram_user_id, "user": User.objects.filter(telegram_id=telegram_user_id).first(),
            "payload": invoice_payload[:255], "currency": STARS_CURRENCY, "total_amount": total_amount,
            "resolved_at": now, "resolution_note": reason[:500],
        },
    )
    if created:
        logger.error("Telegram refunded charge %s, which NanoGen never recorded (%s)", charge_id, reason)
        return OutsideRefund(outcome=OutsideRefundOutcome.UNKNOWN, issue_id=issue.pk)
    PaymentIssue.objects.filter(pk=issue.pk, status=PaymentIssue.Status.OPEN).update(
        status=PaymentIssue.Status.REFUNDED, resolved_at=now, resolution_note=reason[:500]
    )
    return OutsideRefund(outcome=OutsideRefundOutcome.ISSUE_CLOSED, issue_id=issue.pk)
