"""Domain errors of promo codes and the daily bonus, with the contract's codes."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class PromoNotFound(DomainError):
    """Unknown, inactive and expired codes look the same: a guesser learns nothing."""

    status_code = 404
    code = "PROMO_NOT_FOUND"
    default_message = _("This promo code does not exist or is no longer valid.")


class PromoAlreadyRedeemed(DomainError):
    status_code = 409
    code = "PROMO_ALREADY_REDEEMED"
    default_message = _("You have already used this promo code.")


class PromoExhausted(DomainError):
    status_code = 409
    code = "PROMO_EXHAUSTED"
    default_message = _("This promo code has been used up.")


class PromoRateLimited(DomainError):
    status_code = 429
    code = "RATE_LIMIT_EXCEEDED"
    default_message = _("Too many promo code attempts. Please try again later.")


class BonusAlreadyClaimed(DomainError):
    status_code = 409
    code = "BONUS_ALREADY_CLAIMED"
    default_message = _("You have already taken today's bonus. Come back tomorrow.")
