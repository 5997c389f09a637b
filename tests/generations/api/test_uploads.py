"""POST /api/uploads through HTTP: images recognised by their bytes, stored upright and
without metadata, private to their user; every bad input refused with the contract's
error and nothing written (no row, no file); size, pixel and rate limits."""

import io
import threading
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from PIL import Image

from accounts.services import user_set_banned
from generations.models import Upload
from generations.services import upload_create_from_bytes
from tests.generations.api.helpers import assert_error, owner_client_new
from tests.generations.images import (
    BLUE,
    HTML,
    RED,
    SVG,
    gif_bytes,
    jpeg_bytes,
    jpeg_declaring,
    near,
    noise_jpeg_bytes,
    pixel,
    png_bytes,
    png_header_only,
    truncated,
    webp_bytes,
    webp_declaring,
)
from tests.helpers import run_in_threads

pytestmark = pytest.mark.django_db

URL = "/api/uploads"


def upload(client, data: bytes, *, name: str = "photo.jpg", content_type: str = "image/jpeg", field: str = "file"):
    return client.post(URL, {field: SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")


def stored_files() -> set[str]:
    root = Path(settings.MEDIA_ROOT) / "uploads"
    return {str(path) for path in root.rglob("*") if path.is_file()} if root.exists() else set()


def stored_image(upload_id: str) -> Image.Image:
    row = Upload.objects.get(pk=upload_id)
    with default_storage.open(row.file.name) as file:
        image = Image.open(io.BytesIO(file.read()))
        image.load()
    return image


def test_a_photo_is_stored_upright_without_any_metadata(owner, owner_client):
    # Orientation 6: the camera was turned; the left of the stored pixels is the top.
    response = upload(owner_client, jpeg_bytes((40, 20), orientation=6))

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "content_type", "width", "height", "size"}
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 20, 40)
    row = Upload.objects.get()
    assert str(row.pk) == body["id"] and row.user == owner and row.used_at is None
    assert row.size == body["size"] == default_storage.size(row.file.name)
    assert len(row.sha256) == 64

    image = stored_image(body["id"])
    assert image.format == "JPEG" and image.size == (20, 40)
    assert near(pixel(image, (10, 5)), RED) and near(pixel(image, (10, 35)), BLUE)
    # No EXIF (camera, GPS), no XMP, no ICC profile: nothing of the original's metadata.
    assert dict(image.getexif()) == {}
    assert not {"exif", "xmp", "icc_profile", "XML:com.adobe.xmp"} & set(image.info)
    with default_storage.open(row.file.name) as file:
        raw = file.read()
    for secret in (b"NanoCam", b"secret place", b"Exif", b"http://ns.adobe.com/xap"):
        assert secret not in raw
    # The name tells nothing: not the user, not the id, not the original's name.
    assert body["id"] not in row.file.name and "photo" not in row.file.name
    assert row.file.name.startswith("uploads/") and row.file.name.endswith(".jpg")


def test_a_png_named_jpg_is_recognised_by_its_bytes_and_keeps_its_transparency(owner_client):
    response = upload(owner_client, png_bytes(alpha=True), name="holiday.jpg", content_type="image/jpeg")

    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/png"
    image = stored_image(response.json()["id"])
    assert image.format == "PNG" and image.mode == "RGBA"
    assert pixel(image, (30, 10))[3] == 128  # the blue half is half transparent
    assert not {"icc_profile", "exif", "Comment"} & set(image.info)


@override_settings(UPLOAD_WEBP_MAX_PIXELS=500)
def test_a_webp_over_its_own_budget_is_refused_with_a_way_out(owner_client):
    body = assert_error(upload(owner_client, webp_bytes((40, 20))), 400, "VALIDATION_ERROR")
    assert body["details"]["file"] == ["A WebP image may have at most 0.0005 megapixels: send it as a JPEG or PNG."]
    assert upload(owner_client, webp_bytes((20, 20))).status_code == 201


def test_webp_is_accepted(owner_client):
    response = upload(owner_client, webp_bytes(), name="x.bin", content_type="application/octet-stream")
    assert response.status_code == 201, response.content
    assert response.json()["content_type"] == "image/webp"
    image = stored_image(response.json()["id"])
    assert image.format == "WEBP" and dict(image.getexif()) == {}


@override_settings(UPLOAD_MAX_SIDE=100)
def test_a_large_photo_is_stored_at_most_upload_max_side(owner_client):
    response = upload(owner_client, jpeg_bytes((1600, 900), orientation=8))
    assert response.status_code == 201, response.content
    body = response.json()
    # Upright (orientation 8), 100 on the longer side.
    assert body["height"] == 100 and body["width"] in (56, 57)
    assert stored_image(body["id"]).size == (body["width"], 100)


@override_settings(UPLOAD_MAX_SIDE=256)
def test_a_large_png_is_shrunk_strip_by_strip_upright_and_clean(owner_client):
    response = upload(owner_client, png_bytes((2000, 1000), alpha=True, orientation=6), name="big.png",
                      content_type="image/png")
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/png", 128, 256)
    image = stored_image(body["id"])
    assert image.mode == "RGBA"
    assert near(pixel(image, (64, 20)), RED) and near(pixel(image, (64, 236)), BLUE)
    assert pixel(image, (64, 236))[3] == 128
    assert not {"icc_profile", "exif", "Comment"} & set(image.info)


def test_the_bot_stores_bytes_through_the_same_service(owner):
    stored = upload_create_from_bytes(user=owner, data=jpeg_bytes((30, 30)))
    assert (stored.content_type, stored.width, stored.height) == ("image/jpeg", 30, 30)
    assert default_storage.exists(stored.file.name)


REFUSED = [
    ("decompression bomb (PNG)", png_header_only(100_000, 100_000), "bomb.png", "image/png"),
    ("decompression bomb (JPEG)", jpeg_declaring(60_000, 60_000), "bomb.jpg", "image/jpeg"),
    ("over the pixel limit", png_header_only(8000, 6000), "big.png", "image/png"),
    ("over the pixel limit (JPEG)", jpeg_declaring(8000, 6000), "big.jpg", "image/jpeg"),
    ("decompression bomb (WebP)", webp_declaring(16_000, 16_000), "bomb.webp", "image/webp"),
    ("WebP over its budget", webp_declaring(4000, 3000), "big.webp", "image/webp"),
    ("truncated JPEG", truncated(jpeg_bytes((400, 300), metadata=False)), "cut.jpg", "image/jpeg"),
    ("truncated PNG", truncated(png_bytes((400, 300))), "cut.png", "image/png"),
    ("SVG", SVG, "logo.svg", "image/svg+xml"),
    ("SVG named .png", SVG, "logo.png", "image/png"),
    ("HTML", HTML, "page.html", "text/html"),
    ("HTML named .jpg", HTML, "photo.jpg", "image/jpeg"),
    ("zero bytes", b"", "empty.jpg", "image/jpeg"),
    ("GIF", gif_bytes(), "anim.gif", "image/gif"),
    ("random bytes", bytes(range(256)) * 8, "x.jpg", "image/jpeg"),
]


@pytest.mark.parametrize(("case", "data", "name", "content_type"), REFUSED, ids=[case[0] for case in REFUSED])
def test_bad_files_are_refused_and_nothing_is_written(owner_client, case, data, name, content_type):
    before = stored_files()
    body = assert_error(upload(owner_client, data, name=name, content_type=content_type), 400, "VALIDATION_ERROR")
    assert list(body["details"]) == ["file"]
    assert not Upload.objects.exists()
    assert stored_files() == before


def test_ten_files_in_one_request_are_refused(owner_client):
    before = stored_files()
    files = [SimpleUploadedFile(f"p{i}.jpg", jpeg_bytes(), content_type="image/jpeg") for i in range(10)]
    body = assert_error(owner_client.post(URL, {"file": files}, format="multipart"), 400, "VALIDATION_ERROR")
    assert "file" in body["details"]
    assert not Upload.objects.exists() and stored_files() == before


@pytest.mark.parametrize(
    "payload",
    [
        {"image": SimpleUploadedFile("p.jpg", jpeg_bytes(), content_type="image/jpeg")},  # another field
        {"file": "not a file"},  # a text field
        {},
    ],
    ids=["other field", "text field", "nothing"],
)
def test_a_missing_file_field_is_a_validation_error(owner_client, payload):
    body = assert_error(owner_client.post(URL, payload, format="multipart"), 400, "VALIDATION_ERROR")
    assert "file" in body["details"]
    assert not Upload.objects.exists()


def test_a_json_body_is_a_validation_error(owner_client):
    assert_error(owner_client.post(URL, {"file": "abc"}, format="json"), 400, "VALIDATION_ERROR")


@override_settings(UPLOAD_MAX_BYTES=50_000)
def test_a_body_over_the_limit_is_refused_before_it_is_read(owner_client):
    # Content-Length over the limit and the multipart envelope: the middleware answers.
    data = jpeg_bytes((20, 20), metadata=False) + b"\x00" * 200_000
    before = stored_files()
    assert_error(upload(owner_client, data), 413, "PAYLOAD_TOO_LARGE")
    assert not Upload.objects.exists() and stored_files() == before


@override_settings(UPLOAD_MAX_BYTES=50_000)
def test_a_file_just_over_the_limit_is_refused_while_it_is_read(owner_client):
    # Within the envelope's allowance, so the handler counting the bytes refuses it.
    data = jpeg_bytes((20, 20), metadata=False)
    data += b"\x00" * (50_001 - len(data))
    body = assert_error(upload(owner_client, data), 413, "PAYLOAD_TOO_LARGE")
    assert "file" in body["details"]
    assert not Upload.objects.exists()


@override_settings(UPLOAD_MAX_BYTES=50_000)
def test_a_file_of_exactly_the_limit_is_read(owner_client):
    data = jpeg_bytes((20, 20), metadata=False)
    data += b"\x00" * (50_000 - len(data))  # bytes after the JPEG's end are ignored by decoders
    assert upload(owner_client, data).status_code == 201


def test_the_json_body_limit_does_not_apply_to_uploads(owner_client):
    data = noise_jpeg_bytes((300, 300))
    assert len(data) > settings.API_MAX_BODY_BYTES
    assert upload(owner_client, data).status_code == 201


@override_settings(UPLOAD_RATE_LIMIT_PER_MINUTE=3)
def test_uploads_over_the_rate_limit_get_429_with_retry_after(owner_client):
    for _ in range(3):
        assert upload(owner_client, jpeg_bytes()).status_code == 201
    before = stored_files()
    response = upload(owner_client, jpeg_bytes())
    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert 1 <= int(response["Retry-After"]) <= 60
    assert body["details"]["limit"] == 3
    assert Upload.objects.count() == 3 and stored_files() == before


@override_settings(UPLOAD_RATE_LIMIT_PER_MINUTE=3)
def test_the_rate_limit_is_per_user(owner_client, stranger_client):
    for _ in range(3):
        assert upload(owner_client, jpeg_bytes()).status_code == 201
    assert upload(stranger_client, jpeg_bytes()).status_code == 201


@pytest.mark.django_db(transaction=True)
@override_settings(UPLOAD_RATE_LIMIT_PER_MINUTE=3)
def test_the_rate_limit_holds_under_concurrent_uploads(owner):
    data = jpeg_bytes((200, 200))
    barrier = threading.Barrier(6)

    def one(_: int) -> int:
        client = owner_client_new(owner)
        barrier.wait()
        return upload(client, data).status_code

    before = stored_files()
    statuses = run_in_threads(6, one)
    assert sorted(statuses) == [201, 201, 201, 429, 429, 429], statuses
    assert Upload.objects.count() == 3
    assert len(stored_files() - before) == 3  # the refused ones left no file behind


def test_uploads_need_auth_and_refuse_the_banned(anonymous_client, owner, owner_client):
    assert_error(upload(anonymous_client, jpeg_bytes()), 401, "AUTH_REQUIRED")
    user_set_banned(user=owner, banned=True)
    assert_error(upload(owner_client, jpeg_bytes()), 403, "USER_BANNED")
    assert not Upload.objects.exists()


def test_refusals_speak_the_users_language(owner):
    from tests.helpers import api_client_for

    client = api_client_for(owner.telegram_id, first_name="Owner", username="owner", language_code="ru")
    body = assert_error(upload(client, SVG, name="x.svg"), 400, "VALIDATION_ERROR")
    assert body["details"]["file"] == ["Загрузите изображение JPEG, PNG или WebP."]
