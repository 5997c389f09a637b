from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.api.responses import error_response


class ApiBodySizeLimitMiddleware:
    """Refuse an API request body over its limit before anything reads it.

    The limit is `API_MAX_BODY_BYTES` (JSON bodies), unless the view class says
    otherwise with a `max_body_bytes()` classmethod (a file upload has its own). It is
    checked once the URL is resolved and before the view runs: the declared
    Content-Length answers 413 without buffering the body. Django's own
    DATA_UPLOAD_MAX_MEMORY_SIZE still guards bodies sent without a length (the
    exception handler maps that to 413 too), and an upload view bounds what it reads.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view_func: Callable[..., Any], view_args: Any, view_kwargs: Any
    ) -> HttpResponse | None:
        if not request.path.startswith("/api/"):
            return None
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        view_class = getattr(view_func, "cls", None)
        max_body_bytes = getattr(view_class, "max_body_bytes", None)
        limit = max_body_bytes() if callable(max_body_bytes) else settings.API_MAX_BODY_BYTES
        if length > limit:
            return error_response(
                413,
                "PAYLOAD_TOO_LARGE",
                _("The request body is too large (at most %(limit)d bytes).") % {"limit": limit},
            )
        return None
