"""Helpers of the generations API tests: start through HTTP, check an error body, read a balance."""

import time
from typing import Any

from django.db import connection
from rest_framework.test import APIClient

from accounts.models import User
from generations.models import Generation
from tests.helpers import OWNER_TELEGRAM_ID, api_client_for

IMAGE_PRICE = 10
VIDEO_PRICE = 50


def owner_client_new(owner: User) -> APIClient:
    """A client of its own for one thread (same profile, so auth writes nothing)."""
    return api_client_for(OWNER_TELEGRAM_ID, first_name="Owner", username="owner")


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
