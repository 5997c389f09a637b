"""Domain errors of the bot and of sharing, with the contract's codes."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError
from generations.errors import ModelUnavailable


class ButtonNotYours(DomainError):
    """A button under somebody else's result (in a chat the result was shared to)."""

    status_code = 403
    code = "PERMISSION_DENIED"
    default_message = _("This button belongs to somebody else's result.")


class GenerationNotShareable(DomainError):
    status_code = 409
    code = "GENERATION_NOT_SHAREABLE"
    default_message = _("Only a completed generation can be shared.")


class TelegramUnavailable(DomainError):
    status_code = 503
    code = "TELEGRAM_UNAVAILABLE"
    default_message = _("Telegram did not answer. Please try again in a minute.")


class NoModelForImages(ModelUnavailable):
    """No active catalog model takes images of the kind needed (an edit, an animation)."""

    default_message = _("No model can do this with pictures right now. Please try again later.")
