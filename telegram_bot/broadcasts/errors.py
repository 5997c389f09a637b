"""Why a broadcast action was refused: shown to staff in the admin."""

from django.utils.translation import gettext_lazy as _

from core.errors import DomainError


class BroadcastRefused(DomainError):
    status_code = 409
    code = "BROADCAST_REFUSED"
    default_message = _("This cannot be done with the broadcast in its current state.")


class BroadcastInvalid(DomainError):
    status_code = 400
    code = "BROADCAST_INVALID"
    default_message = _("The broadcast cannot be sent as it is.")


class PreviewFailed(DomainError):
    status_code = 502
    code = "BROADCAST_PREVIEW_FAILED"
    default_message = _("The preview could not be sent.")
