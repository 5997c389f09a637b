"""A lean dispatch for the API's hottest request (the start, POST /api/generations):
what DRF's `APIView.dispatch` does for a plain request, without its per-request
machinery.

For every request DRF builds a `Request` with fresh parser, authenticator, negotiator
and permission instances, negotiates the renderer from the Accept header, looks for a
version and throttles, parses the body through its stream handling, and finalizes
the response; for the start that cost about as much as its SQL. For a *plain* request
(`lean_request_fits`: JSON body with a length, an Accept that DRF answers with JSON
unparameterised, init data, no query string) every one of those steps has one known
outcome, and `lean_dispatch` does just that: the same authentication
(`init_data_authenticate`), the same ban check (`telegram_user_permitted`), the same
strict JSON parsing (`json_body_parse`), the view's own exception handler for every
error, and the response finalized as DRF finalizes it (its renderer, the view's
`Allow` header), so status, headers and body are the same byte for byte. Anything
else (another Accept or content type, no Authorization, `?format=`, a test client's
forced authentication) goes through DRF.

The view's DRF configuration must be the one reproduced here (`lean_view_fits`): a
view with another parser, renderer, authentication, permission, throttle or
versioning is never dispatched leanly.
"""

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest
from rest_framework import exceptions
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import TelegramInitDataAuthentication, init_data_authenticate
from accounts.models import User
from accounts.permissions import IsTelegramUser, telegram_user_permitted
from core.api.parsers import StrictJSONParser, json_body_parse

# DRF's negotiation picks the JSON renderer for these, with no media type parameters
# (an `indent=` would change the body): the Mini App sends application/json.
_PLAIN_ACCEPTS = frozenset({"*/*", "application/json"})
_MEDIA_TYPE = JSONRenderer.media_type
_RENDERER = JSONRenderer()  # stateless: one for the process

LeanHandler = Callable[[User, Any], Response]


def lean_view_fits(view: APIView) -> bool:
    """Whether `view` is configured as `lean_dispatch` assumes (the project's defaults,
    settings.REST_FRAMEWORK)."""
    return (
        tuple(view.parser_classes) == (StrictJSONParser,)
        and tuple(view.renderer_classes) == (JSONRenderer,)
        and tuple(view.authentication_classes) == (TelegramInitDataAuthentication,)
        and tuple(view.permission_classes) == (IsTelegramUser,)
        and not view.throttle_classes
        and view.versioning_class is None
        and view.content_negotiation_class is DefaultContentNegotiation
    )


def lean_request_fits(view: APIView, request: HttpRequest) -> bool:
    """A request whose every DRF step has one known outcome (see the module docstring)."""
    meta = request.META
    return (
        meta.get("CONTENT_TYPE") == _MEDIA_TYPE
        and meta.get("HTTP_ACCEPT", "*/*") in _PLAIN_ACCEPTS
        and not meta.get("QUERY_STRING")  # DRF reads ?format= to pick a renderer
        and bool(meta.get("HTTP_AUTHORIZATION"))  # none: DRF answers AUTH_REQUIRED
        and str(meta.get("CONTENT_LENGTH", "")).isdigit()  # none, or 0: DRF reads no body
        and int(meta["CONTENT_LENGTH"]) > 0
        # Test clients' force_authenticate() bypasses authentication in DRF's Request.
        and getattr(request, "_force_auth_user", None) is None
        and getattr(request, "_force_auth_token", None) is None
        and lean_view_fits(view)
    )


def lean_dispatch(view: APIView, request: HttpRequest, handler: LeanHandler, *args: Any, **kwargs: Any) -> Response:
    """DRF's dispatch of a plain request to `handler(user, body)`, in DRF's order:
    authentication, permission (the ban), the body, the handler; any error answered
    by the view's exception handler. `request` is Django's, as the handler gets it."""
    try:
        user = init_data_authenticate(request)
        if user is None or not telegram_user_permitted(user):  # not for a request with init data
            raise exceptions.NotAuthenticated()
        # As DRF's Request does when authentication succeeds.
        request.user = user
        body = json_body_parse(request.body, request.encoding or settings.DEFAULT_CHARSET)
        response = handler(user, body)
    except Exception as exc:  # as DRF's dispatch: every error is the exception handler's
        context = {"view": view, "args": args, "kwargs": kwargs, "request": request}
        handled = view.get_exception_handler()(exc, context)
        if handled is None:  # DRF re-raises what its handler leaves (ours answers everything)
            raise
        response = handled
        response.exception = True
    # DRF's finalize_response, with the negotiation's outcome for a plain request.
    response.accepted_renderer = _RENDERER
    response.accepted_media_type = _MEDIA_TYPE
    # djangorestframework-stubs omit Response.renderer_context.
    response.renderer_context = {  # type: ignore[attr-defined]
        "view": view, "args": args, "kwargs": kwargs, "request": request
    }
    for name, value in view.default_response_headers.items():
        response[name] = value
    return response
