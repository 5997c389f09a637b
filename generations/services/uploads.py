"""Uploads: the images users send to be edited or animated.

`upload_create` takes a readable, seekable binary file (a file the API received, a
photo the bot downloaded) and, for one user:

1. refuses it when the user uploaded UPLOAD_RATE_LIMIT_PER_MINUTE images in the last
   minute, when it is empty or larger than UPLOAD_MAX_BYTES;
2. recognises JPEG, PNG or WebP by its bytes (Pillow; never by a name or a declared
   type) and reads its size from the header, refusing more than UPLOAD_MAX_PIXELS
   before anything is decoded (decompression bombs);
3. decodes it as small as it may (a JPEG at 1/2, 1/4 or 1/8 scale by libjpeg's draft
   mode, a large PNG strip by strip: `png_strips`), shrinks it to UPLOAD_MAX_SIDE,
   turns it upright by its EXIF orientation, converts colours to sRGB by its ICC
   profile, and re-encodes it in its own format with no metadata at all: no EXIF
   (camera, GPS position), no XMP, no ICC profile (it can name the device; the pixels
   are sRGB now, which is what providers assume);
4. stores it in `default_storage` under a random name and records it in the same
   transaction that re-checks the rate limit under the user's row lock, so the limit
   holds under concurrency. A refusal writes nothing: no row, no file.

Memory: the file stays on disk (a temporary file) and at most UPLOAD_DECODE_SLOTS
images are decoded at once per process; a JPEG, the common case, is decoded at the
smallest scale that still gives UPLOAD_MAX_SIDE, and a large 8-bit RGB(A) PNG a few
hundred rows at a time. A 16-bit or paletted PNG is decoded whole (4 bytes a pixel at
most); a WebP too, at about 16 bytes a pixel, so WebP has a pixel budget of its own
(UPLOAD_WEBP_MAX_PIXELS), checked from its header before Pillow opens it.
"""

import hashlib
import io
import logging
import math
import secrets
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import IO

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Min
from django.utils import timezone
from django.utils.translation import gettext as _
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from accounts.errors import UserBanned
from accounts.models import User
from accounts.services import user_lock
from core.errors import PayloadTooLarge, ValidationFailed
from generations.errors import UploadRateLimitExceeded
from generations.models import Upload
from generations.services.png_strips import png_shrink

logger = logging.getLogger(__name__)

RATE_WINDOW = timedelta(seconds=60)
# Pillow format -> (content type, file extension). Anything else is refused.
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "WEBP": ("image/webp", "webp")}
# A decoded 40-megapixel PNG takes 120-160 MB: bound how many are in memory at once in
# one process (a threaded server, the bot handling an album).
UPLOAD_DECODE_SLOTS = 2
_decode_slots = threading.BoundedSemaphore(UPLOAD_DECODE_SLOTS)
COPY_CHUNK = 256 * 1024
# What Pillow raises for a damaged or truncated image, whichever decoder reads it.
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError)


@dataclass(frozen=True)
class _Cleaned:
    file: IO[bytes]
    content_type: str
    extension: str
    width: int
    height: int
    size: int
    sha256: str


def upload_create(*, user: User, source: IO[bytes]) -> Upload:
    """Check, clean and store the image in `source` for `user` (see the module's doc).

    Raises UploadRateLimitExceeded (429), PayloadTooLarge (413), ValidationFailed (400,
    `details.file`) or UserBanned; nothing is stored then.
    """
    upload_rate_check(user_id=user.pk)
    source.seek(0, io.SEEK_END)
    size = source.tell()
    if size > settings.UPLOAD_MAX_BYTES:
        raise upload_too_large()
    if size == 0:
        raise _refused(_("The file is empty."))
    with _decode_slots:
        cleaned = _image_clean(source)
    try:
        name = default_storage.save(
            f"uploads/{timezone.now():%Y/%m/%d}/{secrets.token_urlsafe(24)}.{cleaned.extension}", File(cleaned.file)
        )
    finally:
        cleaned.file.close()
    try:
        with transaction.atomic():
            locked = user_lock(user_id=user.pk)
            if locked.is_banned:
                raise UserBanned()
            # Checked again under the lock: two uploads racing past the first check
            # must not both take the last place in the window.
            upload_rate_check(user_id=user.pk)
            upload = Upload.objects.create(
                user=user,
                file=name,
                content_type=cleaned.content_type,
                width=cleaned.width,
                height=cleaned.height,
                size=cleaned.size,
                sha256=cleaned.sha256,
            )
    except BaseException:
        # Nothing half-written: the file goes with the row that was not made.
        default_storage.delete(name)
        raise
    logger.info("upload %s stored: user %s, %s %sx%s, %s bytes", upload.pk, user.pk, cleaned.content_type,
                cleaned.width, cleaned.height, cleaned.size)
    return upload


def upload_create_from_bytes(*, user: User, data: bytes) -> Upload:
    """`upload_create` for bytes already in memory (a photo the bot downloaded)."""
    return upload_create(user=user, source=io.BytesIO(data))


def uploads_unused_delete(*, now: datetime, deadline: float, batch: int = 500) -> int:
    """Delete the uploads no generation used within UPLOAD_KEEP_HOURS: rows, then files.

    Each batch is taken with FOR UPDATE SKIP LOCKED and deleted in its transaction: a
    start holding one of them (it locks the uploads it uses, then marks them used) is
    skipped, and a start that comes after finds the row gone and says "upload it
    again". A file is deleted only once its row is gone; a crash in between leaves an
    orphan file, never a row without its file.
    """
    cutoff = now - timedelta(hours=settings.UPLOAD_KEEP_HOURS)
    deleted = 0
    while time.monotonic() < deadline:
        with transaction.atomic():
            names = dict(
                Upload.objects.select_for_update(skip_locked=True)
                .filter(used_at__isnull=True, created_at__lte=cutoff)
                .order_by("created_at")
                .values_list("pk", "file")[:batch]
            )
            if not names:
                break
            Upload.objects.filter(pk__in=list(names), used_at__isnull=True).delete()
        for name in names.values():
            try:
                default_storage.delete(name)
            except OSError:
                logger.exception("sweep: could not delete the file %s of an unused upload", name)
        deleted += len(names)
    return deleted


def upload_rate_check(*, user_id: int, now: datetime | None = None) -> None:
    """Raise UploadRateLimitExceeded when the user stored UPLOAD_RATE_LIMIT_PER_MINUTE
    uploads in the last minute (with Retry-After: when the oldest of them leaves it)."""
    now = now or timezone.now()
    limit = settings.UPLOAD_RATE_LIMIT_PER_MINUTE
    recent = Upload.objects.filter(user_id=user_id, created_at__gt=now - RATE_WINDOW).order_by()
    window = recent.aggregate(count=Count("pk"), oldest=Min("created_at"))
    if window["count"] < limit:
        return
    retry_after = max(1, math.ceil((window["oldest"] + RATE_WINDOW - now).total_seconds()))
    raise UploadRateLimitExceeded(
        details={"limit": limit, "retry_after": retry_after}, headers={"Retry-After": str(retry_after)}
    )


def upload_too_large() -> PayloadTooLarge:
    megabytes = settings.UPLOAD_MAX_BYTES / (1024 * 1024)
    return PayloadTooLarge(
        _("The file is too large: at most %(size)s MB.") % {"size": f"{megabytes:g}"},
        details={"file": [_("At most %(bytes)d bytes.") % {"bytes": settings.UPLOAD_MAX_BYTES}]},
    )


def _refused(message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"file": [message]})


def webp_size(head: bytes) -> tuple[int, int] | None:
    """A WebP's canvas size from its first 30 bytes (VP8, VP8L or VP8X header); None when
    `head` is not a WebP. Read before Pillow opens the file: Pillow's WebP decoder
    allocates its full-size canvases as it opens."""
    if len(head) < 30 or head[:4] != b"RIFF" or head[8:12] != b"WEBP":
        return None
    chunk = head[12:16]
    if chunk == b"VP8 " and head[23:26] == b"\x9d\x01\x2a":
        return int.from_bytes(head[26:28], "little") & 0x3FFF, int.from_bytes(head[28:30], "little") & 0x3FFF
    if chunk == b"VP8L" and head[20] == 0x2F:
        bits = int.from_bytes(head[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(head[24:27], "little") + 1, int.from_bytes(head[27:30], "little") + 1
    return None


def _webp_check(source: IO[bytes]) -> None:
    """Refuse a WebP over its budget before anything is allocated for it: Pillow decodes a
    WebP only whole, with about 16 bytes a pixel (libwebp's canvas and previous canvas, a
    copy, the image), so a WebP is held to UPLOAD_WEBP_MAX_PIXELS, less than the others."""
    source.seek(0)
    size = webp_size(source.read(30))
    source.seek(0)
    if size is None:
        return
    pixels = size[0] * size[1]
    if pixels > settings.UPLOAD_MAX_PIXELS:
        raise _too_many_pixels()
    if pixels > settings.UPLOAD_WEBP_MAX_PIXELS:
        raise _refused(
            _("A WebP image may have at most %(megapixels)s megapixels: send it as a JPEG or PNG.")
            % {"megapixels": f"{settings.UPLOAD_WEBP_MAX_PIXELS / 1_000_000:g}"}
        )


def _image_clean(source: IO[bytes]) -> _Cleaned:
    _webp_check(source)
    source.seek(0)
    not_an_image = _refused(_("Upload a JPEG, PNG or WebP image."))
    try:
        image = Image.open(source, formats=list(FORMATS))
    except UnidentifiedImageError:
        raise not_an_image from None
    except Image.DecompressionBombError:
        raise _too_many_pixels() from None
    except DECODE_ERRORS:
        raise _refused(_("The image could not be read: the file is damaged or incomplete.")) from None
    with image:
        width, height = image.size
        # The header's size, checked before a single pixel is decoded.
        if width * height > settings.UPLOAD_MAX_PIXELS:
            raise _too_many_pixels()
        image_format = image.format or ""
        if width < 1 or height < 1 or image_format not in FORMATS:
            raise not_an_image
        content_type, extension = FORMATS[image_format]
        try:
            cleaned = _pixels_clean(_large_png_shrunk(source, image) or image, keep_alpha=image_format != "JPEG")
        except Image.DecompressionBombError:
            raise _too_many_pixels() from None
        except DECODE_ERRORS:
            raise _refused(_("The image could not be read: the file is damaged or incomplete.")) from None
        # Encoded before the source image is closed: closing it frees the pixels too
        # when no conversion made a copy.
        output = tempfile.TemporaryFile()  # handed to the caller, who closes it
        try:
            _encode(cleaned, output, image_format=image_format)
            sha256, size = _digest(output)
        except BaseException:
            output.close()
            raise
    return _Cleaned(
        file=output, content_type=content_type, extension=extension, width=cleaned.width, height=cleaned.height,
        size=size, sha256=sha256,
    )


def _too_many_pixels() -> ValidationFailed:
    return _refused(
        _("The image is too large: at most %(megapixels)s megapixels.")
        % {"megapixels": f"{settings.UPLOAD_MAX_PIXELS / 1_000_000:g}"}
    )


def _large_png_shrunk(source: IO[bytes], image: Image.Image) -> Image.Image | None:
    """A PNG larger than UPLOAD_MAX_SIDE, shrunk strip by strip (`png_strips`) so that its
    whole bitmap is never in memory; None for any other image (decoded as usual)."""
    if image.format != "PNG" or max(image.size) <= settings.UPLOAD_MAX_SIDE:
        return None
    shrunk = png_shrink(source, longest=settings.UPLOAD_MAX_SIDE)
    if shrunk is None:
        return None
    if shrunk.exif:
        shrunk.image.info["exif"] = shrunk.exif  # for the orientation
    if shrunk.icc_profile:
        shrunk.image.info["icc_profile"] = shrunk.icc_profile  # for the conversion to sRGB
    return shrunk.image


def _pixels_clean(image: Image.Image, *, keep_alpha: bool) -> Image.Image:
    """Decode (small), shrink, turn upright, convert to sRGB: the pixels to keep."""
    longest = settings.UPLOAD_MAX_SIDE
    width, height = image.size
    if max(width, height) > longest:
        scale = longest / max(width, height)
        # JPEG only: libjpeg decodes at the smallest 1/2^n scale that is still at least this big.
        image.draft(None, (max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))))
    image.load()
    icc_profile = image.info.get("icc_profile")
    # reducing_gap: a fast integer reduce first, then a good resample of what is left.
    image.thumbnail((longest, longest), Image.Resampling.LANCZOS, reducing_gap=3.0)
    ImageOps.exif_transpose(image, in_place=True)
    has_alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
    if keep_alpha and has_alpha:
        mode = "RGBA"
    elif image.mode in ("1", "L"):
        mode = "L"
    else:
        mode = "RGB"
    if image.mode != mode:
        image = image.convert(mode)
    if icc_profile and mode in ("RGB", "RGBA"):
        image = _to_srgb(image, icc_profile)
    # Nothing of the original's metadata may reach the encoder (Pillow carries some of
    # `info` over, the PNG ICC profile for one).
    image.info.clear()
    return image


def _to_srgb(image: Image.Image, icc_profile: bytes) -> Image.Image:
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc_profile))
        converted = ImageCms.profileToProfile(image, source, ImageCms.createProfile("sRGB"), outputMode=image.mode)
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return image  # a broken or unusual profile: keep the pixels as they are
    return converted if converted is not None else image


def _encode(image: Image.Image, output: IO[bytes], *, image_format: str) -> None:
    if image_format == "JPEG":
        image.save(output, format="JPEG", quality=90)
    elif image_format == "PNG":
        image.save(output, format="PNG", compress_level=6)
    else:
        image.save(output, format="WEBP", quality=90, method=4)


def _digest(file: IO[bytes]) -> tuple[str, int]:
    file.seek(0)
    digest = hashlib.sha256()
    size = 0
    while chunk := file.read(COPY_CHUNK):
        digest.update(chunk)
        size += len(chunk)
    file.seek(0)
    return digest.hexdigest(), size
