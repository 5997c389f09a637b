"""HTTP request latency by view, measured in the web process (see ops.metrics)."""

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from prometheus_client import CollectorRegistry, Counter, Histogram

# Our own registry, not prometheus-client's global one: /metrics shows exactly what
# NanoGen defines. In multiprocess mode the values live in PROMETHEUS_MULTIPROC_DIR.
HTTP_REGISTRY = CollectorRegistry(auto_describe=True)

REQUEST_DURATION = Histogram(
    "nanogen_http_request_duration_seconds",
    "Time to answer an HTTP request, by view (URL pattern name) and method.",
    ["view", "method"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=HTTP_REGISTRY,
)
RESPONSES = Counter(
    "nanogen_http_responses",
    "HTTP responses by view, method and status code.",
    ["view", "method", "status"],
    registry=HTTP_REGISTRY,
)

# Methods outside this set (anything a scanner sends) are counted under one label,
# so that clients cannot create label values at will.
_METHODS = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}


def request_view_label(request: HttpRequest) -> str:
    """The URL pattern's name (`api:generation-list`), never the raw path, so that the
    number of series stays bounded whatever URLs clients ask for."""
    match = request.resolver_match  # None until the URL is resolved, or when nothing matched
    if match is None:
        return "<unmatched>"
    return match.view_name


class HttpMetricsMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        elapsed = time.perf_counter() - started
        view = request_view_label(request)
        method = request.method if request.method in _METHODS else "OTHER"
        REQUEST_DURATION.labels(view, method).observe(elapsed)
        RESPONSES.labels(view, method, str(response.status_code)).inc()
        return response
