"""OpenAPI schema (drf-spectacular) pieces shared by every app's API.

- `ErrorSerializer`: the one error body `{"code", "message", "details"?}`, a
  single `Error` component that every error response refers to.
- `NanoGenAutoSchema`: documents the errors every operation can answer without
  each view listing them: 401 and 403 when it needs a Telegram user, 400 when it
  takes a body or query parameters, 404 when its path names an object, 413 when
  it takes a body. Views add their own domain errors with `extend_schema`.
"""

from typing import Any, Literal

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField(help_text="Machine-readable error code, e.g. VALIDATION_ERROR.")
    message = serializers.CharField(help_text="What went wrong, in the user's language.")
    details = serializers.DictField(
        required=False, help_text="More about the error: for VALIDATION_ERROR, field name to messages."
    )


def error_response(description: str, serializer: Any = ErrorSerializer) -> OpenApiResponse:
    return OpenApiResponse(response=serializer, description=description)


AUTH_REQUIRED = error_response("AUTH_REQUIRED (no init data), AUTH_INVALID (bad signature) or AUTH_EXPIRED.")
USER_BANNED = error_response("USER_BANNED: the user is banned.")
VALIDATION_ERROR = error_response("VALIDATION_ERROR: `details` maps each bad field to its messages.")
NOT_FOUND = error_response("NOT_FOUND: no such object, or it belongs to another user.")
PAYLOAD_TOO_LARGE = error_response("PAYLOAD_TOO_LARGE: the request body is over the size limit.")


class NanoGenAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Literal["request", "response"] = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        takes_body = self.method in ("POST", "PUT", "PATCH")
        defaults: dict[str, OpenApiResponse] = {}
        if not all(isinstance(permission, AllowAny) for permission in self.view.get_permissions()):
            defaults.update({"401": AUTH_REQUIRED, "403": USER_BANNED})
        if takes_body or any(parameter.get("in") == "query" for parameter in self._get_parameters()):
            defaults["400"] = VALIDATION_ERROR
        if "{" in self.path:
            defaults["404"] = NOT_FOUND
        if takes_body:
            defaults["413"] = PAYLOAD_TOO_LARGE
        for code, response in defaults.items():
            if code not in responses:
                # drf-spectacular leaves this internal untyped.
                responses[code] = self._get_response_for_code(  # type: ignore[no-untyped-call]
                    response, code, direction=direction
                )
        return dict(sorted(responses.items()))
