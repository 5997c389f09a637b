"""Refunds by staff: a Stars payment back to the buyer, and unmatched Stars.

A payment refund takes the pack's credits back through the ledger (kind
PURCHASE_REFUND) and the referrer's commission from the earnings ledger, and
records who, when and why. If the buyer has already spent some of the credits the
refund is refused, unless staff choose to refund anyway: then what is left is
removed and the balance stops at 0. Whatever could not be taken back is recorded
on the payment (`refund_credits_removed`, `refund_earnings_reversed`).

The order is what makes it safe (a review found the buyer could keep the
credits: the balance was checked without a lock, Telegram took seconds, and
generations started and cancelled meanwhile brought the credits back):

1. hold, in one transaction under the payment's and the buyer's row locks: check
   the balance, take the credits and the commission back, mark the payment
   `refunding`. From this commit on the credits are gone: nothing the buyer does
   while Telegram is asked can spend them. Credits held by the buyer's live
   (pending or processing) generations count as not spent: those generations are
   cancelled, newest first and only as many as needed, through the normal
   cancel-and-refund path, and their refunds taken back with the rest. (Counting
   their charges instead would let a generation that then fails hand its refund
   back to a buyer whose purchase was refunded.)
2. ask Telegram, outside any transaction (the call may take seconds; row locks
   held across it would block the buyer's every request).
3. Telegram refunded (or says it had: CHARGE_ALREADY_REFUNDED): the payment is
   `refunded`. Telegram refused (a definite answer such as CHARGE_NOT_FOUND):
   everything held returns through the ledgers, exactly once (kinds
   PURCHASE_REFUND_UNDONE and COMMISSION_REVERSAL_UNDONE), and the payment is
   `paid` again. No answer (network error, timeout, 5xx): Telegram may or may not
   have refunded, so the hold stays and the payment stays `refunding`.

Every step is a conditional change of the payment, fenced by the time its
Telegram call started (`refund_call_started_at`), so two clicks never both act. A
payment left `refunding` (no answer, or the process died) is finished by running
the refund again: it asks Telegram again (which answers CHARGE_ALREADY_REFUNDED if
the first call went through) once the earlier call can no longer be in flight.
Each try that holds has ledger references of its own (`payment:<id>` for the
first, `payment:<id>:<n>` for the n-th), so the ledgers' once-per-reference rule
still guards every row.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from core.errors import ValidationFailed
from core.telegram_api import TelegramApiError, bot_api_call
from generations.models import Generation
from generations.services import generation_cancel_if_active
from payments.errors import PaymentNotRefundable, RefundCreditsSpent, RefundInProgress, RefundProviderError
from payments.hooks import PAYMENT_REFUNDED, hook_emit_on_commit
from payments.models import EarningsKind, Payment, PaymentIssue, ReferralEarningsEntry
from payments.services.earnings import earnings_apply, referral_account_lock
from payments.services.reversals import payment_refund_reference, payment_reverse

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
    # The buyer's live generations cancelled (and refunded) to free the credits.
    generations_cancelled: int = 0


@dataclass(frozen=True)
class _Hold:
    payment: Payment
    # What refundStarPayment names: a paid payment has both (a database constraint;
    # only a Telegram user can pay), checked before anything is held.
    charge_id: str
    buyer_telegram_id: int
    call_started_at: datetime
    earnings_short: int
    generations_cancelled: int


def refund_call_lease() -> timedelta:
    """How long a try's Telegram call may be in flight: the call's own timeout, with a
    wide margin for a slow process. After it, another try may take the refund over."""
    return timedelta(seconds=3 * settings.TELEGRAM_API_TIMEOUT + 30)


def _refund_stars(*, telegram_user_id: int, charge_id: str) -> bool:
    """Ask Telegram to return the Stars; True when it says they were already returned.
    Raises TelegramApiError (`is_transient`: no definite answer)."""
    try:
        bot_api_call("refundStarPayment", {"user_id": telegram_user_id, "telegram_payment_charge_id": charge_id})
    except TelegramApiError as exc:
        if exc.has_description(ALREADY_REFUNDED):
            return True
        raise
    return False


def payment_refund(*, payment_id: int, staff: User, reason: str, force: bool = False) -> PaymentRefundResult:
    """Refund a paid payment's Stars and take back what it gave (module docstring).

    Raises PaymentNotRefundable (not paid, or already refunded), RefundCreditsSpent
    (the buyer spent credits and `force` is off; nothing changed), RefundInProgress
    (another try's Telegram call may be in flight), RefundProviderError (Telegram
    refused: everything was returned and the payment is paid again; or Telegram did
    not answer: the payment stays `refunding`, run the refund again to finish it).
    """
    reason = reason.strip()
    if not reason:
        raise ValidationFailed(details={"reason": [gettext("This field may not be blank.")]})
    hold = _refund_hold(payment_id=payment_id, staff=staff, reason=reason, force=force)
    try:
        already = _refund_stars(telegram_user_id=hold.buyer_telegram_id, charge_id=hold.charge_id)
    except TelegramApiError as exc:
        if exc.is_transient:
            _refund_call_end(hold)
            raise RefundProviderError(
                gettext(
                    "Telegram did not answer (%(error)s). The credits stay taken back and the payment stays "
                    "\"refund in progress\": run the refund again to finish it."
                ) % {"error": exc.description or exc.error_code}
            ) from exc
        if not _refund_undo(hold, why=exc.description or str(exc.error_code)):
            # Our call outlived its lease: the try that took the refund over decides.
            raise RefundInProgress() from exc
        raise RefundProviderError(
            gettext("Telegram did not refund the Stars: %(error)s. The credits were returned to the user.")
            % {"error": exc.description or exc.error_code}
        ) from exc
    return _refund_finish(hold, already=already)


def _refund_hold(*, payment_id: int, staff: User, reason: str, force: bool) -> _Hold:
    """Step 1: take back the credits and the commission, or resume a try that did."""
    with transaction.atomic():
        payment = Payment.objects.select_for_update().select_related("user").get(pk=payment_id)
        now = timezone.now()
        if payment.status == Status.REFUNDED:
            raise PaymentNotRefundable(gettext("This payment has already been refunded."))
        charge_id, buyer_telegram_id = payment.telegram_payment_charge_id, payment.user.telegram_id
        if charge_id is None or buyer_telegram_id is None:
            raise PaymentNotRefundable()
        if payment.status == Status.REFUNDING and payment.refund_attempts > 0:
            started = payment.refund_call_started_at
            if started is not None and started + refund_call_lease() > now:
                raise RefundInProgress()
            # The hold is there; only Telegram's answer is missing. Ask again.
            Payment.objects.filter(pk=payment_id).update(refund_call_started_at=now, updated_at=now)
            payment.refund_call_started_at = now
            logger.info("payment %s: resuming refund try %s", payment_id, payment.refund_attempts,
                        extra={"payment_id": payment_id})
            return _Hold(payment=payment, charge_id=charge_id, buyer_telegram_id=buyer_telegram_id,
                         call_started_at=now, earnings_short=0, generations_cancelled=0)
        # `refunding` with no try recorded was left by an earlier version, which called
        # Telegram before holding anything: hold now, as for a paid payment.
        if payment.status not in (Status.PAID, Status.REFUNDING):
            raise PaymentNotRefundable()

        buyer = user_lock(user_id=payment.user_id)
        cancelled = 0
        if buyer.credits < payment.credits:
            cancelled = _live_generations_cancel(user_id=buyer.pk, needed=payment.credits - buyer.credits)
            buyer = user_lock(user_id=payment.user_id)  # the balance after their refunds
        if not force and buyer.credits < payment.credits:
            # Raising rolls back the cancellations too: nothing changed.
            raise RefundCreditsSpent(
                gettext(
                    "%(user)s has %(balance)d credits left of the %(credits)d this payment gave. "
                    "Choose \"refund anyway\" to refund the Stars and remove what is left."
                ) % {"user": payment.user, "balance": buyer.credits, "credits": payment.credits},
                details={"balance": buyer.credits, "credits": payment.credits},
            )
        attempt = payment.refund_attempts + 1
        reference = payment_refund_reference(payment_id, attempt)
        # Never below 0: with "refund anyway", what the buyer already spent stays spent.
        reversal = payment_reverse(payment=payment, buyer=buyer, reference=reference, note=reason, staff=staff)
        credits_removed, earnings_reversed = reversal.credits_removed, reversal.earnings_reversed
        earnings_short = reversal.earnings_short
        payment.status = Status.REFUNDING
        payment.refund_attempts = attempt
        payment.refund_call_started_at = now
        payment.refunded_by = staff
        payment.refund_reason = reason[:500]
        payment.refund_forced = force
        payment.refund_credits_removed = credits_removed
        payment.refund_earnings_reversed = earnings_reversed
        payment.save(update_fields=[
            "status", "refund_attempts", "refund_call_started_at", "refunded_by", "refund_reason", "refund_forced",
            "refund_credits_removed", "refund_earnings_reversed", "updated_at",
        ])
    logger.info(
        "payment %s: refund try %s by staff %s holds %s of %s credits and %s Stars of commission",
        payment_id, attempt, staff.pk, credits_removed, payment.credits, earnings_reversed,
        extra={"payment_id": payment_id},
    )
    return _Hold(payment=payment, charge_id=charge_id, buyer_telegram_id=buyer_telegram_id, call_started_at=now,
                 earnings_short=earnings_short, generations_cancelled=cancelled)


def _live_generations_cancel(*, user_id: int, needed: int) -> int:
    """Cancel (and refund, the normal way) the buyer's live generations, newest first,
    until their refunds cover `needed` credits or none is left. Runs under the
    buyer's row lock, so no new one can start meanwhile. Returns how many."""
    live = (
        Generation.objects.filter(user_id=user_id, status__in=Generation.ACTIVE_STATUSES)
        .order_by("-id")
        .values_list("pk", "credits_charged")
    )
    cancelled = freed = 0
    for generation_id, charged in live:
        if freed >= needed:
            break
        # A worker may finish it first; the conditional UPDATE then changes nothing.
        if generation_cancel_if_active(generation_id=generation_id):
            cancelled += 1
            freed += charged
    return cancelled


def _refund_call_end(hold: _Hold) -> None:
    """No answer from Telegram: the hold stays, and another try may ask again at once."""
    Payment.objects.filter(
        pk=hold.payment.pk, status=Status.REFUNDING, refund_call_started_at=hold.call_started_at
    ).update(refund_call_started_at=None, updated_at=timezone.now())
    logger.warning("payment %s: Telegram did not answer the refund; it stays in progress", hold.payment.pk,
                   extra={"payment_id": hold.payment.pk})


def _refund_finish(hold: _Hold, *, already: bool) -> PaymentRefundResult:
    """Step 3: the Stars are back with the buyer."""
    with transaction.atomic():
        now = timezone.now()
        finished = Payment.objects.filter(
            pk=hold.payment.pk, status=Status.REFUNDING, refund_call_started_at=hold.call_started_at
        ).update(status=Status.REFUNDED, refunded_at=now, refund_call_started_at=None, updated_at=now)
        if not finished:
            # Our call outlived its lease and another try took over (and finished).
            raise PaymentNotRefundable(gettext("This payment has already been refunded."))
        hook_emit_on_commit(PAYMENT_REFUNDED, payment_id=hold.payment.pk)
    payment = Payment.objects.select_related("user").get(pk=hold.payment.pk)
    logger.info(
        "payment %s refunded by staff %s: %s of %s credits removed, %s Stars of commission reversed",
        payment.pk, payment.refunded_by_id, payment.refund_credits_removed, payment.credits,
        payment.refund_earnings_reversed, extra={"payment_id": payment.pk},
    )
    return PaymentRefundResult(
        payment=payment,
        credits_removed=payment.refund_credits_removed,
        credits_short=payment.credits - payment.refund_credits_removed,
        earnings_reversed=payment.refund_earnings_reversed,
        earnings_short=hold.earnings_short,
        already_refunded_by_telegram=already,
        generations_cancelled=hold.generations_cancelled,
    )


def _refund_undo(hold: _Hold, *, why: str) -> bool:
    """Telegram refused: return what the hold took, once, and make the payment paid
    again. False when another try owns the refund now (it will decide)."""
    payment_id = hold.payment.pk
    with transaction.atomic():
        payment = Payment.objects.select_for_update().get(pk=payment_id)
        if payment.status != Status.REFUNDING or payment.refund_call_started_at != hold.call_started_at:
            return False
        reference = payment_refund_reference(payment_id, payment.refund_attempts)
        note = f"Telegram refused the refund: {why}"
        if payment.refund_credits_removed:
            credits_apply(user=user_lock(user_id=payment.user_id), amount=payment.refund_credits_removed,
                          kind=CreditKind.PURCHASE_REFUND_UNDONE, reference=reference, note=note,
                          created_by=payment.refunded_by)
        if payment.refund_earnings_reversed:
            reversal = ReferralEarningsEntry.objects.get(kind=EarningsKind.COMMISSION_REVERSAL, reference=reference)
            earnings_apply(account=referral_account_lock(user_id=reversal.account_id),
                           amount=payment.refund_earnings_reversed, kind=EarningsKind.COMMISSION_REVERSAL_UNDONE,
                           reference=reference, note=note, created_by=payment.refunded_by)
        Payment.objects.filter(pk=payment_id).update(
            status=Status.PAID, refund_call_started_at=None, refunded_by=None, refund_reason="", refund_forced=False,
            refund_credits_removed=0, refund_earnings_reversed=0, updated_at=timezone.now(),
        )
    logger.warning("payment %s: Telegram refused the refund (%s); credits and commission returned", payment_id, why,
                   extra={"payment_id": payment_id})
    return True


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
    try:
        _refund_stars(telegram_user_id=issue.telegram_user_id, charge_id=issue.telegram_payment_charge_id)
    except TelegramApiError as exc:
        raise RefundProviderError(
            gettext("Telegram did not refund the Stars: %(error)s") % {"error": exc.description or exc.error_code}
        ) from exc
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
