"""Fuzzing the API against our own OpenAPI schema (Schemathesis), in-process through
the WSGI application, authenticated as a real user with signed init data.

For every operation, generated requests (valid and invalid) must never get a 500,
and every response must be documented: its status code, content type, headers and
body must match the schema. The run is bounded and derandomized, so it is fast
and gives the same cases every time."""

from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from generations.models import AIModel
from tests.factories import AIModelFactory, UserFactory
from tests.helpers import credits_give, init_data_for

pytestmark = pytest.mark.django_db

FUZZER: dict[str, Any] = {"first_name": "Fuzz", "username": "fuzzer"}


# The schema is read from the application itself (GET /api/schema, no database needed).
schema = schemathesis.openapi.from_wsgi("/api/schema", get_wsgi_application())


@schema.auth(refresh_interval=None)
class TelegramInitData:
    """Signed init data of the fuzzing user. Registered as the schema's auth, so that
    cases that test a missing or broken Authorization header go out without it."""

    def get(self, case, ctx):
        return init_data_for(4242, **FUZZER)

    def set(self, case, data, ctx):
        case.headers = {**(case.headers or {}), "Authorization": f"tma {data}"}


@pytest.fixture(autouse=True)
def requests_inside_the_test_transaction():
    """The WSGI handler closes "old" connections around each request; inside a test's
    transaction that would close it. Django's test client skips this the same way."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture(autouse=True)
def world(db, fake_telegram):
    """A user with a little money and a model to pick; the Bot API is the local fake."""
    owner = UserFactory.create(telegram_id=4242, username="fuzzer", first_name="Fuzz", language_code="en")
    credits_give(owner, 1000)
    AIModelFactory.create(slug="fuzz-image", name="Fuzz image", kind=AIModel.Kind.IMAGE,
                          provider_model_id="fuzz/image", price=5, params_schema={
                       "aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"}})
    return owner


@schema.parametrize()
@settings(max_examples=25, derandomize=True, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_api_conforms_to_its_schema(case):
    # Schema-valid input may still break a business rule (an unknown model slug, too
    # little credit): those answers are documented errors, so "valid data must get a
    # 2xx" does not apply. Every other check does, the server-error one first.
    case.call_and_validate(excluded_checks=[positive_data_acceptance])
