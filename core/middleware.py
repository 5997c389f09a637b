import logging
import re
import time
import uuid
from collections.abc import Callable

from django.contrib.auth import middleware as auth_middleware
from django.contrib.messages import middleware as messages_middleware
from django.contrib.sessions import middleware as session_middleware
from django.http import HttpRequest, HttpResponse

from core.logging import log_context

logger = logging.getLogger("nanogen.request")

# A client or proxy may name the request; anything else gets a fresh id.
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")


class RequestContextMiddleware:
    """Gives each request an id (X-Request-ID, echoed back), puts it in every log line
    of the request, and logs one line per API request with its status and duration."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # The header from META: request.headers would build a dict of every header.
        supplied = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = supplied if _REQUEST_ID.match(supplied) else uuid.uuid4().hex
        started = time.perf_counter()
        with log_context(request_id=request_id):
            response = self.get_response(request)
            response["X-Request-ID"] = request_id
            if request.path.startswith("/api/") and logger.isEnabledFor(logging.INFO):
                logger.info(
                    "%s %s %s",
                    request.method,
                    request.path,
                    response.status_code,
                    extra={
                        "method": request.method,
                        "path": request.path,
                        "status": response.status_code,
                        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    },
                )
        return response


# --- The browser site's middleware, passed by API requests ------------------------------
# Sessions, Django's login and the admin's messages serve the pages a browser signs in
# to (the admin, the staff dashboard). An API request under /api/ is authenticated by
# its init data header and every API view is a DRF view that reads no session, message
# or Django user: for it these three did per-request work for nothing (a session store,
# a cookie signer and two message storages, a lazy user), which a start paid on every
# request. They run unchanged for every other path. (CSRF stays Django's own: the
# deploy checks look for it by name, and for the CSRF-exempt API views it costs little.)


def api_request(request: HttpRequest) -> bool:
    """A request to the JSON API (the URLconf's api/, whatever the script prefix)."""
    return request.path_info.startswith("/api/")


class SessionMiddleware(session_middleware.SessionMiddleware):
    """Django's, for everything but the API."""

    def process_request(self, request: HttpRequest) -> None:
        if not api_request(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response if api_request(request) else super().process_response(request, response)


class AuthenticationMiddleware(auth_middleware.AuthenticationMiddleware):
    """Django's, for everything but the API (whose views authenticate through DRF)."""

    def process_request(self, request: HttpRequest) -> None:
        if not api_request(request):
            super().process_request(request)


class MessageMiddleware(messages_middleware.MessageMiddleware):
    """Django's, for everything but the API."""

    def process_request(self, request: HttpRequest) -> None:
        if not api_request(request):
            super().process_request(request)

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        return response if api_request(request) else super().process_response(request, response)
