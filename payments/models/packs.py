"""Credit packs: what a user can buy with Telegram Stars, once or as a subscription."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

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
