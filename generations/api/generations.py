"""HTTP API of generations: the catalog, start and quote, history, detail and cancel.

Views only parse input, call a service or selector and render; every error is a
domain error rendered by the project's one exception handler.
"""

import functools
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.files.storage import default_storage
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import get_script_prefix, reverse
from django.utils import timezone
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
from accounts.models import User
from core.api.pagination import NewestFirstCursorPagination
from core.api.schema import ErrorSerializer
from generations.api.lean import lean_dispatch, lean_request_fits
from generations.errors import DuplicateRequest
from generations.models import IMAGES_MAX_PER_GENERATION, AIModel, Generation, StoredFile
from generations.selectors import generation_get_for_user, generation_list_for_user, model_list_active
from generations.services import generation_cancel, generation_quote, generation_start
from generations.services.inputs import IDEMPOTENCY_KEY_PATTERN

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


class ImagesRangeSerializer(serializers.Serializer[Any]):
    min = serializers.IntegerField(source="images_min")
    max = serializers.IntegerField(source="images_max")


class ModelInputsSerializer(serializers.Serializer[Any]):
    images = ImagesRangeSerializer(source="*", help_text="How many input images a start takes (0/0: text only).")
    prompt_optional_with_images = serializers.BooleanField(
        help_text="With input images the prompt may be empty (an image-to-video model animates the picture)."
    )


class AIModelOutputSerializer(serializers.Serializer[Any]):
    slug = serializers.CharField()
    name = serializers.CharField()
    kind = serializers.ChoiceField(choices=AIModel.Kind.choices)
    price = serializers.IntegerField(
        help_text="Credits for the default parameters and no input images; other parameters may cost more or "
        "less: ask POST /api/generations/quote."
    )
    description = serializers.CharField()
    params = serializers.JSONField(
        source="params_schema",
        help_text='Parameters beyond the prompt: {"name": {"type": "choice|integer|boolean", "choices"?, '
        '"min"?, "max"?, "default"?, "required"?, "with_images"?}}; "with_images": false means the parameter '
        "is not used when the start has input images.",
    )
    inputs = ModelInputsSerializer(source="*")


class GenerationResultSerializer(serializers.Serializer[Any]):
    url = serializers.URLField()
    content_type = serializers.CharField()


def stored_file_render(file: StoredFile, request: HttpRequest | Request | None) -> dict[str, str]:
    """A stored file as the API shows it: an absolute URL (its name is unguessable)."""
    url = default_storage.url(file.name)
    return {"url": request.build_absolute_uri(url) if request is not None else url, "content_type": file.content_type}


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
    images = serializers.SerializerMethodField()
    result = serializers.SerializerMethodField()
    results = serializers.SerializerMethodField()
    error = serializers.SerializerMethodField()
    idempotency_key = serializers.CharField(allow_null=True)
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)

    @extend_schema_field(GenerationResultSerializer(many=True))
    def get_images(self, generation: Generation) -> list[dict[str, str]]:
        request = self.context.get("request")
        return [stored_file_render(file, request) for file in generation.image_files()]

    @extend_schema_field(GenerationResultSerializer(allow_null=True))
    def get_result(self, generation: Generation) -> dict[str, str] | None:
        results = self.get_results(generation)
        return results[0] if results else None

    @extend_schema_field(GenerationResultSerializer(many=True))
    def get_results(self, generation: Generation) -> list[dict[str, str]]:
        if generation.status != Generation.Status.COMPLETED:
            return []
        request = self.context.get("request")
        return [stored_file_render(file, request) for file in generation.result_files()]

    @extend_schema_field(GenerationErrorSerializer(allow_null=True))
    def get_error(self, generation: Generation) -> dict[str, str] | None:
        if not generation.error_code:
            return None
        return {"code": generation.error_code, "message": generation.error_message}


def generation_render(generation: Generation, request: HttpRequest | Request | None) -> dict[str, Any]:
    """A generation as GenerationOutputSerializer renders it (the API's shape, which the
    serializer declares for the schema), written out: a serializer builds and deep-copies
    its sixteen fields on every instance, which cost a start more than its SQL did.
    tests/generations/api/test_render.py holds the two equal for every state."""
    completed = generation.status == Generation.Status.COMPLETED
    results = [stored_file_render(file, request) for file in generation.result_files()] if completed else []
    return {
        "id": generation.pk,
        "model": generation.model.slug,
        "kind": _choice(generation.kind),
        "prompt": generation.prompt,
        "params": generation.params,
        "status": _choice(generation.status),
        "credits_charged": generation.credits_charged,
        "refunded": generation.refunded,
        "images": [stored_file_render(file, request) for file in generation.image_files()],
        "result": results[0] if results else None,
        "results": results,
        "error": _error(generation),
        "idempotency_key": generation.idempotency_key,
        "created_at": _datetime(generation.created_at),
        "started_at": _datetime(generation.started_at),
        "finished_at": _datetime(generation.finished_at),
    }


def _error(generation: Generation) -> dict[str, str] | None:
    if not generation.error_code:
        return None
    return {"code": generation.error_code, "message": generation.error_message}


def _choice(value: str | None) -> str | None:
    # ChoiceField.to_representation of a stored value: the plain string.
    return None if value is None else str(value)


def _datetime(value: datetime | None) -> str | None:
    # DateTimeField.to_representation (ISO 8601 in the current time zone, UTC as "Z").
    if value is None:
        return None
    text = timezone.localtime(value).isoformat()
    return text[:-6] + "Z" if text.endswith("+00:00") else text


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


class GenerationQuoteInputSerializer(serializers.Serializer[Any]):
    model = StrictCharField(help_text="Slug of an active catalog model, e.g. nano-banana.")
    prompt = StrictCharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="What to generate; surrounding whitespace is removed. Required, except for a model whose "
        "inputs.prompt_optional_with_images is true when images are given.",
    )
    params = serializers.DictField(required=False, help_text="Values for the model's parameters (see /api/models).")
    images = serializers.ListField(
        child=StrictCharField(),
        required=False,
        max_length=IMAGES_MAX_PER_GENERATION,
        help_text="Ids of the user's uploads (POST /api/uploads), in order; as many as the model's "
        "inputs.images allows.",
    )

    def validate_prompt(self, prompt: str) -> str:
        limit = settings.GENERATION_PROMPT_MAX_LENGTH
        if len(prompt) > limit:
            raise ValidationError(_("Ensure this field has no more than %(max)d characters.") % {"max": limit})
        return prompt


class GenerationStartInputSerializer(GenerationQuoteInputSerializer):
    idempotency_key = StrictCharField(
        required=False,
        trim_whitespace=False,
        help_text="1 to 64 of A-Z a-z 0-9 . _ : - naming one intent; or send the Idempotency-Key header.",
    )

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


def start_body_parse(data: Any, header_key: str | None) -> dict[str, Any] | None:
    """GenerationStartInputSerializer's validated data for a well-formed body, without
    building a serializer: the same stripping and defaults, the same checks. None for
    anything else (a wrong type, a blank or overlong value, a bad key, null or surrogate
    characters), for which the view runs the serializer itself: it refuses with its own
    messages. tests/generations/api/test_start_body.py holds the two to the same answers."""
    if not isinstance(data, dict):
        return None
    model, prompt = data.get("model"), data.get("prompt", "")
    if not (isinstance(model, str) and isinstance(prompt, str)):
        return None
    model, prompt = model.strip(), prompt.strip()
    if not model or len(prompt) > settings.GENERATION_PROMPT_MAX_LENGTH or not (_plain(model) and _plain(prompt)):
        return None
    parsed: dict[str, Any] = {"model": model, "prompt": prompt}
    if "params" in data:
        params = data["params"]
        if not isinstance(params, dict):
            return None
        parsed["params"] = {str(key): value for key, value in params.items()}
    if "images" in data:
        images = data["images"]
        if not isinstance(images, list) or len(images) > IMAGES_MAX_PER_GENERATION:
            return None
        if not all(isinstance(image, str) and image.strip() and _plain(image) for image in images):
            return None
        parsed["images"] = [image.strip() for image in images]
    body_key = data.get("idempotency_key")
    if "idempotency_key" in data:
        if not isinstance(body_key, str) or idempotency_key_problem(body_key):
            return None
        parsed["idempotency_key"] = body_key
    if header_key is not None:
        if idempotency_key_problem(header_key) or (body_key is not None and body_key != header_key):
            return None
        parsed["idempotency_key"] = header_key
    return parsed


def _plain(text: str) -> bool:
    """No NUL and no surrogate characters (CharField's validators refuse both)."""
    return "\x00" not in text and not any("\ud800" <= char <= "\udfff" for char in text)


@functools.cache
def _generations_path() -> str:
    """api/generations/: the detail URL less its id and the script prefix, resolved once."""
    return reverse("api:generation-detail", args=[0]).removeprefix(get_script_prefix()).removesuffix("0")


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
        return paginator.get_paginated_response([generation_render(generation, request) for generation in page or []])

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
        """The slow path: any start `start_fast` does not take, through DRF's dispatch."""
        header_key = request.headers.get(IDEMPOTENCY_KEY_HEADER)
        return start_respond(request, user=request_user(request), body=request.data, header_key=header_key)

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        if request.method == "POST" and lean_request_fits(self, request):
            return self.start_fast(request, *args, **kwargs)
        return super().dispatch(request, *args, **kwargs)

    def start_fast(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Response:
        """The fast path: a plain start (JSON, init data; what the Mini App sends),
        without DRF's per-request machinery (generations.api.lean), to the same answer."""
        # The header as request.headers would give it, without building request.headers.
        header_key = request.META.get("HTTP_IDEMPOTENCY_KEY")

        def respond(user: User, body: Any) -> Response:
            return start_respond(request, user=user, body=body, header_key=header_key)

        return lean_dispatch(self, request, respond, *args, **kwargs)


def start_respond(request: HttpRequest | Request, *, user: User, body: Any, header_key: str | None) -> Response:
    """The start's answer, whichever path the request took: the body checked (the
    serializer only for an unusual one), the generation started, 201 with it."""
    data = start_body_parse(body, header_key)
    if data is None:  # anything unusual: the serializer decides, and words the errors
        serializer = GenerationStartInputSerializer(data=body, context={"header_idempotency_key": header_key})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
    try:
        generation = generation_start(
            user=user,
            model_slug=data["model"],
            prompt=data["prompt"],
            params=data.get("params"),
            images=data.get("images"),
            idempotency_key=data.get("idempotency_key"),
        )
    except DuplicateRequest as exc:
        # The client may have lost the first response: give it the original.
        exc.extra["generation"] = generation_render(exc.generation, request)
        raise
    location = f"{get_script_prefix()}{_generations_path()}{generation.pk}"
    headers = {"Location": request.build_absolute_uri(location)}
    return Response(generation_render(generation, request), status=201, headers=headers)


class GenerationQuoteOutputSerializer(serializers.Serializer[Any]):
    price = serializers.IntegerField(help_text="Credits a start with the same body would charge now.")
    balance = serializers.IntegerField(help_text="The user's credits now.")


class GenerationQuoteApi(APIView):
    """What a start with this body would cost: the same validation, nothing written."""

    @extend_schema(
        operation_id="generations_quote",
        request=GenerationQuoteInputSerializer,
        examples=[
            OpenApiExample(
                "A 10-second video",
                value={"model": "kling-master", "prompt": "Waves at dawn", "params": {"duration": 10}},
                request_only=True,
            )
        ],
        responses={200: GenerationQuoteOutputSerializer, 400: ErrorSchema, 413: ErrorSchema},
    )
    def post(self, request: Request) -> Response:
        # A start's body as it is: its idempotency key, unknown here, is ignored.
        serializer = GenerationQuoteInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        body = serializer.validated_data
        quote = generation_quote(
            user=request_user(request),
            model_slug=body["model"],
            prompt=body["prompt"],
            params=body.get("params"),
            images=body.get("images"),
        )
        return Response(GenerationQuoteOutputSerializer(quote).data)


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
