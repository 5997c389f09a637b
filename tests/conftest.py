"""Shared fixtures: a fixed cast (owner, stranger), signed init data, API clients."""

import json
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.test import APIClient

from accounts.models import CreditKind, User
from accounts.services import credits_change
from accounts.telegram_init_data import init_data_sign
from tests.fakes.telegram import fake_telegram  # noqa: F401 - a fixture, shared by every test module

OWNER_TELEGRAM_ID = 1001
STRANGER_TELEGRAM_ID = 2002


def init_data_for(
    telegram_id: int,
    *,
    first_name: str = "Test",
    username: str = "",
    language_code: str = "en",
    auth_date: int | None = None,
    bot_token: str | None = None,
    **extra_user: Any,
) -> str:
    user = {"id": telegram_id, "first_name": first_name, "language_code": language_code, **extra_user}
    if username:
        user["username"] = username
    return init_data_sign(
        {
            "auth_date": str(int(time.time()) if auth_date is None else auth_date),
            "query_id": "AAHdF6IQAAAAAN0XohDhrOrc",
            "user": json.dumps(user),
        },
        bot_token=bot_token or settings.TELEGRAM_BOT_TOKEN,
    )


def api_client_for(telegram_id: int, **user_fields: Any) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"tma {init_data_for(telegram_id, **user_fields)}")
    return client


def credits_give(user: User, amount: int) -> None:
    credits_change(user_id=user.pk, amount=amount, kind=CreditKind.GRANT, note="test")
    user.refresh_from_db()


def run_in_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run `target(i)` in `count` real threads started together; return results in order.

    Each thread has its own database connection, closed when it ends, so the test
    exercises PostgreSQL's row locks and constraints for real.
    """
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except Exception as exc:
            results[i] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


@pytest.fixture
def owner(db: None) -> User:
    return User.objects.create(telegram_id=OWNER_TELEGRAM_ID, username="owner", first_name="Owner",
                               language_code="en")


@pytest.fixture
def stranger(db: None) -> User:
    return User.objects.create(telegram_id=STRANGER_TELEGRAM_ID, username="stranger", first_name="Stranger",
                               language_code="en")


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    return api_client_for(owner.telegram_id, first_name="Owner", username="owner")


@pytest.fixture
def stranger_client(stranger: User) -> APIClient:
    return api_client_for(stranger.telegram_id, first_name="Stranger", username="stranger")


@pytest.fixture
def anonymous_client() -> APIClient:
    return APIClient()


@pytest.fixture
def staff_user(db: None) -> User:
    return User.objects.create_superuser(email="staff@example.com", password="staff-password")


@pytest.fixture
def audit_passes() -> Iterator[None]:
    """Use in any test that moves money: after it, every money rule must hold."""
    yield
    from accounts.audit import audit_run

    problems = {check: found for check, found in audit_run().items() if found}
    assert not problems, problems


@pytest.fixture
def fake_aimlapi(settings):
    """A local fake AIML API (see tests/fakes/aimlapi.py) that the code under test is
    pointed at, with tiny timeouts and no waiting between retries."""
    from tests.fakes.aimlapi import FakeAimlApi

    fake = FakeAimlApi().start()
    settings.AIMLAPI_BASE_URL = fake.base_url
    # Results are downloaded from public addresses only; the fake's own address
    # (exactly: loopback, its port) is allowed, nothing else on this machine is.
    settings.GENERATION_RESULT_ALLOWED_PRIVATE_ADDRESSES = [fake.base_url.removeprefix("http://")]
    settings.AIMLAPI_KEY = "test-aimlapi-secret-key"
    settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS = 2.0
    # Generous for a loaded CI machine; "slow" fake replies wait twice as long.
    settings.AIMLAPI_READ_TIMEOUT_SECONDS = 1.0
    settings.GENERATION_RESULT_READ_TIMEOUT_SECONDS = 1.0
    settings.GENERATION_RETRY_BASE_SECONDS = 0
    settings.GENERATION_POLL_INTERVAL_SECONDS = 0
    yield fake
    fake.stop()
