"""The active limit, the rate limit and credits hold exactly under concurrency."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import Generation
from tests.generations.api.helpers import IMAGE_PRICE, assert_error, balance, owner_client_new, start
from tests.helpers import credits_give, run_in_threads

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)
def test_ten_concurrent_starts_create_exactly_the_active_limit(rich_owner, image_model, audit_passes):
    results = run_in_threads(10, lambda i: start(owner_client_new(rich_owner), prompt=f"cat {i}"))

    statuses = sorted(response.status_code for response in results)
    assert statuses == [201] * 5 + [429] * 5, [r.content for r in results]
    for response in results:
        if response.status_code == 429:
            assert response.json()["code"] == "MAX_ACTIVE_GENERATIONS"
            assert int(response["Retry-After"]) >= 1
    assert Generation.objects.filter(status=Generation.Status.PENDING).count() == 5
    assert balance(rich_owner) == 10_000 - 5 * IMAGE_PRICE
    assert CreditLedgerEntry.objects.filter(kind=CreditKind.GENERATION_CHARGE).count() == 5


@pytest.mark.django_db(transaction=True)
def test_credits_for_exactly_two_make_exactly_two_of_six_concurrent_starts(owner, image_model, audit_passes):
    credits_give(owner, 2 * IMAGE_PRICE)
    results = run_in_threads(6, lambda i: start(owner_client_new(owner), prompt=f"cat {i}"))

    statuses = sorted(response.status_code for response in results)
    assert statuses == [201] * 2 + [402] * 4, [r.content for r in results]
    for response in results:
        if response.status_code == 402:
            body = response.json()
            assert body["code"] == "INSUFFICIENT_CREDITS"
            assert body["details"]["price"] == IMAGE_PRICE
            assert 0 <= body["details"]["balance"] < IMAGE_PRICE
    assert Generation.objects.count() == 2
    assert balance(owner) == 0


def test_the_eleventh_start_within_a_minute_is_rate_limited(rich_owner, owner_client, image_model, audit_passes):
    for i in range(10):
        created = start(owner_client, prompt=f"cat {i}")
        assert created.status_code == 201, created.content
        assert owner_client.post(f"/api/generations/{created.json()['id']}/cancel").status_code == 200

    response = start(owner_client, prompt="the eleventh")
    body = assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 60
    assert body["details"] == {"limit": 10, "retry_after": retry_after}
    assert Generation.objects.count() == 10
    # Ten charges, ten refunds, nothing for the refused one.
    assert balance(rich_owner) == 10_000


@override_settings(GENERATION_MAX_ACTIVE=100)
def test_retry_after_counts_from_the_oldest_start_in_the_window(rich_owner, owner_client, image_model):
    for i in range(10):
        assert start(owner_client, prompt=f"cat {i}").status_code == 201
    now = timezone.now()
    oldest = Generation.objects.order_by("id").first()
    Generation.objects.filter(pk=oldest.pk).update(created_at=now - timedelta(seconds=50))
    Generation.objects.exclude(pk=oldest.pk).update(created_at=now - timedelta(seconds=20))

    response = start(owner_client)
    assert_error(response, 429, "RATE_LIMIT_EXCEEDED")
    # The oldest start leaves the window 10 s after `now` (a little less by the time
    # it is checked); counting from any other start would say 40.
    assert 5 <= int(response["Retry-After"]) <= 10


@override_settings(GENERATION_MAX_ACTIVE=100)
def test_starts_older_than_a_minute_do_not_count(rich_owner, owner_client, image_model):
    for i in range(10):
        assert start(owner_client, prompt=f"cat {i}").status_code == 201
    Generation.objects.update(created_at=timezone.now() - timedelta(seconds=61))
    assert start(owner_client).status_code == 201


@override_settings(GENERATION_RATE_LIMIT_PER_MINUTE=3, GENERATION_MAX_ACTIVE=100)
def test_rate_limit_is_a_setting(rich_owner, owner_client, image_model):
    for _ in range(3):
        assert start(owner_client).status_code == 201
    assert_error(start(owner_client), 429, "RATE_LIMIT_EXCEEDED")


@override_settings(GENERATION_MAX_ACTIVE=2, GENERATION_MAX_ACTIVE_RETRY_AFTER=7)
def test_active_limit_is_a_setting_and_frees_when_one_ends(rich_owner, owner_client, image_model, audit_passes):
    first = start(owner_client).json()
    assert start(owner_client).status_code == 201
    response = start(owner_client)
    body = assert_error(response, 429, "MAX_ACTIVE_GENERATIONS")
    assert response["Retry-After"] == "7"
    assert body["details"] == {"limit": 2, "active": 2}

    assert owner_client.post(f"/api/generations/{first['id']}/cancel").status_code == 200
    assert start(owner_client).status_code == 201


def test_processing_generations_count_as_active(rich_owner, owner_client, image_model):
    for _ in range(5):
        assert start(owner_client).status_code == 201
    Generation.objects.update(status=Generation.Status.PROCESSING)
    assert_error(start(owner_client), 429, "MAX_ACTIVE_GENERATIONS")


def test_limits_are_per_user(rich_owner, stranger, owner_client, stranger_client, image_model):
    for _ in range(5):
        assert start(owner_client).status_code == 201
    credits_give(stranger, IMAGE_PRICE)
    assert start(stranger_client).status_code == 201
