"""Stars subscriptions: started by their first payment, renewed by Telegram, cancelled
by the user (the API) or by staff (the admin).

The first payment of a subscription pack's invoice link is confirmed like any
other and starts the Subscription (`subscription_start`). Telegram then charges
the user every period and sends a successful_payment with the same invoice
payload and a new charge id: `subscription_renewal_record` makes it a paid
payment of its own, which `payment_confirm` grants once. Both run inside
`payment_confirm`'s transaction, under the row lock of the first payment, which
every renewal's payload names: deliveries of one renewal, even concurrent ones,
make one payment (the charge id is unique as well).
"""

import logging
from datetime import datetime, timedelta

from django.utils import timezone

from accounts.models import User
from core.telegram_api import TelegramApiError, bot_api_call
from payments.errors import PaymentProviderUnavailable, SubscriptionNotCancellable
from payments.models import SUBSCRIPTION_PERIOD_DAYS, Payment, Subscription

logger = logging.getLogger(__name__)


def subscription_start(*, payment: Payment, telegram_payment_charge_id: str, expires_at: datetime) -> Subscription:
    """The Subscription that a subscription's first payment (being made paid, its
    row locked by the caller) starts; paid until `expires_at`."""
    subscription = Subscription.objects.create(
        user_id=payment.user_id,
        pack_id=payment.pack_id,
        stars=payment.stars,
        credits=payment.credits,
        period_days=payment.period_days or SUBSCRIPTION_PERIOD_DAYS,
        invoice_payload=payment.invoice_payload,
        telegram_payment_charge_id=telegram_payment_charge_id,
        expires_at=expires_at,
    )
    logger.info("subscription %s started by payment %s, paid until %s", subscription.pk, payment.pk, expires_at,
                extra={"payment_id": payment.pk})
    return subscription


def subscription_renewal_record(
    *, first: Payment, telegram_payment_charge_id: str, provider_payment_charge_id: str,
    expires_at: datetime | None,
) -> tuple[Payment, bool]:
    """The paid payment of a renewal of `first`'s subscription (the caller holds
    `first`'s row lock and grants it), and whether it was made now: False when a
    delivery of the same charge made it before. `expires_at` is Telegram's new
    expiration date (unknown to reconciliation: then one period more)."""
    existing = Payment.objects.filter(telegram_payment_charge_id=telegram_payment_charge_id).first()
    if existing is not None:
        return existing, False
    if first.subscription_id is None:
        raise ValueError(f"payment {first.pk} is no subscription's: it has no renewals")
    subscription = Subscription.objects.select_for_update().get(pk=first.subscription_id)
    now = timezone.now()
    renewal = Payment.objects.create(
        user_id=subscription.user_id,
        pack_id=subscription.pack_id,
        stars=subscription.stars,
        credits=subscription.credits,
        period_days=subscription.period_days,
        subscription=subscription,
        status=Payment.Status.PAID,
        invoice_payload=subscription.invoice_payload,
        telegram_payment_charge_id=telegram_payment_charge_id,
        provider_payment_charge_id=provider_payment_charge_id[:255],
        paid_at=now,
    )
    paid_until = expires_at or max(subscription.expires_at, now) + timedelta(days=subscription.period_days)
    if paid_until > subscription.expires_at:
        Subscription.objects.filter(pk=subscription.pk).update(expires_at=paid_until, updated_at=now)
    logger.info("subscription %s renewed by payment %s, paid until %s", subscription.pk, renewal.pk,
                max(paid_until, subscription.expires_at), extra={"payment_id": renewal.pk})
    return renewal, True


def subscription_cancel(*, subscription_id: int, staff: User | None = None) -> Subscription:
    """Ask Telegram to stop renewing the subscription (editUserStarSubscription,
    is_canceled), then record it as cancelled; the period paid for stays. A
    cancelled subscription is returned as it is. `staff` is who cancelled it in
    the admin (None: the user).

    Raises PaymentProviderUnavailable when Telegram cannot be reached (try again)
    and SubscriptionNotCancellable when it refuses; nothing changes then.
    """
    subscription = Subscription.objects.select_related("user").get(pk=subscription_id)
    if subscription.status == Subscription.Status.CANCELLED:
        return subscription
    # Outside any transaction: a network call that may take seconds.
    try:
        bot_api_call("editUserStarSubscription", {
            "user_id": subscription.user.telegram_id,
            "telegram_payment_charge_id": subscription.telegram_payment_charge_id,
            "is_canceled": True,
        })
    except TelegramApiError as exc:
        logger.warning("subscription %s: Telegram did not cancel it: %s", subscription_id, exc)
        if exc.is_transient:
            headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
            raise PaymentProviderUnavailable(headers=headers) from exc
        raise SubscriptionNotCancellable() from exc
    now = timezone.now()
    Subscription.objects.filter(pk=subscription_id, status=Subscription.Status.ACTIVE).update(
        status=Subscription.Status.CANCELLED, cancelled_at=now, cancelled_by=staff, updated_at=now
    )
    subscription.refresh_from_db()
    logger.info("subscription %s cancelled by %s", subscription_id,
                f"staff {staff.pk}" if staff is not None else "its user")
    return subscription

