"""Shared fixtures: a fixed cast (owner, stranger), signed init data, API clients."""

from collections.abc import Iterator

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from tests.factories import UserFactory
from tests.fakes.s3 import s3_media, s3_server  # noqa: F401 - fixtures: a real S3-compatible server
from tests.fakes.telegram import fake_telegram  # noqa: F401 - a fixture, shared by every test module
from tests.helpers import OWNER_TELEGRAM_ID, STRANGER_TELEGRAM_ID, api_client_for


@pytest.fixture
def owner(db: None) -> User:
    return UserFactory.create(telegram_id=OWNER_TELEGRAM_ID, username="owner", first_name="Owner", language_code="en")


@pytest.fixture
def stranger(db: None) -> User:
    return UserFactory.create(telegram_id=STRANGER_TELEGRAM_ID, username="stranger", first_name="Stranger",
                              language_code="en")


@pytest.fixture
def owner_client(owner: User) -> APIClient:
    return api_client_for(OWNER_TELEGRAM_ID, first_name="Owner", username="owner")


@pytest.fixture
def stranger_client(stranger: User) -> APIClient:
    return api_client_for(STRANGER_TELEGRAM_ID, first_name="Stranger", username="stranger")


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
    settings.AIMLAPI_KEY = "test-aimlapi-secret-key"
    settings.AIMLAPI_CONNECT_TIMEOUT_SECONDS = 2.0
    # Generous for a loaded CI machine; "slow" fake replies wait twice as long.
    settings.AIMLAPI_READ_TIMEOUT_SECONDS = 1.0
    settings.GENERATION_RESULT_READ_TIMEOUT_SECONDS = 1.0
    settings.GENERATION_RETRY_BASE_SECONDS = 0
    settings.GENERATION_POLL_INTERVAL_SECONDS = 0
    yield fake
    fake.stop()
