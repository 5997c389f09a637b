import secrets

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

REFERRAL_CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"


def referral_code_new() -> str:
    return "".join(secrets.choice(REFERRAL_CODE_ALPHABET) for _ in range(10))


class UserManager(BaseUserManager["User"]):
    """Staff log in to the admin with email and password; Telegram users never do."""

    use_in_migrations = True

    def create_user(self, email: str | None = None, password: str | None = None, **fields: object) -> "User":
        user = self.model(email=self.normalize_email(email) if email else None, **fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: object) -> "User":
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A Telegram user of the Mini App and the bot, or a staff member, or both.

    `credits` is a cache of the user's credit ledger; only `accounts.services.credits`
    changes it, always together with a `CreditLedgerEntry`.
    """

    telegram_id = models.BigIntegerField(_("Telegram id"), unique=True, null=True, blank=True)
    username = models.CharField(_("Telegram username"), max_length=64, blank=True)
    first_name = models.CharField(_("first name"), max_length=150, blank=True)
    last_name = models.CharField(_("last name"), max_length=150, blank=True)
    language_code = models.CharField(_("language"), max_length=16, blank=True)
    is_premium = models.BooleanField(_("Telegram Premium"), default=False)

    credits = models.BigIntegerField(_("credits"), default=0, editable=False)
    is_banned = models.BooleanField(_("banned"), default=False)
    # Set when the bot finds that the user blocked it: notifications stop.
    is_reachable = models.BooleanField(_("reachable by the bot"), default=True)

    referral_code = models.CharField(_("referral code"), max_length=16, unique=True, default=referral_code_new)
    referred_by = models.ForeignKey(
        "self",
        verbose_name=_("referred by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referrals",
    )

    email = models.EmailField(_("staff email"), unique=True, null=True, blank=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    is_active = models.BooleanField(_("active"), default=True)

    created_at = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = []

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            ("change_credits", _("Can grant or remove credits")),
            ("ban_user", _("Can ban and unban users")),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gte=0), name="user_credits_non_negative"),
            models.CheckConstraint(condition=~Q(referred_by=models.F("id")), name="user_not_self_referred"),
        ]

    def __str__(self) -> str:
        if self.telegram_id is None:
            return self.email or f"user {self.pk}"
        name = f"@{self.username}" if self.username else self.first_name or "?"
        return f"{name} ({self.telegram_id})"


class LedgerEntry(models.Model):
    """One change of one balance (a user's credits, a referrer's earnings). Append-only:
    never updated or deleted; the balance column is a cache of its ledger's sum, written
    in the same transaction as the entry.

    `reference` names what caused the change (`generation:42`, `payment:7`, `staff:3`);
    `balance_after` is the balance once the entry applied. Each ledger sets its kinds
    (`kind` with choices) and the constraints that make a cause count once.
    """

    amount = models.BigIntegerField(_("amount"))
    kind = models.CharField(_("kind"), max_length=32)
    balance_after = models.BigIntegerField(_("balance after"))
    reference = models.CharField(_("reference"), max_length=64, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.amount:+d} {self.kind} ({self.reference or '-'})"


class CreditKind(models.TextChoices):
    SIGNUP_BONUS = "signup_bonus", _("signup bonus")
    GRANT = "grant", _("staff grant")
    PURCHASE = "purchase", _("purchase")
    PURCHASE_REFUND = "purchase_refund", _("purchase refunded")
    # Telegram refused a refund whose credits had been taken back first: they return.
    PURCHASE_REFUND_UNDONE = "purchase_refund_undone", _("purchase refund undone (Telegram refused it)")
    GENERATION_CHARGE = "generation_charge", _("generation charge")
    GENERATION_REFUND = "generation_refund", _("generation refund")
    GENERATION_STAFF_REFUND = "generation_staff_refund", _("generation refunded by staff")
    PROMO = "promo", _("promo code")
    DAILY_BONUS = "daily_bonus", _("daily bonus")


# Kinds that may happen at most once per cause (`reference`).
ONCE_PER_REFERENCE_KINDS = [
    CreditKind.PURCHASE,
    CreditKind.PURCHASE_REFUND,
    CreditKind.PURCHASE_REFUND_UNDONE,
    CreditKind.GENERATION_CHARGE,
    CreditKind.GENERATION_REFUND,
    CreditKind.GENERATION_STAFF_REFUND,
    # promo:<redemption id>, daily_bonus:<user id>:<UTC date>: one grant per cause.
    CreditKind.PROMO,
    CreditKind.DAILY_BONUS,
]


class CreditLedgerEntry(LedgerEntry):
    """One change of one user's credits (see LedgerEntry).

    For the kinds that may happen once per cause, a partial unique constraint makes
    the database refuse a second row: a generation is charged once and refunded at
    most once, a payment grants credits once.
    """

    Kind = CreditKind

    user = models.ForeignKey(User, verbose_name=_("user"), on_delete=models.PROTECT, related_name="credit_ledger")
    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)

    class Meta(LedgerEntry.Meta):
        verbose_name = _("credit ledger entry")
        verbose_name_plural = _("credit ledger")
        indexes = [
            models.Index(fields=["user", "-id"], name="ledger_user_recent"),
            models.Index(fields=["reference"], name="ledger_reference"),
            # Metrics and the staff dashboard sum the ledger over windows of time,
            # from the index alone (index-only scans).
            models.Index(fields=["created_at"], include=["kind", "amount"], name="ledger_created"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="ledger_amount_not_zero"),
            models.CheckConstraint(condition=Q(balance_after__gte=0), name="ledger_balance_after_non_negative"),
            models.UniqueConstraint(
                fields=["kind", "reference"],
                condition=Q(kind__in=ONCE_PER_REFERENCE_KINDS),
                name="ledger_once_per_reference",
            ),
        ]
