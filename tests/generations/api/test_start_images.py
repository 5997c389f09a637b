"""Starts with input images through HTTP: ids of the user's uploads, in order, within the
model's range; anything else refused with details.images and nothing written; the
generation shows its inputs; the idempotency fingerprint covers the images' content."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation, Upload
from generations.services.sweeper import generations_sweep
from tests.generations.api.helpers import (
    ANIMATE_PRICE,
    EDIT_PRICE,
    assert_error,
    balance,
    start,
    upload_id,
)
from tests.generations.images import BLUE, RED, jpeg_bytes, near, pixel, png_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture
def photos(owner_client):
    """Three of the owner's uploads: different pictures."""
    return [upload_id(owner_client, jpeg_bytes(size)) for size in ((40, 20), (20, 40), (30, 30))]


def test_a_start_with_images_keeps_their_order_and_shows_them(rich_owner, owner_client, edit_model, photos,
                                                              audit_passes):
    images = [photos[2], photos[0]]
    response = start(owner_client, model="test-edit", prompt="make it a watercolour", images=images)

    assert response.status_code == 201, response.content
    body = response.json()
    generation = Generation.objects.get()
    uploads = {str(u.pk): u for u in Upload.objects.all()}
    assert [item["upload"] for item in generation.images] == images
    assert [item["name"] for item in generation.images] == [uploads[i].file.name for i in images]
    assert [image["content_type"] for image in body["images"]] == ["image/jpeg", "image/jpeg"]
    assert [image["url"] for image in body["images"]] == [
        f"http://testserver/media/{uploads[i].file.name}" for i in images
    ]
    # Two input images at 2 credits each on top of one result at 8.
    assert body["credits_charged"] == EDIT_PRICE + 2 * 2
    assert balance(rich_owner) == 10_000 - EDIT_PRICE - 4
    # Used uploads are marked (never swept); the unused one is not.
    assert {str(u.pk) for u in Upload.objects.filter(used_at__isnull=False)} == set(images)
    # The detail shows the same inputs.
    assert owner_client.get(f"/api/generations/{generation.pk}").json()["images"] == body["images"]


def test_an_input_image_is_served_to_its_url(rich_owner, owner_client, edit_model, photos, audit_passes):
    body = start(owner_client, model="test-edit", images=[photos[0]]).json()
    response = owner_client.get(body["images"][0]["url"].removeprefix("http://testserver"))
    assert response.status_code == 200
    assert response["Cache-Control"].startswith("private")


def test_a_used_upload_is_never_swept(rich_owner, owner_client, edit_model, photos, settings, audit_passes):
    start(owner_client, model="test-edit", images=[photos[0]])
    Upload.objects.update(created_at=timezone.now() - timedelta(hours=settings.UPLOAD_KEEP_HOURS * 10))
    generations_sweep()
    assert list(Upload.objects.values_list("pk", flat=True).order_by()) == [Upload.objects.get(pk=photos[0]).pk]


def test_a_start_without_images_uses_no_upload(rich_owner, owner_client, edit_model, photos, audit_passes):
    response = start(owner_client, model="test-edit")
    assert response.status_code == 201
    assert response.json()["images"] == [] and response.json()["credits_charged"] == EDIT_PRICE
    assert not Upload.objects.filter(used_at__isnull=False).exists()


def refused(response, owner, *, field: str = "images") -> dict:
    body = assert_error(response, 400, "VALIDATION_ERROR")
    assert field in body["details"], body
    assert not Generation.objects.exists()
    assert not Upload.objects.filter(used_at__isnull=False).exists()
    assert not CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).exists()
    assert balance(owner) == 10_000
    return body


def test_another_users_upload_is_refused_as_unknown(rich_owner, owner_client, stranger_client, edit_model,
                                                     audit_passes):
    theirs = upload_id(stranger_client, jpeg_bytes())
    body = refused(start(owner_client, model="test-edit", images=[theirs]), rich_owner)
    assert body["details"]["images"] == ["Unknown image: upload it again."]
    # The same message as for an id that never existed: nothing can be probed.
    unknown = "6f1c2b8e-2a7d-4c1e-9a55-0d8f0c3c1b2a"
    assert refused(start(owner_client, model="test-edit", images=[unknown]), rich_owner) == body


@pytest.mark.parametrize(
    "images",
    [
        ["not-a-uuid"],
        [""],
        [123],
        "6f1c2b8e-2a7d-4c1e-9a55-0d8f0c3c1b2a",
        [["nested"]],
        [None],
        {"0": "x"},
    ],
    ids=["not a uuid", "empty", "number", "a string, not a list", "nested list", "null", "object"],
)
def test_malformed_images_are_validation_errors(rich_owner, owner_client, edit_model, images, audit_passes):
    refused(start(owner_client, model="test-edit", images=images), rich_owner)


def test_more_images_than_the_model_takes_are_refused(rich_owner, owner_client, edit_model, photos, audit_passes):
    fourth = upload_id(owner_client, png_bytes())
    body = refused(start(owner_client, model="test-edit", images=[*photos, fourth]), rich_owner)
    assert body["details"]["images"] == ["This model takes 0 to 3 images."]


def test_a_text_only_model_takes_no_images(rich_owner, owner_client, image_model, photos, audit_passes):
    body = refused(start(owner_client, model="test-image", images=[photos[0]]), rich_owner)
    assert body["details"]["images"] == ["This model takes no images."]


def test_the_same_image_twice_is_refused(rich_owner, owner_client, edit_model, photos, audit_passes):
    refused(start(owner_client, model="test-edit", images=[photos[0], photos[0]]), rich_owner)


def test_an_expired_upload_is_refused(rich_owner, owner_client, edit_model, photos, settings, audit_passes):
    Upload.objects.filter(pk=photos[0]).update(
        created_at=timezone.now() - timedelta(hours=settings.UPLOAD_KEEP_HOURS, seconds=1)
    )
    refused(start(owner_client, model="test-edit", images=[photos[0]]), rich_owner)


def test_an_image_to_video_start_may_leave_the_prompt_out(rich_owner, owner_client, animate_model, photos,
                                                          audit_passes):
    response = start(owner_client, model="test-animate", prompt="  ", images=[photos[0]])
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["prompt"] == ""
    # The aspect ratio is the picture's: not a parameter with an image.
    assert body["params"] == {"duration": 5, "resolution": "480p"}
    assert body["credits_charged"] == ANIMATE_PRICE


def test_without_an_image_the_prompt_is_required(rich_owner, owner_client, animate_model, audit_passes):
    refused(start(owner_client, model="test-animate", prompt=""), rich_owner, field="prompt")
    response = start(owner_client, model="test-animate", prompt="waves")
    assert response.json()["params"] == {"aspect_ratio": "16:9", "duration": 5, "resolution": "480p"}


def test_a_parameter_not_used_with_images_is_refused_with_one(rich_owner, owner_client, animate_model, photos,
                                                              audit_passes):
    body = refused(
        start(owner_client, model="test-animate", images=[photos[0]], params={"aspect_ratio": "9:16"}),
        rich_owner,
        field="params",
    )
    assert body["details"]["params"] == {"aspect_ratio": ["This parameter is not used with input images."]}


def test_the_fingerprint_covers_the_images_content(rich_owner, owner_client, edit_model, audit_passes):
    first = upload_id(owner_client, jpeg_bytes((40, 20)))
    created = start(owner_client, model="test-edit", images=[first], idempotency_key="edit-1")
    assert created.status_code == 201

    # The same photo uploaded again is another id but the same content: the same intent.
    again = upload_id(owner_client, jpeg_bytes((40, 20)))
    duplicate = start(owner_client, model="test-edit", images=[again], idempotency_key="edit-1")
    assert_error(duplicate, 409, "DUPLICATE_REQUEST")
    assert duplicate.json()["generation"]["id"] == created.json()["id"]

    # Another photo with the same key: another intent.
    other = upload_id(owner_client, jpeg_bytes((20, 40)))
    assert_error(start(owner_client, model="test-edit", images=[other], idempotency_key="edit-1"), 422,
                 "IDEMPOTENCY_KEY_REUSED")
    # The same photos in another order: another intent too.
    both = start(owner_client, model="test-edit", images=[first, other], idempotency_key="edit-2")
    assert both.status_code == 201
    assert_error(start(owner_client, model="test-edit", images=[other, first], idempotency_key="edit-2"), 422,
                 "IDEMPOTENCY_KEY_REUSED")
    assert Generation.objects.count() == 2
    assert balance(rich_owner) == 10_000 - (EDIT_PRICE + 2) - (EDIT_PRICE + 4)


def test_the_stored_pixels_are_what_the_generation_keeps(rich_owner, owner_client, edit_model, audit_passes):
    """The input is the cleaned upload (upright), not the bytes the client sent."""
    from django.core.files.storage import default_storage
    from PIL import Image

    photo = upload_id(owner_client, jpeg_bytes((40, 20), orientation=6))
    assert start(owner_client, model="test-edit", images=[photo]).status_code == 201
    stored = Generation.objects.get().images[0]["name"]
    with default_storage.open(stored) as file, Image.open(file) as image:
        assert image.size == (20, 40)
        rgb = image.convert("RGB")
        assert near(pixel(rgb, (10, 5)), RED) and near(pixel(rgb, (10, 35)), BLUE)
