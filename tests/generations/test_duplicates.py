"""Deliveries are at least once: the same task delivered twice, at once or later, does
the work once; a killed worker's generation is taken over once its lease ran out."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.models import CreditKind, CreditLedgerEntry
from generations.models import AIModel, Generation
from generations.tasks import generation_attempt, generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import IMAGES, VIDEOS, Reply, error_body, png_bytes
from tests.generations.steps import scheduled_steps_run
from tests.helpers import run_in_threads

Status = Generation.Status


def refunds(generation: Generation) -> int:
    return CreditLedgerEntry.objects.filter(
        reference=f"generation:{generation.pk}", kind=CreditKind.GENERATION_REFUND
    ).count()


@pytest.mark.django_db(transaction=True)
def test_the_same_task_delivered_twice_at_once_produces_one_result(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    # Slow enough that both deliveries are in flight together.
    url = fake_aimlapi.serve_file("once.png", png_bytes(), "image/png")
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": url}]}, delay=0.2))
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": url}]}))

    outcomes = run_in_threads(4, lambda i: generation_run(generation.pk))

    assert sorted(outcomes) == ["completed", "skipped", "skipped", "skipped"]
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 1
    generation.refresh_from_db()
    assert (generation.status, generation.attempts, refunds(generation)) == (Status.COMPLETED, 1, 0)


@pytest.mark.django_db(transaction=True)
def test_a_failure_delivered_twice_at_once_refunds_once(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    for _ in range(4):
        fake_aimlapi.script("POST", IMAGES, Reply(400, json=error_body(400, "bad prompt"), delay=0.1))

    outcomes = run_in_threads(4, lambda i: generation_run(generation.pk))

    assert sorted(outcomes) == ["failed", "skipped", "skipped", "skipped"]
    generation.refresh_from_db()
    assert (generation.status, refunds(generation)) == (Status.FAILED, 1)
    owner.refresh_from_db()
    assert owner.credits == generation.credits_charged


@pytest.mark.django_db
def test_a_late_redelivery_of_the_first_task_does_nothing(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.VIDEO))
    fake_aimlapi.video_job("gen-1", statuses=("completed",))
    assert generation_run(generation.pk) == "poll_scheduled"

    # The first delivery is redelivered while its next poll is not due yet.
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now() + timedelta(seconds=30))
    assert generation_run(generation.pk) == "skipped"
    assert generation_attempt(generation.pk) == "skipped"
    assert len(fake_aimlapi.requests_to("POST", VIDEOS)) == 1
    assert fake_aimlapi.requests_to("GET", VIDEOS) == []


@pytest.mark.django_db(transaction=True)
def test_duplicate_poll_deliveries_poll_once(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.VIDEO))
    fake_aimlapi.video_job("gen-2", statuses=())
    for _ in range(4):
        fake_aimlapi.script("GET", VIDEOS, Reply(json={"id": "gen-2", "status": "generating"}, delay=0.1))
    assert generation_run(generation.pk) == "poll_scheduled"

    outcomes = run_in_threads(4, lambda i: generation_attempt(generation.pk))

    assert sorted(outcomes) == ["poll_scheduled", "skipped", "skipped", "skipped"]
    assert len(fake_aimlapi.requests_to("GET", VIDEOS)) == 1


@pytest.mark.django_db
def test_a_killed_workers_generation_is_taken_over_after_its_lease(owner, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    fake_aimlapi.image_succeeds()
    # A worker claimed it and died in the middle of the provider call.
    claimed_at = timezone.now()
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.PROCESSING, started_at=claimed_at, attempts=1, next_check_at=claimed_at + timedelta(seconds=125)
    )

    # While the lease runs, a redelivery keeps out of the way...
    assert generation_run(generation.pk) == "skipped"
    # ...once it has run out, the redelivery (or the sweeper's) takes over: one more attempt.
    Generation.objects.filter(pk=generation.pk).update(next_check_at=timezone.now() - timedelta(seconds=1))
    assert generation_run(generation.pk) == "completed"

    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == (Status.COMPLETED, 2)


@pytest.mark.django_db
def test_a_takeover_beyond_the_attempt_limit_fails_and_refunds(owner, settings, fake_aimlapi, audit_passes):
    settings.GENERATION_PROVIDER_MAX_ATTEMPTS = 2
    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    # Two workers died in the middle of their calls already.
    Generation.objects.filter(pk=generation.pk).update(
        status=Status.PROCESSING, attempts=2, next_check_at=timezone.now() - timedelta(seconds=1)
    )

    assert generation_attempt(generation.pk) == "failed"

    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.refunded) == (
        Status.FAILED, "PROVIDER_UNAVAILABLE", True
    )
    assert fake_aimlapi.requests == []


@pytest.mark.django_db
def test_scheduled_step_of_a_cancelled_generation_does_nothing(owner, fake_aimlapi, audit_passes):
    from generations.services import generation_cancel_if_active

    generation = GenerationFactory.create(user=owner, model=AIModelFactory.create(kind=AIModel.Kind.IMAGE))
    fake_aimlapi.script("POST", IMAGES, Reply(500, json=error_body(500, "boom")))
    assert generation_run(generation.pk) == "retry_scheduled"
    assert generation_cancel_if_active(generation_id=generation.pk)

    assert scheduled_steps_run() == ["skipped"]
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 1
