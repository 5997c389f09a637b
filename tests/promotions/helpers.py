"""Helpers of the promotions tests: the contract's error body, redeeming and claiming through HTTP, a clock."""

from datetime import datetime
from typing import Any

from rest_framework.test import APIClient

from accounts.models import User


def assert_error_body(response: Any, status: int, code: str, *, details: Any = None) -> dict[str, Any]:
    """Exactly the contract's body: `code`, a message in the user's language, `details` only when expected."""
    assert response.status_code == status, response.content
    body = response.json()
    expected_keys = {"code", "message"} | ({"details"} if details is not None else set())
    assert set(body) == expected_keys, body
    assert body["code"] == code, body
    assert isinstance(body["message"], str) and body["message"], body
    if details is not None:
        assert body["details"] == details, body
    return body


def redeem(client: APIClient, code: Any) -> Any:
    return client.post("/api/promo/redeem", {"code": code}, format="json")


def claim(client: APIClient) -> Any:
    return client.post("/api/bonus/daily", format="json")


def balance(user: User) -> int:
    user.refresh_from_db(fields=["credits"])
    return user.credits


class Clock:
    """`django.utils.timezone.now` under the test's control: every service, the ORM's
    auto_now fields and the API read this time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, now: datetime) -> None:
        self.now = now
