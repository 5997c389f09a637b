"""POST /api/generations: a successful start, its debit, its hand-off to the worker,
and the contract's check order."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django_q.models import OrmQ

from accounts.models import CreditKind, CreditLedgerEntry
from accounts.services import user_set_banned
from generations.models import Generation
from generations.services import generation_reference
from tests.generations.api.helpers import IMAGE_PRICE, VIDEO_PRICE, assert_error, balance, start
from tests.helpers import api_client_for, credits_give

pytestmark = pytest.mark.django_db

GENERATION_KEYS = {
    "id", "model", "kind", "prompt", "params", "status", "credits_charged", "refunded", "images", "result",
    "results", "error", "idempotency_key", "created_at", "started_at", "finished_at",
}


def test_start_debits_the_price_and_returns_the_pending_generation(
    rich_owner, owner_client, image_model, audit_passes, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = start(owner_client, prompt="  a red cat on a roof \n", params={"seed": 7})

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == GENERATION_KEYS
    generation = Generation.objects.get()
    assert body["id"] == generation.pk
    assert body["model"] == "test-image"
    assert body["kind"] == "image"
    assert body["prompt"] == "a red cat on a roof"
    assert body["params"] == {"aspect_ratio": "1:1", "seed": 7, "raw": False}  # defaults filled in
    assert body["status"] == "pending"
    assert body["credits_charged"] == IMAGE_PRICE
    assert body["refunded"] is False
    assert body["result"] is None and body["error"] is None
    assert body["images"] == [] and body["results"] == []
    assert body["idempotency_key"] is None
    assert body["started_at"] is None and body["finished_at"] is None
    assert response["Location"].endswith(f"/api/generations/{generation.pk}")

    assert balance(rich_owner) == 10_000 - IMAGE_PRICE
    charge = CreditLedgerEntry.objects.get(kind=CreditKind.GENERATION_CHARGE)
    assert (charge.user_id, charge.amount, charge.reference) == (
        rich_owner.pk, -IMAGE_PRICE, generation_reference(generation.pk)
    )
    assert abs(generation.timeout_at - generation.created_at - timedelta(minutes=15)) < timedelta(seconds=1)


def test_start_hands_the_generation_to_the_worker_after_commit(
    rich_owner, owner_client, image_model, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = start(owner_client)
        # Nothing is queued before the transaction commits.
        assert OrmQ.objects.count() == 0
    assert response.status_code == 201
    assert len(callbacks) == 1
    callbacks[0]()

    task = OrmQ.objects.get().task
    assert task["func"] == "generations.tasks.generation_run"
    assert task["args"] == (response.json()["id"],)


def test_video_start_uses_the_model_kind_and_price(rich_owner, owner_client, video_model, audit_passes):
    response = start(owner_client, model="test-video", params={"duration": 10})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["kind"], body["credits_charged"], body["params"]) == ("video", VIDEO_PRICE, {"duration": 10})
    assert balance(rich_owner) == 10_000 - VIDEO_PRICE


@override_settings(GENERATION_TIMEOUT_SECONDS=60)
def test_timeout_comes_from_the_setting(rich_owner, owner_client, image_model):
    assert start(owner_client).status_code == 201
    generation = Generation.objects.get()
    assert abs(generation.timeout_at - generation.created_at - timedelta(seconds=60)) < timedelta(seconds=1)


def test_not_enough_credits_is_402_with_balance_and_price(owner, owner_client, image_model, audit_passes):
    credits_give(owner, IMAGE_PRICE - 1)
    body = assert_error(start(owner_client), 402, "INSUFFICIENT_CREDITS")
    assert body["details"] == {"balance": IMAGE_PRICE - 1, "price": IMAGE_PRICE}
    assert not Generation.objects.exists()
    assert balance(owner) == IMAGE_PRICE - 1


def test_exact_balance_is_enough_and_leaves_zero(owner, owner_client, image_model, audit_passes):
    credits_give(owner, IMAGE_PRICE)
    assert start(owner_client).status_code == 201
    assert balance(owner) == 0


def test_banned_user_gets_403_and_nothing_is_written(rich_owner, owner_client, image_model, audit_passes):
    user_set_banned(user=rich_owner, banned=True)
    assert_error(start(owner_client), 403, "USER_BANNED")
    assert not Generation.objects.exists()
    assert balance(rich_owner) == 10_000


def test_anonymous_start_is_401(anonymous_client, image_model):
    assert_error(start(anonymous_client), 401, "AUTH_REQUIRED")


def test_messages_are_in_the_users_language(image_model):
    client = api_client_for(7007, language_code="ru")
    body = assert_error(start(client, model="no-such-model"), 400, "MODEL_UNAVAILABLE")
    assert "модель" in body["message"].lower()
    body = assert_error(start(client), 402, "INSUFFICIENT_CREDITS")
    assert "кредит" in body["message"].lower()


# --- Check order: validation, idempotency, rate limit, active limit, credits ---------


def test_validation_comes_before_idempotency(rich_owner, owner_client, image_model):
    assert start(owner_client, idempotency_key="k1").status_code == 201
    assert_error(start(owner_client, prompt="  ", idempotency_key="k1"), 400, "VALIDATION_ERROR")


@override_settings(GENERATION_RATE_LIMIT_PER_MINUTE=1)
def test_idempotent_repeat_comes_before_the_rate_limit(rich_owner, owner_client, image_model):
    first = start(owner_client, idempotency_key="k1")
    assert first.status_code == 201
    body = assert_error(start(owner_client, idempotency_key="k1"), 409, "DUPLICATE_REQUEST")
    assert body["generation"]["id"] == first.json()["id"]


@override_settings(GENERATION_RATE_LIMIT_PER_MINUTE=1, GENERATION_MAX_ACTIVE=1)
def test_rate_limit_comes_before_the_active_limit(rich_owner, owner_client, image_model):
    assert start(owner_client).status_code == 201
    assert_error(start(owner_client), 429, "RATE_LIMIT_EXCEEDED")


@override_settings(GENERATION_MAX_ACTIVE=1)
def test_active_limit_comes_before_credits(owner, owner_client, image_model, audit_passes):
    credits_give(owner, IMAGE_PRICE)
    assert start(owner_client).status_code == 201
    assert balance(owner) == 0
    assert_error(start(owner_client), 429, "MAX_ACTIVE_GENERATIONS")


def test_idempotent_repeat_comes_before_credits(owner, owner_client, image_model, audit_passes):
    # The repeat cannot be debited (the balance is 0): the lock-first path must still
    # find the original before it looks at credits.
    credits_give(owner, IMAGE_PRICE)
    first = start(owner_client, idempotency_key="k1")
    assert first.status_code == 201
    body = assert_error(start(owner_client, idempotency_key="k1"), 409, "DUPLICATE_REQUEST")
    assert body["generation"]["id"] == first.json()["id"]
    assert_error(start(owner_client, idempotency_key="k1", prompt="another"), 422, "IDEMPOTENCY_KEY_REUSED")
    assert balance(owner) == 0
