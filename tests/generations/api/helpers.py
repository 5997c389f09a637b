"""Helpers of the generations API tests: start through HTTP, check an error body, read a balance."""

import time
from collections.abc import Sequence
from typing import Any

from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from generations.models import AIModel, Generation
from tests.helpers import OWNER_TELEGRAM_ID, api_client_for

IMAGE_PRICE = 10
VIDEO_PRICE = 50
EDIT_PRICE = 8  # the edit model's price rule: 8 per result (num_images), +2 per input image
ANIMATE_PRICE = 30  # the animate model's default: 6 per second, 5 seconds, 480p


def owner_client_new(owner: User) -> APIClient:
    """A client of its own for one thread (same profile, so auth writes nothing)."""
    return api_client_for(OWNER_TELEGRAM_ID, first_name="Owner", username="owner")


def start(client: APIClient, *, model: str = "test-image", prompt: str = "a red cat", **body: Any) -> Any:
    return client.post("/api/generations", {"model": model, "prompt": prompt, **body}, format="json")


def quote(client: APIClient, *, model: str = "test-image", prompt: str = "a red cat", **body: Any) -> Any:
    return client.post("/api/generations/quote", {"model": model, "prompt": prompt, **body}, format="json")


def upload_id(client: APIClient, data: bytes) -> str:
    """Upload an image through the API; its id."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.post(
        "/api/uploads", {"file": SimpleUploadedFile("photo.jpg", data, content_type="image/jpeg")}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()["id"]


def assert_error(response: Any, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"]
    return body


def balance(user: User) -> int:
    user.refresh_from_db(fields=["credits"])
    return user.credits


def generations_of(user: User) -> list[Generation]:
    return list(Generation.objects.filter(user=user).order_by("id"))


def wait_until_blocked(statement_prefix: str) -> None:
    """Until some backend waits on a lock while running a statement that starts with
    `statement_prefix` (bounded: fails after 30 s instead of hanging)."""
    deadline = time.monotonic() + 30
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND starts_with(query, %s)",
                [statement_prefix],
            )
            if cursor.fetchone()[0]:
                return
            time.sleep(0.01)
    raise AssertionError(f"no statement {statement_prefix!r} ever waited on a lock")


def generation_completed(user: User, model: AIModel, results: Sequence[tuple[bytes, str]], **fields: Any) -> Generation:
    """One of `user`'s generations of `model`, charged and completed with these results
    (bytes, content type), stored as the worker stores them."""
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from generations.models import StoredFile
    from generations.services import generation_complete
    from tests.factories import GenerationFactory

    generation = GenerationFactory.create(user=user, model=model, status=Generation.Status.PROCESSING, **fields)
    stored = [
        StoredFile(
            name=default_storage.save(f"generations/test/{generation.pk}-{index}.{content_type.split('/')[-1]}",
                                      ContentFile(data)),
            content_type=content_type,
        )
        for index, (data, content_type) in enumerate(results)
    ]
    assert generation_complete(generation_id=generation.pk, results=stored)
    generation.refresh_from_db()
    return generation
