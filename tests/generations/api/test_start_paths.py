"""The start's two paths: a plain start (JSON, init data, what the Mini App sends) takes
the fast one (`GenerationsApi.start_fast`, generations.api.lean), anything else DRF's
dispatch; and whatever the outcome, success or any error, the fast path answers what
DRF's dispatch answers the same request: status, headers and body."""

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction
from rest_framework.test import APIClient

from accounts.models import User
from generations.api import generations as generations_api
from generations.api.generations import GenerationsApi
from generations.api.lean import lean_view_fits
from generations.models import AIModel
from tests.generations.api.helpers import start
from tests.helpers import OWNER_TELEGRAM_ID, api_client_for, init_data_for

Send = Callable[[], Any]


def answer(response: Any) -> tuple[int, list[tuple[str, str]], Any]:
    """Status, headers in order (less the request id, new for each request) and body,
    less what differs between two starts of the same request (the id, the time)."""
    headers = [(name, value) for name, value in response.items() if name != "X-Request-ID"]
    body = json.loads(response.content)
    if response.status_code == 201:
        generation_id = body.pop("id")
        body.pop("created_at")
        headers = [(name, value.replace(f"/{generation_id}", "/<id>")) for name, value in headers]
    return response.status_code, headers, body


def both_paths(monkeypatch: pytest.MonkeyPatch, send: Send) -> tuple[Any, Any]:
    """`send()` once by the fast path and once by DRF's, each in a transaction rolled
    back after it, so that both meet the same state; their answers."""
    taken: list[bool] = []
    start_fast = GenerationsApi.start_fast

    def spied(view: GenerationsApi, *args: Any, **kwargs: Any) -> Any:
        taken.append(True)
        return start_fast(view, *args, **kwargs)

    monkeypatch.setattr(GenerationsApi, "start_fast", spied)
    answers = []
    for fast in (True, False):
        if not fast:
            monkeypatch.setattr(generations_api, "lean_request_fits", lambda view, request: False)
        with transaction.atomic():
            answers.append(answer(send()))
            transaction.set_rollback(True)
        assert taken == [True], "only the first request took the fast path"
    return answers[0], answers[1]


def post_raw(client: APIClient, body: str | bytes, **extra: Any) -> Any:
    return client.generic("POST", "/api/generations", body, content_type="application/json", **extra)  # type: ignore[arg-type]


def start_with(client: APIClient, headers: dict[str, Any], **body: Any) -> Any:
    """A start (tests.generations.api.helpers.start) with these request headers (META names)."""
    return client.post("/api/generations", {"model": "test-image", "prompt": "a red cat", **body}, format="json",
                       **headers)


@pytest.fixture
def owner_start(rich_owner: User, owner_client: APIClient, image_model: AIModel) -> Callable[..., Send]:
    def send(**body: Any) -> Send:
        return lambda: start(owner_client, **body)

    return send


def test_the_view_is_configured_as_the_fast_path_assumes() -> None:
    assert lean_view_fits(GenerationsApi())


@pytest.mark.django_db
def test_a_start_answers_the_same_by_both_paths(monkeypatch, owner_start):
    fast, slow = both_paths(monkeypatch, owner_start(params={"aspect_ratio": "16:9"}, idempotency_key="same"))
    assert fast[0] == 201
    assert fast == slow


@pytest.mark.django_db
@pytest.mark.parametrize("accept", ["application/json", "*/*"])
def test_the_mini_apps_accept_takes_the_fast_path(monkeypatch, rich_owner, owner_client, image_model, accept):
    fast, slow = both_paths(monkeypatch, lambda: start_with(owner_client, {"HTTP_ACCEPT": accept}))
    assert fast[0] == 201
    assert fast == slow


@pytest.mark.django_db
def test_the_idempotency_key_header_answers_the_same(monkeypatch, rich_owner, owner_client, image_model):
    fast, slow = both_paths(monkeypatch, lambda: start_with(owner_client, {"HTTP_IDEMPOTENCY_KEY": "by-header"}))
    assert fast[0] == 201 and fast[2]["idempotency_key"] == "by-header"
    assert fast == slow


@pytest.mark.django_db
def test_a_user_of_another_language_is_answered_in_it_by_both(monkeypatch, image_model):
    client = api_client_for(3003, language_code="ru")
    fast, slow = both_paths(monkeypatch, lambda: start(client))
    assert fast[0] == 402
    assert ("Content-Language", "ru") in fast[1]
    assert fast == slow


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("authorization", "status", "code"),
    [
        ("tma garbage", 401, "AUTH_INVALID"),
        ("Bearer abc", 401, "AUTH_INVALID"),
        ("tma ", 401, "AUTH_INVALID"),
        ("expired", 401, "AUTH_EXPIRED"),
    ],
)
def test_refused_init_data_answers_the_same(monkeypatch, owner, image_model, authorization, status, code):
    if authorization == "expired":
        authorization = f"tma {init_data_for(OWNER_TELEGRAM_ID, auth_date=1_000_000_000)}"
    client = APIClient()
    fast, slow = both_paths(monkeypatch, lambda: start_with(client, {"HTTP_AUTHORIZATION": authorization}))
    assert (fast[0], fast[2]["code"]) == (status, code)
    assert ("WWW-Authenticate", "tma") in fast[1]
    assert fast == slow


@pytest.mark.django_db
def test_a_banned_user_is_answered_the_same(monkeypatch, owner, owner_client, image_model):
    User.objects.filter(pk=owner.pk).update(is_banned=True)
    fast, slow = both_paths(monkeypatch, lambda: start(owner_client))
    assert (fast[0], fast[2]["code"]) == (403, "USER_BANNED")
    assert fast == slow


@pytest.mark.django_db
@pytest.mark.parametrize(
    "body",
    [
        "{",
        "[1]",
        "null",
        '"text"',
        '{"model": "test-image", "prompt": "\\ud800"}',
        '{"model": "test-image", "prompt": "x", "params": {"seed": 1e400}}',
        '{"model": "test-image", "prompt": "x", "params": {"seed": 99999999999999999999}}',
        '{"model": "test-image", "prompt": ""}',
        '{"model": "test-image", "prompt": "x", "params": {"seed": 5000}}',
        '{"model": "test-image", "prompt": "x", "idempotency_key": "bad key!"}',
        '{"model": 5}',
        b'{"model": "test-image", "prompt": "\xff"}',
    ],
)
def test_a_bad_body_is_answered_the_same(monkeypatch, owner_start, owner_client, body):
    fast, slow = both_paths(monkeypatch, lambda: post_raw(owner_client, body))
    assert fast[0] == 400, fast
    assert fast == slow


@pytest.mark.django_db
def test_a_body_and_header_key_that_differ_answer_the_same(monkeypatch, owner_start, owner_client):
    fast, slow = both_paths(
        monkeypatch, lambda: start_with(owner_client, {"HTTP_IDEMPOTENCY_KEY": "two"}, idempotency_key="one")
    )
    assert (fast[0], fast[2]["code"]) == (400, "VALIDATION_ERROR")
    assert fast == slow


@pytest.mark.django_db
def test_refusals_of_the_start_answer_the_same(monkeypatch, owner_start, owner_client, inactive_model, settings):
    assert start(owner_client, idempotency_key="taken").status_code == 201
    cases = {
        "MODEL_UNAVAILABLE": owner_start(model="test-retired"),
        "DUPLICATE_REQUEST": owner_start(idempotency_key="taken"),
        "IDEMPOTENCY_KEY_REUSED": owner_start(idempotency_key="taken", prompt="another"),
    }
    for code, send in cases.items():
        fast, slow = both_paths(monkeypatch, send)
        assert fast[2]["code"] == code
        assert fast == slow
        monkeypatch.undo()
    settings.GENERATION_MAX_ACTIVE = 1
    fast, slow = both_paths(monkeypatch, owner_start())
    assert (fast[0], fast[2]["code"]) == (429, "MAX_ACTIVE_GENERATIONS")
    assert ("Retry-After", str(settings.GENERATION_MAX_ACTIVE_RETRY_AFTER)) in fast[1]
    assert fast == slow


@pytest.mark.django_db
def test_a_bug_is_answered_the_same(monkeypatch, owner_start, caplog):
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(generations_api, "generation_start", broken)
    fast, slow = both_paths(monkeypatch, owner_start())
    assert (fast[0], fast[2]["code"]) == (500, "INTERNAL_ERROR")
    assert fast == slow


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("path", "extra"),
    [
        ("/api/generations", {"HTTP_ACCEPT": "application/json; indent=4"}),
        ("/api/generations", {"HTTP_ACCEPT": "text/html"}),
        ("/api/generations", {"HTTP_ACCEPT": ""}),
        ("/api/generations?format=json", {}),
        ("/api/generations", {"content_type": "application/json; charset=utf-8"}),
        ("/api/generations", {"HTTP_AUTHORIZATION": ""}),
        ("/api/generations", {"CONTENT_LENGTH": "0"}),
    ],
)
def test_anything_but_a_plain_start_goes_through_drf(monkeypatch, owner_start, path, extra):
    taken: list[bool] = []
    monkeypatch.setattr(GenerationsApi, "start_fast", lambda *args, **kwargs: taken.append(True))
    headers = {"HTTP_AUTHORIZATION": f"tma {init_data_for(OWNER_TELEGRAM_ID, first_name='Owner', username='owner')}"}
    body = json.dumps({"model": "test-image", "prompt": "x"})
    APIClient().generic("POST", path, body, **{"content_type": "application/json", **headers, **extra})
    assert not taken


@pytest.mark.django_db
def test_a_forced_authentication_goes_through_drf(monkeypatch, rich_owner, image_model):
    taken: list[bool] = []
    monkeypatch.setattr(GenerationsApi, "start_fast", lambda *args, **kwargs: taken.append(True))
    client = APIClient()
    client.force_authenticate(rich_owner)
    assert start(client).status_code == 201
    assert not taken
