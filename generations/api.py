"""HTTP API of generations: the catalog, start, history, detail and cancel.

Views only parse input, call a service or selector and render; every error is a
domain error rendered by the project's one exception handler.
"""

from typing import Any

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from core.api.pagination import NewestFirstCursorPagination
from core.api.schema import ErrorSerializer
from generations.errors import DuplicateRequest
from generations.models import AIModel, Generation
from generations.selectors import generation_get_for_user, generation_list_for_user, model_list_active
from generations.services import generation_cancel, generation_start
from generations.services.start import IDEMPOTENCY_KEY_PATTERN

IDEMPOTENCY_KEY_HEADER = "Idempotency-Key"


class StrictCharField(serializers.CharField):
    """A JSON string and nothing else: DRF's CharField would turn 123 into "123"."""

    default_error_messages = {"invalid": gettext_lazy("Not a valid string.")}

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


def idempotency_key_problem(key: str) -> str | None:
    if not IDEMPOTENCY_KEY_PATTERN.match(key):
        return _("Use 1 to 64 characters: letters, digits, and . _ : -")
    return None


# --- Output -----------------------------------------------------------------------


class AIModelOutputSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=AIModel.Kind.choices)
    price = serializers.IntegerField(help_text="Credits debited when a generation starts.")
    description = serializers.CharField()
    params = serializers.JSONField(
        source="params_schema",
        help_text='Parameters beyond the prompt: {"name": {"type": "choice|integer|boolean", "choices"?, '
        '"min"?, "max"?, "default"?, "required"?}}.',
    )


class GenerationResultSerializer(serializers.Serializer[Any]):
    url = serializers.URLField()
    content_type = serializers.CharField()


class GenerationErrorSerializer(serializers.Serializer[Any]):
    code = serializers.CharField()
    message = serializers.CharField()


class GenerationOutputSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    model = serializers.CharField(source="model.slug")
    kind = serializers.ChoiceField(choices=AIModel.Kind.choices)
    prompt = serializers.CharField()
    params = serializers.JSONField()
    status = serializers.ChoiceField(choices=Generation.Status.choices)
    credits_charged = serializers.IntegerField()
    refunded = serializers.BooleanField()
    result = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    idempotency_key = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(GenerationResultSerializer(allow_null=True))
    def get_result(self, generation: Generation) -> dict[str, str] | None:
        if generation.status != Generation.Status.COMPLETED or not generation.result_file:
            return None
        url = generation.result_file.url
        request = self.context.get("request")
        return {
            "url": request.build_absolute_uri(url) if request is not None else url,
            "content_type": generation.result_content_type,
        }

    @extend_schema_field(GenerationErrorSerializer(allow_null=True))
    def get_error(self, generation: Generation) -> dict[str, str] | None:
        if not generation.error_code:
            return None
        return {"code": generation.error_code, "message": generation.error_message}


def generation_render(generation: Generation, request: Request) -> dict[str, Any]:
    return GenerationOutputSerializer(generation, context={"request": request}).data


class DuplicateRequestErrorSerializer(ErrorSerializer):
    generation = GenerationOutputSerializer(help_text="The generation the key already started.")


ErrorSchema = ErrorSerializer
DuplicateRequestSchema = DuplicateRequestErrorSerializer


# --- Catalog ----------------------------------------------------------------------


class ModelListApi(APIView):
    @extend_schema(responses=AIModelOutputSerializer(many=True), operation_id="models_list")
    def get(self, request: Request) -> Response:
        return Response(AIModelOutputSerializer(model_list_active(), many=True).data)


# --- Start and history ----------------------------------------------------------


class GenerationStartInputSerializer(serializers.Serializer[Any]):
    model = StrictCharField(help_text="Slug of an active catalog model, e.g. nano-banana.")
    prompt = StrictCharField(help_text="What to generate; surrounding whitespace is removed.")
    params = serializers.DictField(required=False, help_text="Values for the model's parameters (see /api/models).")
    idempotency_key = StrictCharField(
        required=False,
        trim_whitespace=False,
        help_text="1 to 64 of A-Z a-z 0-9 . _ : - naming one intent; or send the Idempotency-Key header.",
    )

    def validate_prompt(self, prompt: str) -> str:
        limit = settings.GENERATION_PROMPT_MAX_LENGTH
        if len(prompt) > limit:
            raise ValidationError(_("Ensure this field has no more than %(max)d characters.") % {"max": limit})
        return prompt

    def validate_idempotency_key(self, key: str) -> str:
        problem = idempotency_key_problem(key)
        if problem:
            raise ValidationError(problem)
        return key

    def validate(self, data: dict[str, Any]) -> dict[str, Any]:
        header_key = self.context.get("header_idempotency_key")
        if header_key is None:
            return data
        problem = idempotency_key_problem(header_key)
        if problem:
            raise ValidationError({IDEMPOTENCY_KEY_HEADER: [problem]})
        body_key = data.get("idempotency_key")
        if body_key is not None and body_key != header_key:
            raise ValidationError(
                {"idempotency_key": [_("The body and the Idempotency-Key header carry different keys.")]}
            )
        data["idempotency_key"] = header_key
        return data


class GenerationListFilterSerializer(serializers.Serializer[Any]):
    status = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text="One status or several separated by commas, e.g. pending,processing; empty means any.",
    )
    kind = serializers.ChoiceField(
        choices=AIModel.Kind.choices, required=False, allow_blank=True, help_text="image or video; empty means any."
    )

    def validate_status(self, value: str) -> list[str] | None:
        if not value.strip():
            return None
        statuses = [part.strip() for part in value.split(",") if part.strip()]
        valid = set(Generation.Status.values)
        unknown = [status for status in statuses if status not in valid]
        if not statuses or unknown:
            raise ValidationError(
                _("Use one or more of: %(statuses)s.") % {"statuses": ", ".join(Generation.Status.values)}
            )
        return statuses


class GenerationCursorPagination(NewestFirstCursorPagination):
    max_page_size = 50


GenerationPageSchema = inline_serializer(
    "GenerationPage",
    {
        "results": GenerationOutputSerializer(many=True),
        "next": serializers.URLField(allow_null=True),
        "previous": serializers.URLField(allow_null=True),
    },
)


class GenerationsApi(APIView):
    """GET: the user's history, newest first. POST: start a generation."""

    @extend_schema(
        operation_id="generations_list",
        parameters=[
            GenerationListFilterSerializer,
            OpenApiParameter("cursor", OpenApiTypes.STR, description="From `next` or `previous`."),
            OpenApiParameter(
                "page_size",
                {"type": "integer", "minimum": 1, "maximum": GenerationCursorPagination.max_page_size, "default": 20},
                description=f"1 to {GenerationCursorPagination.max_page_size}, default 20.",
            ),
        ],
        responses={200: GenerationPageSchema, 400: ErrorSchema},
    )
    def get(self, request: Request) -> Response:
        filters = GenerationListFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        generations = generation_list_for_user(
            user=request_user(request),
            statuses=filters.validated_data.get("status"),
            kind=filters.validated_data.get("kind"),
        )
        paginator = GenerationCursorPagination()
        page = paginator.paginate_queryset(generations, request, view=self)
        return paginator.get_paginated_response(
            GenerationOutputSerializer(page, many=True, context={"request": request}).data
        )

    @extend_schema(
        operation_id="generations_start",
        request=GenerationStartInputSerializer,
        examples=[
            OpenApiExample(
                "A picture",
                value={"model": "nano-banana", "prompt": "A red fox in the snow at golden hour",
                       "params": {"aspect_ratio": "16:9"}, "idempotency_key": "fox-2024-01-01"},
                request_only=True,
            )
        ],
        parameters=[
            OpenApiParameter(
                IDEMPOTENCY_KEY_HEADER,
                OpenApiTypes.STR,
                location=OpenApiParameter.HEADER,
                description="Alternative to the body's idempotency_key; when both are sent they must be equal.",
            )
        ],
        responses={
            201: GenerationOutputSerializer,
            400: ErrorSchema,
            402: ErrorSchema,
            409: DuplicateRequestSchema,
            413: ErrorSchema,
            422: ErrorSchema,
            429: ErrorSchema,
        },
    )
    def post(self, request: Request) -> Response:
        serializer = GenerationStartInputSerializer(
            data=request.data, context={"header_idempotency_key": request.headers.get(IDEMPOTENCY_KEY_HEADER)}
        )
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            generation = generation_start(
                user=request_user(request),
                model_slug=data["model"],
                prompt=data["prompt"],
                params=data.get("params"),
                idempotency_key=data.get("idempotency_key"),
            )
        except DuplicateRequest as exc:
            # The client may have lost the first response: give it the original.
            exc.extra["generation"] = generation_render(exc.generation, request)
            raise
        return Response(
            generation_render(generation, request),
            status=201,
            headers={"Location": request.build_absolute_uri(reverse("api:generation-detail", args=[generation.pk]))},
        )


class GenerationDetailApi(APIView):
    @extend_schema(operation_id="generations_detail", responses={200: GenerationOutputSerializer, 404: ErrorSchema})
    def get(self, request: Request, generation_id: int) -> Response:
        generation = generation_get_for_user(user=request_user(request), generation_id=generation_id)
        return Response(generation_render(generation, request))


class GenerationCancelApi(APIView):
    @extend_schema(
        operation_id="generations_cancel",
        request=None,
        responses={200: GenerationOutputSerializer, 404: ErrorSchema, 409: ErrorSchema},
    )
    def post(self, request: Request, generation_id: int) -> Response:
        generation = generation_cancel(user=request_user(request), generation_id=generation_id)
        return Response(generation_render(generation, request))
