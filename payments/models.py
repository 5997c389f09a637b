"""Money that comes in (Telegram Stars payments for credit packs), the referral
earnings it produces, and the withdrawals of those earnings.

Balances here follow the same rules as credits: `ReferralAccount.earnings` is a
cache of its append-only `ReferralEarningsEntry` ledger, written in the same
transaction under the account's row lock, with a CHECK against going negative.
Only `payments.services` writes these models.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import LedgerEntry

# Telegram Stars: the only currency Telegram allows for digital goods.
STARS_CURRENCY = "XTR"

# Stars subscriptions: Telegram renews them every 30 days (`subscription_period`
# 2592000 seconds, the only value it accepts; its test environment only 60 or 300),
# for at most 10000 Stars a period.
SUBSCRIPTION_PERIOD_DAYS = 30
SUBSCRIPTION_PERIODS = (2592000,)
TEST_ENVIRONMENT_SUBSCRIPTION_PERIODS = (60, 300)
SUBSCRIPTION_MAX_STARS = 10000


class CreditPack(models.Model):
    """What users buy: `credits` for `stars`. Staff edit packs; a payment copies the
    price and the credits when its invoice is made, so an edit never changes it."""

    slug = models.SlugField(_("slug"), max_length=32, unique=True)
    title = models.CharField(_("title (English)"), max_length=32, help_text=_("Invoice title, at most 32 characters."))
    title_ru = models.CharField(_("title (Russian)"), max_length=32, blank=True,
                                help_text=_("Empty: the English title is shown."))
    stars = models.PositiveIntegerField(_("price in Stars"))
    credits = models.PositiveIntegerField(_("credits"))
    is_active = models.BooleanField(_("on sale"), default=True)
    sort_order = models.IntegerField(_("sort order"), default=0)
    # A subscription pack: its credits every period, until the user cancels.
    period_days = models.PositiveSmallIntegerField(
        _("subscription period (days)"), null=True, blank=True,
        choices=[(SUBSCRIPTION_PERIOD_DAYS, _("30 days"))],
        help_text=_("Empty: bought once. 30 days: a Stars subscription that Telegram renews every 30 days "
                    "(at most 10000 Stars)."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("credit pack")
        verbose_name_plural = _("credit packs")
        ordering = ["sort_order", "stars", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(stars__gt=0), name="creditpack_stars_positive"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="creditpack_credits_positive"),
            models.CheckConstraint(
                condition=Q(period_days__isnull=True)
                | Q(period_days=SUBSCRIPTION_PERIOD_DAYS, stars__lte=SUBSCRIPTION_MAX_STARS),
                name="creditpack_subscription_terms",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} ({self.stars} Stars)"

    def title_for(self, language: str) -> str:
        if language == "ru" and self.title_ru:
            return self.title_ru
        return self.title


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
