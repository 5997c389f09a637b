"""What a start (or a quote) asks for, checked against the catalog model: the prompt,
the parameters and the input images. Shared by `generation_start` and
`generation_quote`, so that a quote refuses exactly what a start would."""

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from core.errors import ValidationFailed
from generations.models import IMAGES_MAX_PER_GENERATION, AIModel, Upload
from generations.params import params_clean

# An idempotency key names one intent of one user: 1 to 64 URL- and log-safe characters.
IDEMPOTENCY_KEY_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class StartRequest:
    """A start or a quote as asked, its format checked (nothing read yet)."""

    model_slug: str
    prompt: str  # stripped
    params: dict[str, Any]
    images: tuple[str, ...]  # upload ids, in the order given
    idempotency_key: str | None


@dataclass(frozen=True)
class StartInputs:
    """A start's inputs checked against its model: what the generation records."""

    prompt: str
    params: dict[str, Any]  # cleaned, defaults filled in
    images: tuple[Upload, ...]  # in the order given


def start_request_clean(
    *,
    model_slug: str,
    prompt: str,
    params: dict[str, Any] | None,
    images: Sequence[str] | None,
    idempotency_key: str | None,
) -> StartRequest:
    """The checks that need no database: prompt length, key format, image ids."""
    prompt = prompt.strip()
    if len(prompt) > settings.GENERATION_PROMPT_MAX_LENGTH:
        raise ValidationFailed(
            details={
                "prompt": [
                    _("Ensure this field has no more than %(max)d characters.")
                    % {"max": settings.GENERATION_PROMPT_MAX_LENGTH}
                ]
            }
        )
    if idempotency_key is not None and not IDEMPOTENCY_KEY_PATTERN.match(idempotency_key):
        raise ValidationFailed(details={"idempotency_key": [_("Use 1 to 64 characters: letters, digits, and . _ : -")]})
    images = tuple(images or ())
    if len(images) > IMAGES_MAX_PER_GENERATION:
        raise _images_refused(
            _("At most %(max)d images.") % {"max": IMAGES_MAX_PER_GENERATION}
        )
    if len(set(images)) != len(images):
        raise _images_refused(_("Each image may be given once."))
    return StartRequest(
        model_slug=model_slug,
        prompt=prompt,
        params=params or {},
        images=images,
        idempotency_key=idempotency_key or None,
    )


def start_inputs_check(*, model: AIModel, request: StartRequest, uploads: Sequence[Upload]) -> StartInputs:
    """The request checked against `model`, with `uploads` the user's usable uploads
    among the request's images (from `uploads_for_start`). Raises ValidationFailed."""
    count = len(request.images)
    if not model.images_min <= count <= model.images_max:
        raise _images_refused(_images_range_message(model))
    with_images = count > 0
    if not request.prompt and not (with_images and model.prompt_optional_with_images):
        raise ValidationFailed(details={"prompt": [_("This field may not be blank.")]})
    params = params_clean(schema=model.params_schema, params=request.params, with_images=with_images)
    by_id = {str(upload.pk): upload for upload in uploads}
    if any(image_id not in by_id for image_id in request.images):
        # Unknown, expired, or someone else's: the same answer, so ids cannot be probed.
        raise _images_refused(_("Unknown image: upload it again."))
    return StartInputs(
        prompt=request.prompt,
        params=params,
        images=tuple(by_id[image_id] for image_id in request.images),
    )


def uploads_for_start(*, user_id: int, image_ids: Sequence[str], now: datetime, lock: bool) -> list[Upload]:
    """The user's uploads among `image_ids` that a start may use: used ones, and unused
    ones younger than UPLOAD_KEEP_HOURS (older ones are the sweeper's).

    With `lock`, the rows are locked until the transaction ends: the sweeper's delete
    waits, then finds them used (the start marks them) and leaves them.
    """
    ids = [image_id for image_id in image_ids if _is_uuid(image_id)]
    if not ids:
        return []
    usable = Q(used_at__isnull=False) | Q(created_at__gt=now - timedelta(hours=settings.UPLOAD_KEEP_HOURS))
    uploads = Upload.objects.filter(usable, pk__in=ids, user_id=user_id).order_by()
    if lock:
        uploads = uploads.select_for_update(no_key=True)
    return list(uploads.only("id", "file", "content_type", "sha256", "used_at"))


def uploads_mark_used(*, uploads: Sequence[Upload], now: datetime) -> None:
    """Mark the uploads a start uses (locked by `uploads_for_start`): never swept now."""
    first_use = [upload.pk for upload in uploads if upload.used_at is None]
    if first_use:
        Upload.objects.filter(pk__in=first_use, used_at__isnull=True).update(used_at=now)


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, AttributeError, TypeError):
        return False
    return True


def _images_range_message(model: AIModel) -> str:
    low, high = model.images_min, model.images_max
    if high == 0:
        return _("This model takes no images.")
    if low == high:
        return ngettext("This model takes %(count)d image.", "This model takes %(count)d images.", low) % {
            "count": low
        }
    return _("This model takes %(min)d to %(max)d images.") % {"min": low, "max": high}


def _images_refused(message: str) -> ValidationFailed:
    return ValidationFailed(details={"images": [message]})
