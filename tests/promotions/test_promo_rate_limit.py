"""Promo code attempts are rate-limited per user, failed ones included, so codes cannot
be guessed by brute force (PROMO_RATE_LIMIT_ATTEMPTS per PROMO_RATE_LIMIT_WINDOW_SECONDS)."""

from datetime import timedelta

import pytest

from promotions.models import PromoAttempt, PromoRedemption
from tests.factories import PromoCodeFactory
from tests.helpers import api_client_for, run_in_threads
from tests.promotions.helpers import assert_error_body, balance, redeem


@pytest.fixture
def limit(settings):
    settings.PROMO_RATE_LIMIT_ATTEMPTS = 10
    settings.PROMO_RATE_LIMIT_WINDOW_SECONDS = 600
    return settings


@pytest.mark.django_db
def test_ten_wrong_guesses_then_even_the_right_code_waits(owner, owner_client, stranger_client, limit, clock,
                                                        audit_passes):
    PromoCodeFactory.create(code="REAL", credits=9)
    for guess in range(10):
        assert_error_body(redeem(owner_client, f"GUESS{guess}"), 404, "PROMO_NOT_FOUND")

    clock.set(clock.now + timedelta(seconds=60))
    response = redeem(owner_client, "REAL")
    assert_error_body(response, 429, "RATE_LIMIT_EXCEEDED", details={"retry_after": 540})
    assert response["Retry-After"] == "540"
    assert balance(owner) == 0
    # The refused attempt is not counted: the window ends 10 minutes after the first guess.
    assert PromoAttempt.objects.filter(user=owner).count() == 10
    # Another user is not affected.
    assert redeem(stranger_client, "REAL").status_code == 200

    clock.set(clock.now + timedelta(seconds=540))
    assert redeem(owner_client, "REAL").status_code == 200
    assert balance(owner) == 9


@pytest.mark.django_db
def test_successful_and_repeated_redemptions_count_too(owner, owner_client, limit, clock, audit_passes):
    limit.PROMO_RATE_LIMIT_ATTEMPTS = 3
    PromoCodeFactory.create(code="ONE")
    assert redeem(owner_client, "ONE").status_code == 200
    assert redeem(owner_client, "ONE").status_code == 409
    assert redeem(owner_client, "ONE").status_code == 409
    assert_error_body(redeem(owner_client, "ONE"), 429, "RATE_LIMIT_EXCEEDED", details={"retry_after": 600})


@pytest.mark.django_db
def test_the_window_slides(owner, owner_client, limit, clock, audit_passes):
    limit.PROMO_RATE_LIMIT_ATTEMPTS = 2
    redeem(owner_client, "A1")
    clock.set(clock.now + timedelta(seconds=300))
    redeem(owner_client, "A2")
    clock.set(clock.now + timedelta(seconds=299))
    assert_error_body(redeem(owner_client, "A3"), 429, "RATE_LIMIT_EXCEEDED", details={"retry_after": 1})
    clock.set(clock.now + timedelta(seconds=1))  # the first attempt leaves the window
    assert_error_body(redeem(owner_client, "A3"), 404, "PROMO_NOT_FOUND")
    assert_error_body(redeem(owner_client, "A4"), 429, "RATE_LIMIT_EXCEEDED", details={"retry_after": 300})


@pytest.mark.django_db
def test_old_attempts_are_pruned(owner, owner_client, limit, clock):
    redeem(owner_client, "OLD")
    clock.set(clock.now + timedelta(days=2))
    redeem(owner_client, "NEW")
    assert list(PromoAttempt.objects.filter(user=owner).values_list("code", flat=True)) == ["NEW"]


@pytest.mark.django_db(transaction=True)
def test_thirty_guesses_at_once_count_exactly_ten(owner, limit, audit_passes):
    clients = [api_client_for(owner.telegram_id, first_name="Owner", username="owner") for _ in range(30)]

    responses = run_in_threads(30, lambda i: redeem(clients[i], f"BRUTE{i}"))

    statuses = sorted(r.status_code for r in responses)
    assert statuses == [404] * 10 + [429] * 20, [getattr(r, "content", r) for r in responses]
    assert PromoAttempt.objects.filter(user=owner).count() == 10
    assert not PromoRedemption.objects.exists()
