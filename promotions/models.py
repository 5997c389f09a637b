"""Credits given away to grow the service: promo codes and the daily bonus.

Every grant is a credit ledger entry written by `accounts.services` in the same
transaction as its redemption or claim, with a reference the ledger allows once
(`promo:<redemption id>`, `daily_bonus:<user id>:<UTC date>`). Only
`promotions.services` writes these models; staff create and edit promo codes in
the admin.
"""

import re

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Trim, Upper
from django.utils.translation import gettext_lazy as _

# Codes are stored normalised (trimmed, upper case) and compared that way, so
# "spring25 " and "SPRING25" are one code. ASCII only: Python's and the database's
# idea of upper case agree there.
PROMO_CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")


def promo_code_normalise(code: str) -> str:
    return code.strip().upper()


class PromoCode(models.Model):
    """A code that grants `credits` once per user, at most `max_redemptions` times in all.

    `redeemed` counts the redemptions; it only grows through one conditional UPDATE
    (`redeemed < max_redemptions`) in the redemption's transaction, which the database
    serialises on this row, so the cap holds under any concurrency. The CHECK is the
    backstop.
    """

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[RegexValidator(PROMO_CODE_PATTERN, _("3 to 32 letters A-Z, digits, - and _."))],
        help_text=_("Users type it in any case; it is stored in upper case."),
    )
    credits = models.PositiveIntegerField(_("credits"))
    max_redemptions = models.PositiveIntegerField(_("total redemptions"), help_text=_("How many users may use it."))
    redeemed = models.PositiveIntegerField(_("redeemed"), default=0, editable=False)
    expires_at = models.DateTimeField(_("expires"), null=True, blank=True, help_text=_("Empty: never."))
    is_active = models.BooleanField(_("active"), default=True)
    note = models.CharField(_("note"), max_length=255, blank=True, help_text=_("What the code is for (staff only)."))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("created by"), null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("promo code")
        verbose_name_plural = _("promo codes")
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(condition=Q(code=Upper(Trim("code"))), name="promocode_code_normalised",
                                   violation_error_message=_("The code must be stored trimmed and in upper case.")),
            models.CheckConstraint(condition=Q(credits__gt=0), name="promocode_credits_positive"),
            models.CheckConstraint(condition=Q(max_redemptions__gt=0), name="promocode_cap_positive"),
            models.CheckConstraint(condition=Q(redeemed__lte=F("max_redemptions")), name="promocode_within_cap",
                                   violation_error_message=_("The cap cannot be below the redemptions made.")),
        ]

    def __str__(self) -> str:
        return self.code


class PromoRedemption(models.Model):
    """One user's use of one code: the unique pair makes a second use impossible."""

    promo = models.ForeignKey(PromoCode, verbose_name=_("promo code"), on_delete=models.PROTECT,
                              related_name="redemptions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="promo_redemptions")
    credits = models.PositiveIntegerField(_("credits"))
    created_at = models.DateTimeField(_("redeemed"))

    class Meta:
        verbose_name = _("promo code redemption")
        verbose_name_plural = _("promo code redemptions")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["promo", "user"], name="promoredemption_once_per_user"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="promoredemption_credits_positive"),
        ]
        indexes = [models.Index(fields=["user", "-id"], name="promoredemption_user_recent")]

    def __str__(self) -> str:
        return f"{self.promo_id} by {self.user_id}"


class PromoAttempt(models.Model):
    """A user's try of a code, successful or not: the rate limit counts these, so
    codes cannot be guessed by brute force. Kept for a day (staff see who guesses)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE,
                             related_name="+")
    code = models.CharField(_("code typed"), max_length=64)
    created_at = models.DateTimeField(_("tried"))

    class Meta:
        verbose_name = _("promo code attempt")
        verbose_name_plural = _("promo code attempts")
        ordering = ["-id"]
        indexes = [models.Index(fields=["user", "created_at"], name="promoattempt_user_created")]

    def __str__(self) -> str:
        return f"{self.code} by {self.user_id}"


class DailyBonusClaim(models.Model):
    """The daily bonus taken by a user on a UTC day: at most one row per (user, day)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.PROTECT,
                             related_name="daily_bonus_claims")
    day = models.DateField(_("day (UTC)"))
    credits = models.PositiveIntegerField(_("credits"))
    created_at = models.DateTimeField(_("claimed"))

    class Meta:
        verbose_name = _("daily bonus claim")
        verbose_name_plural = _("daily bonus claims")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "day"], name="dailybonus_once_per_day"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="dailybonus_credits_positive"),
        ]
        indexes = [models.Index(fields=["day"], name="dailybonus_day")]

    def __str__(self) -> str:
        return f"{self.user_id} on {self.day}"
