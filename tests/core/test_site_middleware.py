"""Sessions, Django's login and messages (core.middleware) serve the browser site and
are passed by API requests: an API request loads no session and no messages and gets
no Django user before DRF's own authentication; every other path has all three."""

from typing import Any

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from core.middleware import AuthenticationMiddleware, MessageMiddleware, SessionMiddleware

MIDDLEWARE = (SessionMiddleware, AuthenticationMiddleware, MessageMiddleware)


def through_middleware(path: str) -> HttpRequest:
    """The request as a view behind the three sees it."""
    seen: list[HttpRequest] = []

    def view(request: HttpRequest) -> HttpResponse:
        seen.append(request)
        return HttpResponse("ok")

    handler: Any = view
    for middleware in reversed(MIDDLEWARE):
        handler = middleware(handler)
    response = handler(RequestFactory().get(path))
    assert response.status_code == 200
    return seen[0]


@pytest.mark.parametrize("path", ["/api/generations", "/api/health"])
def test_an_api_request_passes_them(path):
    request = through_middleware(path)
    assert not hasattr(request, "session")
    assert not hasattr(request, "user")
    assert not hasattr(request, "_messages")


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/admin/", "/", "/apiary"])
def test_every_other_path_has_them(path):
    request = through_middleware(path)
    assert request.session is not None
    assert not request.user.is_authenticated
    assert getattr(request, "_messages", None) is not None
