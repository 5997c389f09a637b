"""The domain errors every app raises, and that the API turns into the one error body.

A service raises a subclass of `DomainError`; the single DRF exception handler
(`core.api.exceptions`) renders it as `{"code", "message", "details"}` with its
HTTP status. Messages are lazy translations, rendered in the user's language.
"""

from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class DomainError(Exception):
    status_code: int = 400
    code: str = "BAD_REQUEST"
    default_message: str | Promise = _("The request could not be processed.")

    def __init__(
        self,
        message: str | Promise | None = None,
        *,
        details: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        self.message = message if message is not None else self.default_message
        self.details = details
        # Response headers (Retry-After) and extra top-level body members
        # (the original generation of a DUPLICATE_REQUEST).
        self.headers = headers or {}
        self.extra = extra or {}
        super().__init__(str(self.message))


class ValidationFailed(DomainError):
    status_code = 400
    code = "VALIDATION_ERROR"
    default_message = _("Some fields are invalid.")


class NotFound(DomainError):
    status_code = 404
    code = "NOT_FOUND"
    default_message = _("Not found.")


class PayloadTooLarge(DomainError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"
    default_message = _("The request body is too large.")
