"""Why a generation failed, as users see it: a stable code and a translated message.

The codes go into `Generation.error_code` and the API's `error.code`; the message
is stored in the user's language. Neither ever carries provider internals, keys or
stack traces: those go to the logs only.
"""

from django.db.models import TextChoices
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from core.i18n import user_language


class FailureCode(TextChoices):
    TIMEOUT = "TIMEOUT", _("The generation took too long and was stopped.")
    PROVIDER_UNAVAILABLE = "PROVIDER_UNAVAILABLE", _(
        "The generation service is not available right now. Please try again later."
    )
    PROMPT_REJECTED = "PROMPT_REJECTED", _(
        "The generation service refused this request. Try rephrasing the prompt or changing the settings."
    )
    PROVIDER_ERROR = "PROVIDER_ERROR", _("The generation service could not create this result.")
    RESULT_UNAVAILABLE = "RESULT_UNAVAILABLE", _("The finished result could not be retrieved.")
    # The provider's result URL (or a redirect from it) led to a private address.
    RESULT_URL_REFUSED = "RESULT_URL_REFUSED", _("The generation service returned a result address we do not accept.")
    INTERNAL_ERROR = "INTERNAL_ERROR", _("Something went wrong on our side.")


def failure_message(code: FailureCode, *, language_code: str | None) -> str:
    """The message for `code` in the user's language (ru or en)."""
    with translation.override(user_language(language_code)):
        return str(FailureCode(code).label)
