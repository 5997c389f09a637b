"""Storing a provider's result in the project's media storage.

Providers hand out URLs that expire, so the worker downloads every result and
keeps it in `default_storage` (local files by default, any Django storage backend
works). The bytes are checked before they are kept: the content must be an image
(or, for video models, a video or an animated GIF) that its format's magic bytes
and, for images, Pillow confirm; an error page served with 200, an empty or an
oversized body is refused. Download errors are classified like provider errors:
404/410 and bad content are permanent, network errors, timeouts, 429 and 5xx are
transient.
"""

import logging
import secrets
import tempfile
import time
from collections.abc import Sequence
from typing import IO

import requests
from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.utils import timezone
from PIL import Image, UnidentifiedImageError

from generations.failures import FailureCode
from generations.models import AIModel, Generation, StoredFile
from generations.providers import PermanentProviderError, ProviderResult, TransientProviderError
from generations.public_http import AddressRefused, TooManyRedirects, public_get

logger = logging.getLogger(__name__)

IMAGE_TYPES = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "image/gif": "gif"}
VIDEO_TYPES = {"video/mp4": "mp4", "video/webm": "webm", "video/quicktime": "mov", "image/gif": "gif"}
CHUNK_BYTES = 64 * 1024
# Results up to this size stay in memory while they are checked; larger ones spill to a temporary file.
IN_MEMORY_BYTES = 8 * 1024 * 1024


def results_store(*, generation: Generation, results: Sequence[ProviderResult]) -> list[StoredFile]:
    """Store every result, in order; all or none (a failure deletes those already stored)."""
    stored: list[StoredFile] = []
    try:
        for result in results:
            stored.append(result_store(generation=generation, result=result))
    except BaseException:
        results_delete(stored)
        raise
    return stored


def results_delete(stored: Sequence[StoredFile]) -> None:
    """Delete stored results nobody will see (a late result, a half-stored set)."""
    for result in stored:
        try:
            default_storage.delete(result.name)
        except OSError:
            logger.exception("could not delete the stored result %s", result.name)


def result_store(*, generation: Generation, result: ProviderResult) -> StoredFile:
    """Download (or take) the result's bytes, check them and save them under a name nobody can guess."""
    with tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES) as buffer:
        if result.url:
            _download(result.url, buffer)
        else:
            if len(result.data) > settings.GENERATION_RESULT_MAX_BYTES:
                raise _bad_content(f"result of {len(result.data)} bytes is over the size limit")
            buffer.write(result.data)
        content_type = _content_type(buffer, kind=generation.kind, declared=result.content_type)
        extension = (IMAGE_TYPES | VIDEO_TYPES)[content_type]
        buffer.seek(0)
        name = default_storage.save(
            f"generations/{timezone.now():%Y/%m/%d}/{generation.pk}-{secrets.token_urlsafe(12)}.{extension}",
            File(buffer),
        )
    return StoredFile(name=name, content_type=content_type)


def _download(url: str, buffer: IO[bytes]) -> None:
    read_timeout = settings.GENERATION_RESULT_READ_TIMEOUT_SECONDS
    # The read timeout bounds each wait for bytes; this bounds the whole body, so a
    # server that trickles bytes cannot hold the worker until the task timeout.
    deadline = time.monotonic() + 2 * read_timeout
    limit = settings.GENERATION_RESULT_MAX_BYTES
    try:
        # Public addresses only, checked on every redirect hop (see public_http): the
        # URL is the provider's choice, and the worker sits inside our network. A
        # plain request: the provider's key never goes to a CDN.
        with public_get(
            url,
            timeout=(settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS, read_timeout),
            headers={"User-Agent": "NanoGen/1.0"},
        ) as response:
            status = response.status_code
            if status in (408, 425, 429) or status >= 500:
                raise TransientProviderError(FailureCode.RESULT_UNAVAILABLE, f"result download: HTTP {status}")
            if status >= 400:
                raise PermanentProviderError(FailureCode.RESULT_UNAVAILABLE, f"result download: HTTP {status}")
            declared_length = response.headers.get("Content-Length", "")
            if declared_length.isdigit() and int(declared_length) > limit:
                raise _bad_content(f"result of {declared_length} bytes is over the size limit")
            size = 0
            for chunk in response.iter_content(CHUNK_BYTES):
                size += len(chunk)
                if size > limit:
                    raise _bad_content("result is over the size limit")
                if time.monotonic() > deadline:
                    raise TransientProviderError(FailureCode.RESULT_UNAVAILABLE, "result download too slow")
                buffer.write(chunk)
    except AddressRefused as exc:
        raise PermanentProviderError(FailureCode.RESULT_URL_REFUSED, f"result download refused: {exc}") from None
    except (TooManyRedirects, ValueError) as exc:
        raise _bad_content(f"result download: {exc}") from None
    except requests.RequestException as exc:
        raise TransientProviderError(FailureCode.RESULT_UNAVAILABLE, f"result download: {type(exc).__name__}") from None


def _content_type(buffer: IO[bytes], *, kind: str, declared: str) -> str:
    """The content type the bytes really have, if the model's kind accepts it; else a permanent error."""
    buffer.seek(0)
    head = buffer.read(32)
    sniffed = _sniff(head)
    allowed = IMAGE_TYPES if kind == AIModel.Kind.IMAGE else VIDEO_TYPES
    if sniffed not in allowed:
        raise _bad_content(f"result is not a {kind} (declared {declared or '-'}, starts {head[:12]!r})")
    if sniffed.startswith("image/"):
        buffer.seek(0)
        try:
            with Image.open(buffer) as image:
                image.verify()
        except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
            raise _bad_content(f"result image does not decode: {type(exc).__name__}") from None
    return sniffed


def _sniff(head: bytes) -> str:
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head[4:8] == b"ftyp":
        return "video/quicktime" if head[8:12] == b"qt  " else "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        return "video/webm"
    return ""


def _bad_content(detail: str) -> PermanentProviderError:
    return PermanentProviderError(FailureCode.RESULT_UNAVAILABLE, detail)
