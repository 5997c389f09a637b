"""Errors about a user's account: banned, or not enough credits for what they asked."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class UserBanned(DomainError):
    status_code = 403
    code = "USER_BANNED"
    default_message = _("Your account is banned.")


class InsufficientCredits(DomainError):
    status_code = 402
    code = "INSUFFICIENT_CREDITS"
    default_message = _("Not enough credits.")
