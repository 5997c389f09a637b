from typing import Any

from django.http import JsonResponse


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": str(message)}
    if details is not None:
        body["details"] = details
    return body


def error_response(status: int, code: str, message: str, details: dict[str, Any] | None = None) -> JsonResponse:
    """The contract's error body outside DRF views (middleware, 404/500 handlers)."""
    return JsonResponse(error_body(code, message, details), status=status)
