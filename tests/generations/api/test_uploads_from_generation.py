"""POST /api/uploads/from-generation through HTTP: one of the user's own results becomes an
upload (cleaned like any photo) that a start can animate; another user's generation is
404, a result that is not there or not a picture is 400 `details.index`, nothing written."""

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from generations.models import Generation, Upload
from tests.generations.api.helpers import (
    ANIMATE_PRICE,
    assert_error,
    generation_completed,
    quote,
    start,
)
from tests.generations.images import gif_bytes, jpeg_bytes, png_bytes

pytestmark = pytest.mark.django_db

URL = "/api/uploads/from-generation"


@pytest.fixture
def pictures(owner, edit_model, audit_passes) -> Generation:
    """The owner's generation with two results: a 40x20 PNG and a 20x40 JPEG."""
    return generation_completed(owner, edit_model, [(png_bytes((40, 20)), "image/png"),
                                                    (jpeg_bytes((20, 40)), "image/jpeg")])


def test_a_result_becomes_an_upload_that_a_start_animates(rich_owner, owner_client, pictures, animate_model):
    response = owner_client.post(URL, {"generation": pictures.pk, "index": 1}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/jpeg", 20, 40)
    upload = Upload.objects.get(pk=body["id"])
    assert upload.user == rich_owner and upload.used_at is None
    # A copy of its own, cleaned like a photo: no metadata survives (the JPEG had GPS).
    with default_storage.open(upload.file.name) as file:
        image = Image.open(io.BytesIO(file.read()))
    assert image.size == (20, 40) and dict(image.getexif()) == {}
    assert upload.file.name != pictures.results[1]["name"]

    assert quote(owner_client, model="test-animate", prompt="", images=[body["id"]]).json()["price"] == ANIMATE_PRICE
    started = start(owner_client, model="test-animate", prompt="", images=[body["id"]])
    assert started.status_code == 201, started.content
    assert [item["upload"] for item in Generation.objects.get(pk=started.json()["id"]).images] == [body["id"]]


def test_the_index_defaults_to_the_first_result(owner_client, pictures):
    body = owner_client.post(URL, {"generation": pictures.pk}, format="json").json()
    assert (body["content_type"], body["width"], body["height"]) == ("image/png", 40, 20)


def test_another_users_generation_is_not_found(stranger_client, pictures):
    body = assert_error(stranger_client.post(URL, {"generation": pictures.pk}, format="json"), 404, "NOT_FOUND")
    assert "details" not in body or not body["details"]
    assert not Upload.objects.exists()


def test_an_unknown_generation_is_not_found(owner_client, pictures):
    assert_error(owner_client.post(URL, {"generation": pictures.pk + 1000}, format="json"), 404, "NOT_FOUND")
    assert not Upload.objects.exists()


@pytest.mark.parametrize("index", [2, 7])
def test_a_result_that_is_not_there_is_refused(owner_client, pictures, index):
    body = assert_error(owner_client.post(URL, {"generation": pictures.pk, "index": index}, format="json"),
                        400, "VALIDATION_ERROR")
    assert body["details"]["index"] == ["This generation has no such result."]
    assert not Upload.objects.exists()


def test_a_generation_without_results_yet_is_refused(owner, owner_client, edit_model, audit_passes):
    from tests.factories import GenerationFactory

    pending = GenerationFactory.create(user=owner, model=edit_model)
    body = assert_error(owner_client.post(URL, {"generation": pending.pk}, format="json"), 400, "VALIDATION_ERROR")
    assert "index" in body["details"]
    assert not Upload.objects.exists()


def test_an_animation_is_not_a_picture(owner, owner_client, video_model, audit_passes):
    clip = generation_completed(owner, video_model, [(gif_bytes(), "image/gif")])
    body = assert_error(owner_client.post(URL, {"generation": clip.pk}, format="json"), 400, "VALIDATION_ERROR")
    assert body["details"]["index"] == ["Only a picture can be used: this result is a video or an animation."]
    assert not Upload.objects.exists()


def test_a_result_no_longer_stored_is_refused(owner_client, pictures):
    default_storage.delete(pictures.results[0]["name"])
    body = assert_error(owner_client.post(URL, {"generation": pictures.pk}, format="json"), 400, "VALIDATION_ERROR")
    assert body["details"]["index"] == ["This result is no longer stored."]
    assert not Upload.objects.exists()


@pytest.mark.parametrize("payload", [
    {},
    {"generation": "first"},
    {"generation": 0},
    {"generation": 1, "index": -1},
    {"generation": 2**63},
])
def test_a_bad_body_is_refused(owner_client, pictures, payload):
    body = assert_error(owner_client.post(URL, payload, format="json"), 400, "VALIDATION_ERROR")
    assert set(body["details"]) <= {"generation", "index"}
    assert not Upload.objects.exists()


def test_it_counts_in_the_upload_rate_limit(owner_client, pictures, settings):
    settings.UPLOAD_RATE_LIMIT_PER_MINUTE = 1
    assert owner_client.post(URL, {"generation": pictures.pk}, format="json").status_code == 201
    response = owner_client.post(URL, {"generation": pictures.pk, "index": 1}, format="json")
    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    assert int(response["Retry-After"]) >= 1
    assert Upload.objects.count() == 1


def test_it_needs_authentication(anonymous_client, pictures):
    assert_error(anonymous_client.post(URL, {"generation": pictures.pk}, format="json"), 401, "AUTH_REQUIRED")
