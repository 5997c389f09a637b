"""Referral earnings and their withdrawals.

`ReferralAccount.earnings` is a cache of its append-only `ReferralEarningsEntry` ledger,
written in the same transaction under the account's row lock, with a CHECK against
going negative (the same rules as credits).
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import LedgerEntry


class ReferralAccount(models.Model):
    """A referrer's earnings in Stars: a cache of the earnings ledger, never negative."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, primary_key=True,
        related_name="referral_account",
    )
    earnings = models.BigIntegerField(_("earnings (Stars)"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("referral account")
        verbose_name_plural = _("referral accounts")
        constraints = [models.CheckConstraint(condition=Q(earnings__gte=0), name="referral_earnings_non_negative")]

    def __str__(self) -> str:
        return f"{self.user}: {self.earnings} Stars"


class EarningsKind(models.TextChoices):
    COMMISSION = "commission", _("commission on a purchase")
    COMMISSION_REVERSAL = "commission_reversal", _("commission reversed (purchase refunded)")
    COMMISSION_REVERSAL_UNDONE = "commission_reversal_undone", _("commission reversal undone (refund refused)")
    WITHDRAWAL_HOLD = "withdrawal_hold", _("withdrawal requested")
    WITHDRAWAL_RETURN = "withdrawal_return", _("withdrawal rejected")


class ReferralEarningsEntry(LedgerEntry):
    """One change of one referrer's earnings, in Stars (see LedgerEntry).

    Every kind happens at most once per cause (`payment:7`, `withdrawal:3`): a
    unique (kind, reference) makes the database refuse a second commission for a
    payment or a second return of a rejected withdrawal.
    """

    Kind = EarningsKind

    account = models.ForeignKey(
        ReferralAccount, verbose_name=_("referral account"), on_delete=models.PROTECT, related_name="entries"
    )
    amount = models.BigIntegerField(_("amount (Stars)"))
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    reference = models.CharField(_("reference"), max_length=64)  # every entry has a cause

    class Meta(LedgerEntry.Meta):
        verbose_name = _("referral earnings entry")
        verbose_name_plural = _("referral earnings ledger")
        # Lookups by cause always name the kind too: the unique index serves them.
        indexes = [models.Index(fields=["account", "-id"], name="earnings_account_recent")]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="earnings_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="earnings_balance_after_non_negative"),
            models.UniqueConstraint(fields=["kind", "reference"], name="earnings_once_per_reference"),
        ]


class Withdrawal(models.Model):
    """A request to pay out referral earnings. The amount leaves the earnings at
    once (held); staff pay it out (paid) or reject it (the amount returns, once)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PAID = "paid", _("paid")
        REJECTED = "rejected", _("rejected")

    class Method(models.TextChoices):
        TON = "ton", _("TON wallet")
        USDT_TON = "usdt_ton", _("USDT on TON")
        USDT_TRC20 = "usdt_trc20", _("USDT TRC-20")
        CARD = "card", _("bank card")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT, related_name="withdrawals"
    )
    amount = models.PositiveIntegerField(_("amount (Stars)"), editable=False)
    method = models.CharField(_("method"), max_length=16, choices=Method.choices)
    destination = models.CharField(_("destination"), max_length=255)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.PENDING)
    payout_reference = models.CharField(_("payout reference"), max_length=255, blank=True)
    reject_reason = models.CharField(_("reject reason"), max_length=500, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("decided by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(_("decided"), null=True, blank=True)
    created_at = models.DateTimeField(_("requested"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("withdrawal")
        verbose_name_plural = _("withdrawals")
        ordering = ["-id"]
        permissions = [("decide_withdrawal", _("Can approve or reject withdrawals"))]
        indexes = [
            models.Index(fields=["user", "-id"], name="withdrawal_user_recent"),
            models.Index(fields=["status", "-id"], name="withdrawal_status_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="withdrawal_amount_positive"),
            models.UniqueConstraint(
                fields=["user"], condition=Q(status="pending"), name="withdrawal_one_pending_per_user"
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_at__isnull=False), name="withdrawal_decided_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="paid") | ~Q(payout_reference=""), name="withdrawal_paid_has_reference"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.amount} Stars {self.status}"
