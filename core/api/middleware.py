from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from core.api.responses import error_response


class ApiBodySizeLimitMiddleware:
    """Refuse an API request body over `API_MAX_BODY_BYTES` before anything reads it.

    Checking the declared Content-Length here answers 413 without buffering the
    body; Django's own DATA_UPLOAD_MAX_MEMORY_SIZE still guards bodies sent
    without a length (the exception handler maps that to 413 too).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith("/api/"):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > settings.API_MAX_BODY_BYTES:
                return error_response(
                    413,
                    "PAYLOAD_TOO_LARGE",
                    _("The request body is too large (at most %(limit)d bytes).")
                    % {"limit": settings.API_MAX_BODY_BYTES},
                )
        return self.get_response(request)
