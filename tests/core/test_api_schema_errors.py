"""The OpenAPI schema documents every error answer with the one shared error body."""

import pytest

pytestmark = pytest.mark.django_db

AUTHENTICATED = ["/api/me", "/api/models", "/api/generations", "/api/generations/{generation_id}",
                 "/api/generations/{generation_id}/cancel", "/api/payments", "/api/payments/invoice",
                 "/api/referrals", "/api/withdrawals"]


@pytest.fixture
def schema(anonymous_client):
    response = anonymous_client.get("/api/schema", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    assert response.status_code == 200
    return response.json()


def error_refs(operation: dict) -> dict[str, str]:
    return {
        code: response["content"]["application/json"]["schema"]["$ref"]
        for code, response in operation["responses"].items()
        if code.startswith(("4", "5")) and "content" in response
    }


def test_the_error_body_is_one_shared_component(schema):
    error = schema["components"]["schemas"]["Error"]
    assert error["required"] == ["code", "message"]
    assert set(error["properties"]) == {"code", "message", "details"}
    duplicate = schema["components"]["schemas"]["DuplicateRequestError"]
    assert {"code", "message", "generation"} <= set(duplicate["properties"])


def test_every_error_response_uses_it(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for code, ref in error_refs(operation).items():
                if path == "/api/health":
                    continue  # its 503 is the health body
                assert ref in ("#/components/schemas/Error", "#/components/schemas/DuplicateRequestError"), (
                    method, path, code)


@pytest.mark.parametrize("path", AUTHENTICATED)
def test_authenticated_operations_document_401_and_403(schema, path):
    for operation in schema["paths"][path].values():
        assert {"401", "403"} <= set(operation["responses"]), path


def test_operations_on_an_object_document_404_and_bodies_document_400_and_413(schema):
    assert "404" in schema["paths"]["/api/generations/{generation_id}"]["get"]["responses"]
    start = schema["paths"]["/api/generations"]["post"]["responses"]
    assert {"400", "402", "409", "413", "422", "429"} <= set(start)
    assert start["409"]["content"]["application/json"]["schema"]["$ref"].endswith("/DuplicateRequestError")
    assert "401" not in schema["paths"]["/api/health"]["get"]["responses"]
