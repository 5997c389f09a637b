"""Purchases of credit packs with Telegram Stars, and Stars that matched no purchase."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models.packs import CreditPack


class Payment(models.Model):
    """One purchase of a credit pack with Telegram Stars.

    pending -> paid (successful_payment, credits granted once) -> refunding (the
    credits and commission taken back, Telegram being asked) -> refunded, or back
    to paid if Telegram refuses (everything returned through the ledgers); paid ->
    refunded when Telegram refunded it outside NanoGen (`refunded_outside`: a
    refunded_payment message, or found by reconciliation); pending -> failed when no
    invoice link could be made; pending -> cancelled when the buyer closed the invoice
    unpaid (the Mini App says so). Stars that arrive all the same for a failed or
    cancelled payment still pay it.
    `telegram_payment_charge_id` is unique: a repeated successful_payment finds
    the payment it already paid and grants nothing more.

    A subscription's first payment is made like any other; each renewal is a
    payment of its own (made paid by its successful_payment, with the same
    invoice payload and a new charge id), so each grants its credits once.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        FAILED = "failed", _("failed")
        PAID = "paid", _("paid")
        REFUNDING = "refunding", _("refund in progress")
        REFUNDED = "refunded", _("refunded")
        CANCELLED = "cancelled", _("cancelled by the buyer")

    # States in which the Stars were received and the credits granted.
    PAID_STATUSES = (Status.PAID, Status.REFUNDING, Status.REFUNDED)

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="payments"
    )
    pack = models.ForeignKey(CreditPack, verbose_name=_("pack"), on_delete=models.PROTECT, related_name="payments")
    stars = models.PositiveIntegerField(_("Stars"), editable=False)
    credits = models.PositiveIntegerField(_("credits"), editable=False)
    # Copied from the pack like the price: set, the invoice link is a subscription's.
    period_days = models.PositiveSmallIntegerField(_("subscription period (days)"), null=True, blank=True,
                                                   editable=False)
    subscription = models.ForeignKey(
        "Subscription", verbose_name=_("subscription"), null=True, blank=True, on_delete=models.PROTECT,
        related_name="payments", db_index=False,  # the partial index below
    )
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)

    invoice_payload = models.CharField(_("invoice payload"), max_length=128, blank=True)
    invoice_link = models.CharField(_("invoice link"), max_length=255, blank=True)
    failure_reason = models.CharField(_("failure reason"), max_length=255, blank=True)

    # NULL until paid, so unpaid payments never collide in the unique index.
    telegram_payment_charge_id = models.CharField(
        _("Telegram charge id"), max_length=255, unique=True, null=True, blank=True
    )
    provider_payment_charge_id = models.CharField(_("provider charge id"), max_length=255, blank=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)

    refunded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("refunded by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    refunded_at = models.DateTimeField(_("refunded"), null=True, blank=True)
    refund_reason = models.CharField(_("refund reason"), max_length=500, blank=True)
    refund_forced = models.BooleanField(_("refunded although credits were spent"), default=False)
    # What the refund could take back: less than `credits` when the user had
    # spent some (refund anyway), less than the commission when the referrer had
    # withdrawn it.
    refund_credits_removed = models.PositiveIntegerField(_("credits removed by the refund"), default=0)
    refund_earnings_reversed = models.PositiveIntegerField(_("referral earnings reversed"), default=0)
    # Each try at a refund takes the credits and the commission back first (ledger
    # references `payment:<id>` for the first try, `payment:<id>:<n>` for the n-th),
    # then asks Telegram; a refusal returns them. Set while a try's Telegram call may
    # be in flight: another try waits until it is answered or clearly abandoned.
    refund_attempts = models.PositiveIntegerField(_("refund tries"), default=0)
    refund_call_started_at = models.DateTimeField(_("refund call started"), null=True, blank=True)
    # Refunded by Telegram (its support), not by NanoGen's staff.
    refunded_outside = models.BooleanField(_("refunded outside NanoGen"), default=False)
    # Telegram's affiliate program: the Stars an affiliate received of this payment
    # (from getStarTransactions, recorded by reconciliation), so revenue is counted net.
    affiliate_commission = models.PositiveIntegerField(_("affiliate commission (Stars)"), default=0)
    affiliate = models.CharField(_("affiliate"), max_length=64, blank=True)

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        ordering = ["-id"]
        permissions = [("refund_payment", _("Can refund Stars payments"))]
        indexes = [
            models.Index(fields=["user", "-id"], name="payment_user_recent"),
            models.Index(fields=["status", "-id"], name="payment_status_recent"),
            # Metrics and the staff dashboard sum Stars over windows of time.
            models.Index(fields=["paid_at"], condition=Q(paid_at__isnull=False), name="payment_paid"),
            models.Index(fields=["refunded_at"], condition=Q(refunded_at__isnull=False), name="payment_refunded"),
            models.Index(fields=["subscription", "-id"], condition=Q(subscription__isnull=False),
                         name="payment_subscription_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gt=0), name="payment_stars_positive"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="payment_credits_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "failed", "cancelled"])
                | Q(telegram_payment_charge_id__isnull=False),
                name="payment_paid_has_charge_id",
            ),
            models.CheckConstraint(
                condition=~Q(status="refunded") | Q(refunded_at__isnull=False),
                name="payment_refunded_has_time",
            ),
            models.CheckConstraint(
                condition=Q(refund_credits_removed__lte=models.F("credits")),
                name="payment_refund_within_credits",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.stars} Stars {self.status}"


class PaymentIssue(models.Model):
    """A successful_payment that matched no payable payment: Stars were received
    but nothing was granted. Kept for staff with everything Telegram sent, so the
    money is never silently dropped; staff refund the Stars or resolve it. Also
    recorded (closed as refunded) when Telegram refunded a charge NanoGen never saw,
    so that reconciliation knows it next time."""

    class Reason(models.TextChoices):
        BAD_PAYLOAD = "bad_payload", _("payload not ours or forged")
        UNKNOWN_PAYMENT = "unknown_payment", _("no such payment")
        WRONG_USER = "wrong_user", _("paid by another user")
        WRONG_CURRENCY = "wrong_currency", _("wrong currency")
        WRONG_AMOUNT = "wrong_amount", _("wrong amount")
        ALREADY_PAID = "already_paid", _("payment already paid with another charge")
        NOT_PAYABLE = "not_payable", _("payment refunded")
        # Telegram refunded a charge NanoGen had never recorded (nothing was granted for it).
        UNKNOWN_CHARGE = "unknown_charge", _("refund of a charge never recorded")

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        REFUNDED = "refunded", _("Stars refunded")
        RESOLVED = "resolved", _("resolved")

    reason = models.CharField(_("reason"), max_length=32, choices=Reason.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.OPEN)
    telegram_user_id = models.BigIntegerField(_("Telegram user id"))
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    payment = models.ForeignKey(
        Payment, verbose_name=_("payment"), null=True, blank=True, on_delete=models.SET_NULL, related_name="issues"
    )
    payload = models.CharField(_("invoice payload"), max_length=255, blank=True)
    currency = models.CharField(_("currency"), max_length=8)
    total_amount = models.BigIntegerField(_("amount"))
    # A repeated delivery of the same unmatched charge is one issue, not two.
    telegram_payment_charge_id = models.CharField(_("Telegram charge id"), max_length=255, unique=True)
    provider_payment_charge_id = models.CharField(_("provider charge id"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("resolved by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True)
    resolution_note = models.CharField(_("resolution"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("unmatched payment")
        verbose_name_plural = _("unmatched payments")
        ordering = ["-id"]
        permissions = [("resolve_paymentissue", _("Can refund or resolve unmatched payments"))]
        indexes = [models.Index(fields=["status", "-id"], name="paymentissue_status_recent")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.total_amount} {self.currency} {self.reason}"
