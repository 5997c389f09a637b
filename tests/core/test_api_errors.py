"""The one error body for everything that can go wrong in the API."""

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import override_settings
from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from nanogen.urls import urlpatterns as project_urlpatterns

pytestmark = pytest.mark.django_db


class Boom(APIView):
    permission_classes = [AllowAny]

    def get(self, request: Request) -> Response:
        raise RuntimeError("secret internals: token=abc")


class Echo(APIView):
    def post(self, request: Request) -> Response:
        return Response({"data": request.data})


def plain_boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("not a DRF view")


urlpatterns = [
    path("api/test/boom", Boom.as_view()),
    path("api/test/echo", Echo.as_view()),
    path("api/test/plain-boom", plain_boom),
    *project_urlpatterns,
]
handler404 = "core.api.handlers.not_found"
handler500 = "core.api.handlers.server_error"


def assert_error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str) and body["message"]
    return body


@pytest.mark.urls("tests.core.test_api_errors")
def test_unhandled_exception_is_internal_error_without_internals(anonymous_client, caplog):
    body = assert_error(anonymous_client.get("/api/test/boom"), 500, "INTERNAL_ERROR")
    assert "secret" not in str(body) and "Traceback" not in str(body)
    assert any("Unhandled error" in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.urls("tests.core.test_api_errors")
def test_non_drf_crash_under_api_is_json(anonymous_client):
    anonymous_client.raise_request_exception = False
    assert_error(anonymous_client.get("/api/test/plain-boom"), 500, "INTERNAL_ERROR")


@pytest.mark.urls("tests.core.test_api_errors")
def test_malformed_json_is_validation_error(owner_client):
    response = owner_client.post("/api/test/echo", data="{not json", content_type="application/json")
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert "body" in body["details"]


@pytest.mark.urls("tests.core.test_api_errors")
def test_non_json_body_is_validation_error(owner_client):
    response = owner_client.post("/api/test/echo", data="a=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, "VALIDATION_ERROR")


@pytest.mark.urls("tests.core.test_api_errors")
@override_settings(API_MAX_BODY_BYTES=1000)
def test_body_over_the_limit_is_payload_too_large(owner_client):
    response = owner_client.post("/api/test/echo", data={"prompt": "x" * 5000}, format="json")
    assert_error(response, 413, "PAYLOAD_TOO_LARGE")


def test_unknown_api_path_is_not_found_json(anonymous_client):
    assert_error(anonymous_client.get("/api/no-such-thing"), 404, "NOT_FOUND")


def test_wrong_method_is_method_not_allowed(owner_client):
    assert_error(owner_client.post("/api/me", data={}, format="json"), 405, "METHOD_NOT_ALLOWED")


def test_health_needs_no_auth(anonymous_client):
    response = anonymous_client.get("/api/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_schema_is_openapi_3(anonymous_client, owner_client):
    response = owner_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "openapi" in text and "/api/me" in text
