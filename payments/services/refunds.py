"""Refunds by staff: a Stars payment back to the buyer, and unmatched Stars.

A payment refund takes the pack's credits back through the ledger (kind
PURCHASE_REFUND, reference `payment:<id>`) and the referrer's commission from
the earnings ledger, and records who, when and why. If the buyer has already
spent some of the credits the refund is refused, unless staff choose to refund
anyway: then what is left is removed and the balance stops at 0. Whatever could
not be taken back is recorded on the payment (`refund_credits_removed`,
`refund_earnings_reversed`).

Telegram is called first and outside any transaction (the call may take
seconds; row locks held across it would block the buyer's generations). A
conditional UPDATE paid -> refunding marks the refund as under way, so a crash
between Telegram's answer and our bookkeeping leaves the payment visibly
`refunding`; running the action again finishes it, because Telegram then
answers CHARGE_ALREADY_REFUNDED, which counts as done.
"""

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from core.errors import ValidationFailed
from core.telegram_api import TelegramApiError, bot_api_call
from payments.errors import PaymentNotRefundable, RefundCreditsSpent, RefundProviderError
from payments.hooks import PAYMENT_REFUNDED, hook_emit_on_commit
from payments.models import EarningsKind, Payment, PaymentIssue, ReferralEarningsEntry
from payments.services.checkout import payment_reference
from payments.services.earnings import earnings_apply, referral_account_lock

logger = logging.getLogger(__name__)

Status = Payment.Status

ALREADY_REFUNDED = "CHARGE_ALREADY_REFUNDED"


@dataclass(frozen=True)
class PaymentRefundResult:
    payment: Payment
    credits_removed: int
    # Credits the buyer had already spent, so could not be taken back.
    credits_short: int
    earnings_reversed: int
    # Commission the referrer had already withdrawn, so could not be taken back.
    earnings_short: int
    # Telegram said the charge was refunded before (e.g. a retry after a crash).
    already_refunded_by_telegram: bool


def _refund_stars(*, telegram_user_id: int, charge_id: str) -> bool:
    """Ask Telegram to return the Stars; True when it says they were already returned."""
    try:
        bot_api_call("refundStarPayment", {"user_id": telegram_user_id, "telegram_payment_charge_id": charge_id})
    except TelegramApiError as exc:
        if exc.has_description(ALREADY_REFUNDED):
            return True
        raise RefundProviderError(
            gettext("Telegram did not refund the Stars: %(error)s") % {"error": exc.description or exc.error_code}
        ) from exc
    return False


def payment_refund(*, payment_id: int, staff: User, reason: str, force: bool = False) -> PaymentRefundResult:
    """Refund a paid payment's Stars and take back what it gave.

    Raises PaymentNotRefundable (not paid, or already refunded), RefundCreditsSpent
    (the buyer spent credits and `force` is off), RefundProviderError (Telegram
    refused; nothing changed, the payment stays paid).
    """
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(details={"reason": [gettext("This field may not be blank.")]})
    payment = Payment.objects.select_related("user").get(pk=payment_id)
    if payment.status == Status.REFUNDED:
        raise PaymentNotRefundable(gettext("This payment has already been refunded."))
    if payment.status not in (Status.PAID, Status.REFUNDING):
        raise PaymentNotRefundable()
    if not force and payment.user.credits < payment.credits:
        raise RefundCreditsSpent(
            gettext(
                "%(user)s has %(balance)d credits left of the %(credits)d this payment gave. "
                "Choose \"refund anyway\" to refund the Stars and remove what is left."
            ) % {"user": payment.user, "balance": payment.user.credits, "credits": payment.credits},
            details={"balance": payment.user.credits, "credits": payment.credits},
        )

    charge_id, buyer_telegram_id = payment.telegram_payment_charge_id, payment.user.telegram_id
    if charge_id is None or buyer_telegram_id is None:
        # A paid payment has both (a database constraint; only a Telegram user can pay).
        raise PaymentNotRefundable()

    claimed = Payment.objects.filter(pk=payment_id, status=Status.PAID).update(
        status=Status.REFUNDING, updated_at=timezone.now()
    )
    try:
        already = _refund_stars(telegram_user_id=buyer_telegram_id, charge_id=charge_id)
    except RefundProviderError:
        if claimed:
            Payment.objects.filter(pk=payment_id, status=Status.REFUNDING).update(
                status=Status.PAID, updated_at=timezone.now()
            )
        raise
    return _refund_book(payment_id=payment_id, staff=staff, reason=reason, force=force, already=already)


def _refund_book(*, payment_id: int, staff: User, reason: str, force: bool, already: bool) -> PaymentRefundResult:
    """The Stars are back with the buyer: take back the credits and the commission."""
    reference = payment_reference(payment_id)
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        # PAID too: if a concurrent click's Telegram call failed and put the
        # payment back to paid while ours succeeded, the Stars are still back.
        if payment.status not in (Status.PAID, Status.REFUNDING):
            # Another staff member's click finished this refund first.
            raise PaymentNotRefundable(gettext("This payment has already been refunded."))
        buyer = user_lock(user_id=payment.user_id)
        # Never below 0: what the buyer already spent stays spent.
        credits_removed = min(payment.credits, buyer.credits)
        if credits_removed:
            credits_apply(
                user=buyer,
                amount=-credits_removed,
                kind=CreditKind.PURCHASE_REFUND,
                reference=reference,
                note=reason,
                created_by=staff,
            )
        earnings_reversed, earnings_short = _commission_reverse(reference=reference, reason=reason, staff=staff)
        payment.status = Status.REFUNDED
        payment.refunded_by = staff
        payment.refunded_at = timezone.now()
        payment.refund_reason = reason[:500]
        payment.refund_forced = force
        payment.refund_credits_removed = credits_removed
        payment.refund_earnings_reversed = earnings_reversed
        payment.save(update_fields=[
            "status", "refunded_by", "refunded_at", "refund_reason", "refund_forced", "refund_credits_removed",
            "refund_earnings_reversed", "updated_at",
        ])
        hook_emit_on_commit(PAYMENT_REFUNDED, payment_id=payment_id)
    logger.info(
        "payment %s refunded by staff %s: %s of %s credits removed, %s Stars of commission reversed",
        payment_id, staff.pk, credits_removed, payment.credits, earnings_reversed, extra={"payment_id": payment_id},
    )
    return PaymentRefundResult(
        payment=payment,
        credits_removed=credits_removed,
        credits_short=payment.credits - credits_removed,
        earnings_reversed=earnings_reversed,
        earnings_short=earnings_short,
        already_refunded_by_telegram=already,
    )


def _commission_reverse(*, reference: str, reason: str, staff: User) -> tuple[int, int]:
    """Take back the referrer's commission on a refunded payment, as much as is
    left (they may have withdrawn it). Returns (reversed, could not reverse)."""
    commission = ReferralEarningsEntry.objects.filter(kind=EarningsKind.COMMISSION, reference=reference).first()
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
            note=reason,
            created_by=staff,
        )
    return reversed_amount, commission.amount - reversed_amount


def payment_issue_refund(*, issue_id: int, staff: User, note: str) -> bool:
    """Return unmatched Stars to whoever paid them (nothing was granted for them).
    False when the issue is no longer open."""
    note = note.strip()
    if not note:
        raise ValidationFailed(details={"note": [gettext("This field may not be blank.")]})
    issue = PaymentIssue.objects.get(pk=issue_id)
    if issue.status != PaymentIssue.Status.OPEN:
        return False
    # Outside any transaction: a network call (see the module docstring).
    _refund_stars(telegram_user_id=issue.telegram_user_id, charge_id=issue.telegram_payment_charge_id)
    return _issue_close(issue_id=issue_id, staff=staff, note=note, status=PaymentIssue.Status.REFUNDED)


def payment_issue_resolve(*, issue_id: int, staff: User, note: str) -> bool:
    """Close an issue that staff settled another way (e.g. granted the credits by hand)."""
    note = note.strip()
    if not note:
        raise ValidationFailed(details={"note": [gettext("This field may not be blank.")]})
    return _issue_close(issue_id=issue_id, staff=staff, note=note, status=PaymentIssue.Status.RESOLVED)


def _issue_close(*, issue_id: int, staff: User, note: str, status: PaymentIssue.Status) -> bool:
    closed = PaymentIssue.objects.filter(pk=issue_id, status=PaymentIssue.Status.OPEN).update(
        status=status, resolved_by=staff, resolved_at=timezone.now(), resolution_note=note[:500]
    )
    if closed:
        logger.info("payment issue %s %s by staff %s", issue_id, status, staff.pk)
    return bool(closed)
