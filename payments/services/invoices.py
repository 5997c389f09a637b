"""Invoices: a pending Payment and the Telegram Stars invoice that pays it.

The Mini App gets an invoice link (`payment_invoice_create`, Bot API
`createInvoiceLink`, with `subscription_period` for a subscription pack); the bot
sends the invoice into the chat itself (`sendInvoice`, which cannot make a
subscription: the bot offers one-time packs only). Both start from `payment_pending_create` and describe the
invoice with `invoice_request_for`, so the payload check at pre-checkout and the
confirmation are the same whichever way the user pays.
"""

import logging
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext, ngettext

from accounts.models import User
from accounts.services import user_lock
from core.i18n import user_language
from core.telegram_api import TelegramApiError, bot_api_call
from payments.errors import InvoiceRateLimited, PackUnavailable, PaymentProviderUnavailable
from payments.models import STARS_CURRENCY, CreditPack, Payment
from payments.selectors import payment_get_for_user
from payments.services.payload import invoice_payload_for

logger = logging.getLogger(__name__)

# Each invoice costs a Bot API call; a client stuck in a loop must not get the
# bot rate-limited by Telegram for everyone.
INVOICES_PER_HOUR = 30


def payment_pending_create(*, user: User, pack_slug: str) -> Payment:
    """A pending payment for the pack, with its signed invoice payload, committed.

    Raises PackUnavailable for an unknown or withdrawn pack and InvoiceRateLimited
    past INVOICES_PER_HOUR. The caller then makes the Telegram invoice (outside
    any transaction) and reports a failure with `payment_invoice_failed`.
    """
    pack = CreditPack.objects.filter(slug=pack_slug, is_active=True).first()
    if pack is None:
        raise PackUnavailable(details={"pack": [gettext("This credit pack is not on sale.")]})

    with transaction.atomic():
        # Counted under the user's row lock: concurrent requests of one user queue
        # here, and each counts the invoices committed before it, so the limit holds
        # exactly (a count before the insert without the lock let 45 concurrent
        # requests make 32 invoices against a limit of 30).
        user_lock(user_id=user.pk)
        hour_ago = timezone.now() - timedelta(hours=1)
        if Payment.objects.filter(user=user, created_at__gte=hour_ago).count() >= INVOICES_PER_HOUR:
            raise InvoiceRateLimited(headers={"Retry-After": "3600"})
        payment = Payment.objects.create(user=user, pack=pack, stars=pack.stars, credits=pack.credits,
                                         period_days=pack.period_days)
        payment.invoice_payload = invoice_payload_for(payment)
        payment.save(update_fields=["invoice_payload", "updated_at"])
    return payment


def invoice_request_for(payment: Payment) -> dict[str, Any]:
    """The Bot API fields of the Stars invoice of a pending payment, in the buyer's
    language: `title`, `description`, `payload`, `currency`, `prices`."""
    language = user_language(payment.user.language_code)
    with translation.override(language):
        title = payment.pack.title_for(language)
        description = ngettext(
            "%(credits)d credit for AI image and video generations in NanoGen.",
            "%(credits)d credits for AI image and video generations in NanoGen.",
            payment.credits,
        ) % {"credits": payment.credits}
    return {
        "title": title[:32],
        "description": description[:255],
        "payload": payment.invoice_payload,
        # Telegram Stars: no payment provider, the currency XTR, one price item.
        "currency": STARS_CURRENCY,
        "prices": [{"label": title[:32], "amount": payment.stars}],
    }


def payment_invoice_failed(*, payment_id: int, reason: str) -> bool:
    """pending -> failed with the reason, when Telegram made no invoice for it;
    False when the payment is no longer pending (it was paid meanwhile)."""
    failed = Payment.objects.filter(pk=payment_id, status=Payment.Status.PENDING).update(
        status=Payment.Status.FAILED, failure_reason=reason[:255], updated_at=timezone.now()
    )
    if failed:
        logger.warning("payment %s: no invoice: %s", payment_id, reason, extra={"payment_id": payment_id})
    return bool(failed)


def payment_cancel(*, user: User, payment_id: int) -> Payment:
    """pending -> cancelled: the buyer closed the invoice without paying (Telegram told the
    Mini App `cancelled` or `failed`), so the purchase list stops saying "awaiting
    payment". Any other state stays as it is (a payment confirmed meanwhile stays paid).
    Raises NotFound for a payment that is not the user's.

    A cancelled payment is no longer offered at pre-checkout; Stars that reach it anyway
    (a successful_payment) still pay it, as for a failed one: nothing paid is lost.
    """
    payment = payment_get_for_user(user=user, payment_id=payment_id)
    # Conditional: a successful_payment confirming it at the same moment wins.
    cancelled = Payment.objects.filter(pk=payment.pk, status=Payment.Status.PENDING).update(
        status=Payment.Status.CANCELLED, updated_at=timezone.now()
    )
    if cancelled:
        logger.info("payment %s: invoice closed unpaid by the buyer", payment.pk, extra={"payment_id": payment.pk})
    payment.refresh_from_db()
    return payment


def payment_invoice_create(*, user: User, pack_slug: str) -> Payment:
    """A pending payment for the pack and its invoice link (`payment.invoice_link`).

    Raises PackUnavailable for an unknown or withdrawn pack, and
    PaymentProviderUnavailable when Telegram gives no link; the payment is then
    kept as failed with the reason, so nothing is lost and staff can see why.
    """
    payment = payment_pending_create(user=user, pack_slug=pack_slug)

    # The Bot API call happens after the commit, outside any transaction: it may
    # take seconds, and an open transaction would hold a database connection
    # (and the payment row) for all that time. The payment must also be visible
    # to the bot's pre_checkout handler before anybody can use the link.
    request = {**invoice_request_for(payment), "provider_token": ""}
    if payment.period_days:
        # A subscription: Telegram charges the user again every period until cancelled.
        request["subscription_period"] = settings.STARS_SUBSCRIPTION_PERIOD_SECONDS
    try:
        link = bot_api_call("createInvoiceLink", request)
        if not isinstance(link, str) or not link.startswith("https://"):
            raise TelegramApiError(method="createInvoiceLink", error_code=None, description="no link in the answer")
    except TelegramApiError as exc:
        payment_invoice_failed(payment_id=payment.pk, reason=str(exc))
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise PaymentProviderUnavailable(headers=headers) from exc

    Payment.objects.filter(pk=payment.pk).update(invoice_link=link[:255], updated_at=timezone.now())
    payment.invoice_link = link
    logger.info("payment %s: invoice for pack %s (%s Stars)", payment.pk, payment.pack.slug, payment.stars,
                extra={"payment_id": payment.pk})
    return payment
