"""Withdrawals of referral earnings.

A request holds the amount at once: the earnings are debited under the
account's row lock in the same transaction that creates the withdrawal, so two
concurrent requests can never both take the same Stars. At most one withdrawal
per user is pending (checked under the lock; a partial unique index is the
backstop). Staff decide with conditional UPDATEs from pending: approve marks it
paid (the Stars left for good), reject returns the amount, exactly once.
"""

import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import User
from core.errors import ValidationFailed
from payments.errors import WithdrawalAlreadyPending, WithdrawalBelowMinimum
from payments.hooks import WITHDRAWAL_DECIDED, WITHDRAWAL_REQUESTED, hook_emit_on_commit
from payments.models import EarningsKind, Withdrawal
from payments.services.earnings import earnings_apply, referral_account_lock

logger = logging.getLogger(__name__)

Status = Withdrawal.Status


def withdrawal_reference(withdrawal_id: int) -> str:
    return f"withdrawal:{withdrawal_id}"


def withdrawal_request(*, user: User, amount: int, method: str, destination: str) -> Withdrawal:
    """Request a payout of `amount` Stars of earnings; the amount is held at once.

    Refusals: WithdrawalBelowMinimum, WithdrawalAlreadyPending, InsufficientEarnings.
    """
    destination = destination.strip()
    if method not in Withdrawal.Method.values:
        raise ValidationFailed(details={"method": [gettext("Unknown withdrawal method.")]})
    if not destination:
        raise ValidationFailed(details={"destination": [gettext("This field may not be blank.")]})
    if amount < settings.WITHDRAWAL_MIN_AMOUNT:
        raise WithdrawalBelowMinimum(
            gettext("The smallest withdrawal is %(minimum)d Stars.") % {"minimum": settings.WITHDRAWAL_MIN_AMOUNT},
            details={"minimum": settings.WITHDRAWAL_MIN_AMOUNT, "amount": amount},
        )
    with transaction.atomic():
        account = referral_account_lock(user_id=user.pk)
        if Withdrawal.objects.filter(user=user, status=Status.PENDING).exists():
            raise WithdrawalAlreadyPending()
        try:
            with transaction.atomic():
                withdrawal = Withdrawal.objects.create(
                    user=user, amount=amount, method=method, destination=destination[:255]
                )
        except IntegrityError:
            raise WithdrawalAlreadyPending() from None
        # Raises InsufficientEarnings, which rolls the withdrawal back with it.
        earnings_apply(
            account=account,
            amount=-amount,
            kind=EarningsKind.WITHDRAWAL_HOLD,
            reference=withdrawal_reference(withdrawal.pk),
        )
        hook_emit_on_commit(WITHDRAWAL_REQUESTED, withdrawal_id=withdrawal.pk)
    logger.info("withdrawal %s requested: %s Stars by user %s", withdrawal.pk, amount, user.pk)
    return withdrawal


def withdrawal_approve(*, withdrawal_id: int, staff: User, payout_reference: str) -> bool:
    """pending -> paid, recording who paid it out and how; False when already decided.
    The held earnings are never returned."""
    payout_reference = payout_reference.strip()
    if not payout_reference:
        raise ValidationFailed(details={"payout_reference": [gettext("This field may not be blank.")]})
    with transaction.atomic():
        decided = Withdrawal.objects.filter(pk=withdrawal_id, status=Status.PENDING).update(
            status=Status.PAID,
            payout_reference=payout_reference[:255],
            decided_by=staff,
            decided_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if decided:
            hook_emit_on_commit(WITHDRAWAL_DECIDED, withdrawal_id=withdrawal_id)
    if decided:
        logger.info("withdrawal %s paid by staff %s", withdrawal_id, staff.pk)
    return bool(decided)


def withdrawal_reject(*, withdrawal_id: int, staff: User, reason: str) -> bool:
    """pending -> rejected and the held amount back to the earnings, in one
    transaction; False (nothing returned) when it was already decided."""
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(details={"reason": [gettext("This field may not be blank.")]})
    with transaction.atomic():
        decided = Withdrawal.objects.filter(pk=withdrawal_id, status=Status.PENDING).update(
            status=Status.REJECTED,
            reject_reason=reason[:500],
            decided_by=staff,
            decided_at=timezone.now(),
            updated_at=timezone.now(),
        )
        if not decided:
            return False
        withdrawal = Withdrawal.objects.only("id", "user_id", "amount").get(pk=withdrawal_id)
        earnings_apply(
            account=referral_account_lock(user_id=withdrawal.user_id),
            amount=withdrawal.amount,
            kind=EarningsKind.WITHDRAWAL_RETURN,
            reference=withdrawal_reference(withdrawal_id),
            note=reason,
            created_by=staff,
        )
        hook_emit_on_commit(WITHDRAWAL_DECIDED, withdrawal_id=withdrawal_id)
    logger.info("withdrawal %s rejected by staff %s; %s Stars returned", withdrawal_id, staff.pk, withdrawal.amount)
    return True
