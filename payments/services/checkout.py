"""What the bot calls for a Stars payment: the pre_checkout_query check and the
successful_payment confirmation.

The confirmation is exactly-once per `telegram_payment_charge_id`: the payment
row is locked while it goes pending -> paid, the credits are granted in that
same transaction (ledger kind PURCHASE, reference `payment:<id>`, itself unique),
and the charge id column is unique. Telegram may deliver a successful_payment
more than once, even concurrently: the repeats find the paid payment and grant
nothing. Stars that match no payable payment are recorded as a PaymentIssue for
staff, never dropped.

Subscriptions: the successful_payment of a subscription's invoice (Telegram says
so with `subscription_expiration_date`) starts a Subscription; each renewal
names the same payload with a new charge id and becomes a payment of its own
(`payments.services.subscriptions`), under the same row lock of the first
payment, so three deliveries of one renewal grant once.
"""

import enum
import logging
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from accounts.models import CreditKind, User
from accounts.services import credits_apply, user_lock
from core.i18n import user_language
from payments.errors import PaymentNotMatched
from payments.hooks import PAYMENT_ISSUE, PAYMENT_PAID, hook_emit_on_commit
from payments.models import STARS_CURRENCY, EarningsKind, Payment, PaymentIssue
from payments.services.earnings import earnings_apply, referral_account_lock
from payments.services.payload import invoice_payload_payment_id, invoice_payload_verify
from payments.services.subscriptions import subscription_renewal_record, subscription_start

logger = logging.getLogger(__name__)

Status = Payment.Status
Reason = PaymentIssue.Reason


class PreCheckoutRefusal(enum.StrEnum):
    """Why a pre_checkout_query was refused (logged; the user reads a message instead).
    The first five are also why a successful_payment that got through would be unmatched."""

    UNKNOWN_PAYMENT = Reason.UNKNOWN_PAYMENT.value
    BAD_PAYLOAD = Reason.BAD_PAYLOAD.value
    WRONG_USER = Reason.WRONG_USER.value
    WRONG_CURRENCY = Reason.WRONG_CURRENCY.value
    WRONG_AMOUNT = Reason.WRONG_AMOUNT.value
    BANNED = "banned"
    NOT_PENDING = "not_pending"
    PACK_CHANGED = "pack_changed"


def payment_reference(payment_id: int) -> str:
    """The ledger reference (credits and earnings) of everything a payment caused."""
    return f"payment:{payment_id}"


def referral_commission(stars: int) -> int:
    """The referrer's share of a purchase, in whole Stars, rounded down."""
    percent: int = settings.REFERRAL_PERCENT
    return stars * percent // 100


def _payment_named_by(payload: str) -> Payment | None:
    payment_id = invoice_payload_payment_id(payload)
    if payment_id is None:
        return None
    return Payment.objects.select_related("user", "pack").filter(pk=payment_id).first()


def payment_pre_checkout(
    *, telegram_user_id: int, payload: str, currency: str, total_amount: int
) -> tuple[bool, str | None]:
    """Whether Telegram may take the Stars for this invoice: (True, None), or
    (False, a message for the user in their language).

    The payload must name a pending payment of this user with a valid signature,
    for the same amount in XTR, of a pack still sold on the same terms. Only
    database reads: the bot must answer within 10 seconds.
    """
    payment = _payment_named_by(payload)
    buyer = payment.user if payment is not None else User.objects.filter(telegram_id=telegram_user_id).first()
    with translation.override(user_language(buyer.language_code if buyer else None)):
        problem = _pre_checkout_problem(
            payment=payment, telegram_user_id=telegram_user_id, payload=payload, currency=currency,
            total_amount=total_amount,
        )
        if problem is None:
            return True, None
        code, message = problem
        logger.info(
            "pre-checkout refused (%s) for Telegram user %s, payload %r", code, telegram_user_id, payload[:128],
            extra={"payment_id": payment.pk if payment else None},
        )
        return False, message


def _pre_checkout_problem(
    *, payment: Payment | None, telegram_user_id: int, payload: str, currency: str, total_amount: int
) -> tuple[PreCheckoutRefusal, str] | None:
    invalid = gettext("This invoice is not valid. Please open the shop and buy again.")
    if payment is None:
        return PreCheckoutRefusal.UNKNOWN_PAYMENT, invalid
    if not invoice_payload_verify(payment, payload):
        return PreCheckoutRefusal.BAD_PAYLOAD, invalid
    if payment.user.telegram_id != telegram_user_id:
        return PreCheckoutRefusal.WRONG_USER, invalid
    if payment.user.is_banned:
        return PreCheckoutRefusal.BANNED, gettext("Your account is banned.")
    if payment.status != Status.PENDING:
        return PreCheckoutRefusal.NOT_PENDING, gettext("This invoice has already been paid or is no longer valid.")
    if currency != STARS_CURRENCY:
        return PreCheckoutRefusal.WRONG_CURRENCY, invalid
    if total_amount != payment.stars:
        return PreCheckoutRefusal.WRONG_AMOUNT, invalid
    pack = payment.pack
    if not pack.is_active or (pack.stars, pack.credits, pack.period_days) != (
        payment.stars, payment.credits, payment.period_days
    ):
        return PreCheckoutRefusal.PACK_CHANGED, gettext(
            "This pack is no longer sold on these terms. Please open the shop again."
        )
    return None


class _Unmatched(Exception):
    def __init__(self, reason: PaymentIssue.Reason, payment: Payment | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.payment = payment


def payment_confirm(
    *,
    telegram_user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str = "",
    subscription_expires_at: datetime | None = None,
) -> Payment:
    """Record a successful_payment: the payment becomes paid and its credits are
    granted, once. A repeated delivery of the same charge returns the same paid
    payment and grants nothing more.

    `subscription_expires_at` (Telegram's `subscription_expiration_date`) marks a
    subscription's payment: the first starts the Subscription, a renewal (a new
    charge for an already paid subscription payment) is a payment of its own.

    Raises PaymentNotMatched (nothing granted) when the payload names no payment
    of this user that can be paid with this amount and currency; the raw data is
    kept as a PaymentIssue for staff, and PAYMENT_ISSUE listeners are told.
    """
    if not telegram_payment_charge_id:
        raise ValueError("a successful_payment always has a telegram_payment_charge_id")
    repeat = Payment.objects.filter(telegram_payment_charge_id=telegram_payment_charge_id).first()
    if repeat is not None:
        return repeat

    try:
        with transaction.atomic():
            payment = _payment_pay(
                telegram_user_id=telegram_user_id,
                payload=payload,
                currency=currency,
                total_amount=total_amount,
                telegram_payment_charge_id=telegram_payment_charge_id,
                provider_payment_charge_id=provider_payment_charge_id,
                subscription_expires_at=subscription_expires_at,
            )
    except _Unmatched as unmatched:
        issue = _issue_record(
            reason=unmatched.reason,
            payment=unmatched.payment,
            telegram_user_id=telegram_user_id,
            payload=payload,
            currency=currency,
            total_amount=total_amount,
            telegram_payment_charge_id=telegram_payment_charge_id,
            provider_payment_charge_id=provider_payment_charge_id,
        )
        raise PaymentNotMatched(issue=issue) from None
    except IntegrityError:
        # The charge id is already taken: a concurrent delivery of this charge
        # won the race (for this payment the row lock makes that impossible, so
        # this is the unique index guarding the rest).
        repeat = Payment.objects.filter(telegram_payment_charge_id=telegram_payment_charge_id).first()
        if repeat is None:
            raise
        return repeat
    return payment


def _payment_pay(
    *,
    telegram_user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str,
    subscription_expires_at: datetime | None,
) -> Payment:
    payment_id = invoice_payload_payment_id(payload)
    if payment_id is None:
        raise _Unmatched(Reason.BAD_PAYLOAD, None)
    # The row lock serialises every delivery of this payment: the first pays it,
    # the others wait here and then see it paid.
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise _Unmatched(Reason.UNKNOWN_PAYMENT, None)
    if not invoice_payload_verify(payment, payload):
        raise _Unmatched(Reason.BAD_PAYLOAD, None)
    buyer = user_lock(user_id=payment.user_id)
    if buyer.telegram_id != telegram_user_id:
        raise _Unmatched(Reason.WRONG_USER, payment)
    if payment.status in Payment.PAID_STATUSES:
        if payment.telegram_payment_charge_id == telegram_payment_charge_id:
            return payment
        if payment.subscription_id is None:
            reason = Reason.ALREADY_PAID if payment.status == Status.PAID else Reason.NOT_PAYABLE
            raise _Unmatched(reason, payment)
    if currency != STARS_CURRENCY:
        raise _Unmatched(Reason.WRONG_CURRENCY, payment)
    if total_amount != payment.stars:
        raise _Unmatched(Reason.WRONG_AMOUNT, payment)
    if payment.status in Payment.PAID_STATUSES:
        # A new charge for a subscription's payment: Telegram renewed it.
        renewal, created = subscription_renewal_record(
            first=payment, telegram_payment_charge_id=telegram_payment_charge_id,
            provider_payment_charge_id=provider_payment_charge_id, expires_at=subscription_expires_at,
        )
        if created:  # else a repeat that waited for the lock above: the first delivery granted it
            _grant(payment=renewal, buyer=buyer)
        return renewal

    # pending, or failed because our side got no invoice link in time although
    # Telegram made one: the Stars were paid for this payment, so it is paid.
    payment.status = Status.PAID
    payment.telegram_payment_charge_id = telegram_payment_charge_id
    payment.provider_payment_charge_id = provider_payment_charge_id[:255]
    payment.paid_at = timezone.now()
    if subscription_expires_at is not None:
        payment.subscription = subscription_start(
            payment=payment, telegram_payment_charge_id=telegram_payment_charge_id, expires_at=subscription_expires_at
        )
    payment.save(update_fields=[
        "status", "telegram_payment_charge_id", "provider_payment_charge_id", "paid_at", "subscription",
        "updated_at",
    ])
    _grant(payment=payment, buyer=buyer)
    return payment


def _grant(*, payment: Payment, buyer: User) -> None:
    """The credits (and the referrer's commission) of a payment just made paid."""
    note = f"{payment.stars} Stars"
    if payment.subscription_id is not None:
        note += f", subscription {payment.subscription_id}"
    credits_apply(
        user=buyer,
        amount=payment.credits,
        kind=CreditKind.PURCHASE,
        reference=payment_reference(payment.pk),
        note=note,
    )
    _referral_commission_credit(payment=payment, buyer=buyer)
    hook_emit_on_commit(PAYMENT_PAID, payment_id=payment.pk)
    logger.info("payment %s paid: %s Stars, %s credits", payment.pk, payment.stars, payment.credits,
                extra={"payment_id": payment.pk})


def _referral_commission_credit(*, payment: Payment, buyer: User) -> None:
    if buyer.referred_by_id is None:
        return
    commission = referral_commission(payment.stars)
    if commission <= 0:
        return
    earnings_apply(
        account=referral_account_lock(user_id=buyer.referred_by_id),
        amount=commission,
        kind=EarningsKind.COMMISSION,
        reference=payment_reference(payment.pk),
        note=f"{settings.REFERRAL_PERCENT}% of {payment.stars} Stars paid by user {buyer.pk}",
    )


def _issue_record(
    *,
    reason: str,
    payment: Payment | None,
    telegram_user_id: int,
    payload: str,
    currency: str,
    total_amount: int,
    telegram_payment_charge_id: str,
    provider_payment_charge_id: str,
) -> PaymentIssue:
    fields: dict[str, Any] = {
        "reason": reason,
        "payment": payment,
        "telegram_user_id": telegram_user_id,
        "user": User.objects.filter(telegram_id=telegram_user_id).first(),
        "payload": str(payload)[:255],
        "currency": str(currency)[:8],
        "total_amount": total_amount,
        "provider_payment_charge_id": provider_payment_charge_id[:255],
    }
    with transaction.atomic():
        issue, created = PaymentIssue.objects.get_or_create(
            telegram_payment_charge_id=telegram_payment_charge_id, defaults=fields
        )
        if created:
            hook_emit_on_commit(PAYMENT_ISSUE, issue_id=issue.pk)
    if created:
        logger.error(
            "unmatched Stars payment recorded as issue %s (%s): %s %s from Telegram user %s",
            issue.pk, reason, total_amount, currency, telegram_user_id,
            extra={"payment_id": payment.pk if payment else None},
        )
    return issue
