"""POST /api/uploads: an image to edit or animate, as multipart/form-data with one field
`file`. The checks and the cleaning are the service's (`generations.services.uploads`);
this view bounds what it reads and hands over one file. (POST /api/uploads/from-generation,
below, makes an upload of one of the user's own results: `result_uploads`.)

The body is read only after the cheap refusals (auth, ban, the rate limit; the size by
Content-Length, before the view, by ApiBodySizeLimitMiddleware). While it is read, a
handler counts the bytes and the files and stops reading at the first byte over
UPLOAD_MAX_BYTES or at a second file; the file goes to a temporary file on disk when it
is larger than Django's FILE_UPLOAD_MAX_MEMORY_SIZE (2.5 MB), never whole into memory.
"""

from typing import Any

from django.conf import settings
from django.core.files.uploadhandler import (
    FileUploadHandler,
    MemoryFileUploadHandler,
    StopUpload,
    TemporaryFileUploadHandler,
)
from django.http import HttpRequest
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import request_user
from core.api.schema import error_response
from core.errors import DomainError, ValidationFailed
from generations.models import Upload
from generations.services.result_uploads import upload_create_from_result
from generations.services.uploads import upload_create, upload_rate_check, upload_too_large

FIELD = "file"
# Room for the multipart envelope (boundaries, part headers) around the file itself.
MULTIPART_ENVELOPE_BYTES = 64 * 1024


class UploadLimitHandler(FileUploadHandler):
    """The first upload handler: it passes every chunk on to the next one, counting, and
    stops the reading of the body at a second file or past UPLOAD_MAX_BYTES (without
    reading the rest: `connection_reset`), leaving the refusal for the view."""

    def __init__(self, request: HttpRequest | None = None) -> None:
        super().__init__(request)
        self.files = 0
        self.received = 0
        self.refusal: DomainError | None = None

    def new_file(self, field_name: str, *args: Any, **kwargs: Any) -> None:
        self.files += 1
        if self.files > 1:
            self.refusal = ValidationFailed(details={FIELD: [_("Send one file per request.")]})
            raise StopUpload(connection_reset=True)
        super().new_file(field_name, *args, **kwargs)

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > settings.UPLOAD_MAX_BYTES:
            self.refusal = upload_too_large()
            raise StopUpload(connection_reset=True)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None


class UploadOutputSerializer(serializers.ModelSerializer[Upload]):
    id = serializers.CharField(help_text="Opaque id of the upload, for `images` in a start or a quote.")
    content_type = serializers.CharField(help_text="image/jpeg, image/png or image/webp: what is stored.")
    width = serializers.IntegerField(help_text="Pixels as stored: upright, at most UPLOAD_MAX_SIDE on the longer side.")
    height = serializers.IntegerField()
    size = serializers.IntegerField(help_text="Bytes, as stored (re-encoded without metadata).")

    class Meta:
        model = Upload
        fields = ["id", "content_type", "width", "height", "size"]


UploadInputSchema = inline_serializer(
    "UploadInput", {FIELD: serializers.FileField(help_text="A JPEG, PNG or WebP image (recognised by its bytes).")}
)


class UploadApi(APIView):
    parser_classes = [MultiPartParser]

    @classmethod
    def max_body_bytes(cls) -> int:
        """The body limit ApiBodySizeLimitMiddleware applies to this view (not the JSON one)."""
        return int(settings.UPLOAD_MAX_BYTES) + MULTIPART_ENVELOPE_BYTES

    @extend_schema(
        operation_id="uploads_create",
        request={"multipart/form-data": UploadInputSchema},
        responses={
            201: UploadOutputSerializer,
            400: error_response("VALIDATION_ERROR: not a JPEG, PNG or WebP image, damaged, over UPLOAD_MAX_PIXELS, "
                                "empty, several files or none; `details.file` says which."),
            413: error_response("PAYLOAD_TOO_LARGE: over UPLOAD_MAX_BYTES."),
            429: error_response("RATE_LIMIT_EXCEEDED: over UPLOAD_RATE_LIMIT_PER_MINUTE uploads in 60 s; Retry-After."),
        },
        description="One image to edit or animate: JPEG, PNG or WebP, at most UPLOAD_MAX_BYTES (10 MiB) and "
        "UPLOAD_MAX_PIXELS (40 megapixels). Stored upright, re-encoded without any metadata (EXIF, GPS, XMP, "
        "ICC); private to the user. Unused uploads are deleted after UPLOAD_KEEP_HOURS.",
    )
    def post(self, request: Request) -> Response:
        # Refused before a byte of the body is read.
        user = request_user(request)
        upload_rate_check(user_id=user.pk)
        django_request = request._request
        limit = UploadLimitHandler(django_request)
        django_request.upload_handlers = [
            limit,
            MemoryFileUploadHandler(django_request),
            TemporaryFileUploadHandler(django_request),
        ]
        files = request.FILES
        try:
            if limit.refusal is not None:
                raise limit.refusal
            uploaded = files.get(FIELD)
            if uploaded is None:
                raise ValidationFailed(details={FIELD: [_("No file was submitted in the field file.")]})
            upload = upload_create(user=user, source=uploaded)
        finally:
            for _field, uploaded_files in files.lists():
                for file in uploaded_files:
                    file.close()  # a temporary file on disk is deleted when closed
        return Response(UploadOutputSerializer(upload).data, status=201)


class UploadFromGenerationInputSerializer(serializers.Serializer[Any]):
    generation = serializers.IntegerField(
        min_value=1, max_value=2**63 - 1, help_text="Id of one of the user's completed generations."
    )
    index = serializers.IntegerField(
        min_value=0, default=0,
        help_text="Which of its `results` (0-based, default 0): a JPEG, PNG or WebP picture.",
    )


class UploadFromGenerationApi(APIView):
    """One of the user's results as an upload, to animate (or edit again) a picture NanoGen made."""

    @extend_schema(
        operation_id="uploads_from_generation",
        request=UploadFromGenerationInputSerializer,
        responses={
            201: UploadOutputSerializer,
            400: error_response("VALIDATION_ERROR: a bad body, or `details.index`: no such result, or not a picture."),
            404: error_response("NOT_FOUND: no such generation, or another user's."),
            413: error_response("PAYLOAD_TOO_LARGE: the result is over UPLOAD_MAX_BYTES."),
            429: error_response("RATE_LIMIT_EXCEEDED: over UPLOAD_RATE_LIMIT_PER_MINUTE uploads in 60 s; Retry-After."),
        },
        description="An upload made from a result of the user's own generation, checked and cleaned like a "
        "file sent to POST /api/uploads (and counted in the same rate limit).",
    )
    def post(self, request: Request) -> Response:
        serializer = UploadFromGenerationInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = upload_create_from_result(
            user=request_user(request),
            generation_id=serializer.validated_data["generation"],
            index=serializer.validated_data["index"],
        )
        return Response(UploadOutputSerializer(upload).data, status=201)
