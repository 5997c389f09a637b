"""Fixtures of the generations API tests: small catalog entries of our own (the
default catalog of the data migration does not survive a transactional test's flush)
and a helper that starts a generation through the HTTP API."""

import time
from typing import Any

import pytest
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from generations.models import AIModel, Generation
from tests.conftest import api_client_for, credits_give

IMAGE_PRICE = 10
VIDEO_PRICE = 50


@pytest.fixture
def image_model(db: None) -> AIModel:
    return AIModel.objects.create(
        slug="test-image",
        name="Test image",
        kind=AIModel.Kind.IMAGE,
        provider_model_id="test/image",
        price=IMAGE_PRICE,
        sort_order=1,
        description="An image model for tests.",
        params_schema={
            "aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"},
            "seed": {"type": "integer", "min": 1, "max": 1000},
            "raw": {"type": "boolean", "default": False},
        },
    )


@pytest.fixture
def video_model(db: None) -> AIModel:
    return AIModel.objects.create(
        slug="test-video",
        name="Test video",
        kind=AIModel.Kind.VIDEO,
        provider_model_id="test/video",
        price=VIDEO_PRICE,
        sort_order=2,
        params_schema={"duration": {"type": "choice", "choices": [5, 10], "default": 5}},
    )


@pytest.fixture
def inactive_model(db: None) -> AIModel:
    return AIModel.objects.create(
        slug="test-retired", name="Retired", kind=AIModel.Kind.IMAGE, provider_model_id="test/old", price=1,
        is_active=False,
    )


@pytest.fixture
def rich_owner(owner: User) -> User:
    credits_give(owner, 10_000)
    return owner


def owner_client_new(owner: User) -> APIClient:
    """A client of its own for one thread (same profile, so auth writes nothing)."""
    return api_client_for(owner.telegram_id, first_name="Owner", username="owner")


def start(client: APIClient, *, model: str = "test-image", prompt: str = "a red cat", **body: Any) -> Any:
    return client.post("/api/generations", {"model": model, "prompt": prompt, **body}, format="json")


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
