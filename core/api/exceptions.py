"""The single DRF exception handler: every API error becomes the contract's body.

`{"code": "...", "message": "...", "details": {...}}`, the message in the user's
language (activated by the authentication class, else from Accept-Language).
"""

import logging
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions as drf
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.api.responses import error_body
from core.errors import DomainError

logger = logging.getLogger("nanogen.api")

# DRF's own exceptions, by class, to the contract's codes. Order matters: the first
# match wins, so subclasses come before their bases.
_DRF_CODES: list[tuple[type[drf.APIException], int, str]] = [
    (drf.NotAuthenticated, 401, "AUTH_REQUIRED"),
    (drf.AuthenticationFailed, 401, "AUTH_INVALID"),
    (drf.PermissionDenied, 403, "PERMISSION_DENIED"),
    (drf.NotFound, 404, "NOT_FOUND"),
    (drf.MethodNotAllowed, 405, "METHOD_NOT_ALLOWED"),
    (drf.NotAcceptable, 406, "NOT_ACCEPTABLE"),
    # A body that is not JSON is a validation problem for the client, not a
    # content negotiation one: the contract answers 400 VALIDATION_ERROR.
    (drf.UnsupportedMediaType, 400, "VALIDATION_ERROR"),
    (drf.ParseError, 400, "VALIDATION_ERROR"),
    (drf.Throttled, 429, "RATE_LIMIT_EXCEEDED"),
]


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    set_rollback()
    if isinstance(exc, DomainError):
        body = error_body(exc.code, str(exc.message), exc.details)
        body.update(exc.extra)
        return Response(body, status=exc.status_code, headers=exc.headers)
    if isinstance(exc, drf.ValidationError):
        return Response(
            error_body("VALIDATION_ERROR", _("Some fields are invalid."), _validation_details(exc.detail)),
            status=400,
        )
    if isinstance(exc, Http404):
        return Response(error_body("NOT_FOUND", _("Not found.")), status=404)
    if isinstance(exc, DjangoPermissionDenied):
        return Response(error_body("PERMISSION_DENIED", _("You do not have permission to do this.")), status=403)
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body("PAYLOAD_TOO_LARGE", _("The request body is too large.")), status=413)
    if isinstance(exc, drf.APIException):
        status, code = _drf_status_and_code(exc)
        headers: dict[str, str] = {}
        # Throttled sets `wait` (seconds or None); djangorestframework-stubs omit the attribute.
        wait = exc.wait if isinstance(exc, drf.Throttled) else None  # type: ignore[attr-defined]
        if wait is not None:
            headers["Retry-After"] = str(int(wait) + 1)
        if status == 401:
            headers["WWW-Authenticate"] = "tma"
        code = getattr(exc, "contract_code", None) or code
        details = None
        if isinstance(exc, drf.ParseError | drf.UnsupportedMediaType):
            details = {"body": [str(exc.detail)]}
        return Response(error_body(code, _message(exc.detail), details), status=status, headers=headers)

    view = context.get("view")
    logger.exception("Unhandled error in %s", type(view).__name__ if view else "API view", exc_info=exc)
    return Response(error_body("INTERNAL_ERROR", _("Something went wrong on our side. Please try again.")), status=500)


def _drf_status_and_code(exc: drf.APIException) -> tuple[int, str]:
    for cls, status, code in _DRF_CODES:
        if isinstance(exc, cls):
            return status, code
    return exc.status_code, "ERROR"


def _message(detail: Any) -> str:
    if isinstance(detail, list) and detail:
        return _message(detail[0])
    if isinstance(detail, dict) and detail:
        return _message(next(iter(detail.values())))
    return str(detail)


def _validation_details(detail: Any) -> dict[str, Any]:
    """DRF's error tree as `field -> [messages]` (nested serializers keep nesting)."""
    if isinstance(detail, dict):
        return {str(field): _as_messages(value) for field, value in detail.items()}
    return {"non_field_errors": _as_messages(detail)}


def _as_messages(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _as_messages(v) for k, v in value.items()}
    if isinstance(value, list):
        if all(not isinstance(v, dict | list) for v in value):
            return [str(v) for v in value]
        return [_as_messages(v) for v in value]
    return [str(value)]
