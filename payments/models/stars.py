"""Stars subscriptions and the reconciliations of NanoGen's payments with Telegram's
Stars transactions."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from payments.models.packs import CreditPack


class Subscription(models.Model):
    """A Telegram Stars subscription to a credit pack: Telegram charges the user every
    period and sends each renewal as a successful_payment with the first payment's
    invoice payload and a new charge id; each renewal is a Payment that grants the
    period's credits once and moves `expires_at`.

    Telegram names the subscription by its first charge id (editUserStarSubscription).
    Cancelled, Telegram stops renewing it and the paid period stays; past
    `expires_at` without a renewal it has ended (the user may also have cancelled it
    in Telegram itself, which tells the bot nothing).
    """

    class Status(models.TextChoices):
        ACTIVE = "active", _("active")
        CANCELLED = "cancelled", _("cancelled")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="subscriptions"
    )
    pack = models.ForeignKey(CreditPack, verbose_name=_("pack"), on_delete=models.PROTECT, related_name="+")
    # Copied from the first payment: every renewal pays and grants the same.
    stars = models.PositiveIntegerField(_("Stars per period"), editable=False)
    credits = models.PositiveIntegerField(_("credits per period"), editable=False)
    period_days = models.PositiveSmallIntegerField(_("period (days)"), editable=False)
    invoice_payload = models.CharField(_("invoice payload"), max_length=128, unique=True)
    telegram_payment_charge_id = models.CharField(_("Telegram charge id (first payment)"), max_length=255,
                                                  unique=True)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.ACTIVE)
    expires_at = models.DateTimeField(_("paid until"))
    cancelled_at = models.DateTimeField(_("cancelled"), null=True, blank=True)
    # Empty when the user cancelled it.
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("cancelled by staff"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        ordering = ["-id"]
        permissions = [("cancel_subscription", _("Can cancel Stars subscriptions"))]
        indexes = [models.Index(fields=["user", "-id"], name="subscription_user_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gt=0) & Q(credits__gt=0), name="subscription_terms_positive"),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | Q(cancelled_at__isnull=False), name="subscription_cancelled_has_time"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.stars} Stars / {self.period_days} days {self.status}"


class StarsReconciliation(models.Model):
    """One run of `reconcile_stars`: Telegram's Stars transactions of a period
    compared with the payments, what was found and what was done about it."""

    class Status(models.TextChoices):
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    days = models.PositiveSmallIntegerField(_("days compared"))
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.RUNNING)
    started_at = models.DateTimeField(_("started"), auto_now_add=True)
    finished_at = models.DateTimeField(_("finished"), null=True, blank=True)
    transactions = models.PositiveIntegerField(_("transactions read"), default=0)
    credited = models.PositiveIntegerField(_("payments credited"), default=0)
    issues = models.PositiveIntegerField(_("unmatched payments recorded"), default=0)
    refunds = models.PositiveIntegerField(_("refunds booked"), default=0)
    affiliate_commissions = models.PositiveIntegerField(_("affiliate commissions recorded"), default=0)
    # Found but not settled by the run (a refund of a charge NanoGen never saw...): for staff.
    unresolved = models.PositiveIntegerField(_("unresolved"), default=0)
    # Every finding with its charge id and what was done: {"findings": [...]}.
    report = models.JSONField(_("report"), default=dict, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("Stars reconciliation")
        verbose_name_plural = _("Stars reconciliations")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"#{self.pk} {self.started_at:%Y-%m-%d %H:%M} {self.status}"
