"""The worker runs a generation to its end against the fake AIML API: results stored,
failures refunded once with a readable error, transient errors retried by schedule."""

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_q.models import Schedule
from PIL import Image

from accounts.models import CreditKind, CreditLedgerEntry
from core.task_names import GENERATION_ATTEMPT
from generations.failures import FailureCode
from generations.models import AIModel, Generation
from generations.services.worker import retry_delay
from generations.tasks import generation_attempt, generation_run
from tests.factories import AIModelFactory, GenerationFactory
from tests.fakes.aimlapi import IMAGES, VIDEOS, Reply, error_body
from tests.generations.steps import scheduled_steps_run

pytestmark = pytest.mark.django_db

Status = Generation.Status


def ledger(generation: Generation) -> list[tuple[str, int]]:
    return list(
        CreditLedgerEntry.objects.filter(reference=f"generation:{generation.pk}")
        .order_by("id")
        .values_list("kind", "amount")
    )


@pytest.fixture
def image_model(db):
    return AIModelFactory.create(kind=AIModel.Kind.IMAGE, price=4)


@pytest.fixture
def video_model(db):
    return AIModelFactory.create(kind=AIModel.Kind.VIDEO, price=20)


def test_image_success_stores_the_result_and_completes(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.image_succeeds(shape="images")

    assert generation_run(generation.pk) == "completed"

    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert (generation.attempts, generation.refunded, generation.error_code) == (1, False, "")
    assert generation.result_content_type == "image/png"
    assert generation.result_file.name.startswith(f"generations/{timezone.now():%Y/%m/%d}/{generation.pk}-")
    with default_storage.open(generation.result_file.name) as stored, Image.open(stored) as image:
        assert image.size == (64, 48)
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -4)]
    owner.refresh_from_db()
    assert owner.credits == 0
    # The download of the result never carries the provider's key.
    [download] = fake_aimlapi.requests_to("GET", "/files/result.png")
    assert "Authorization" not in download.headers


def test_permanent_provider_error_fails_and_refunds_once(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(400, json=error_body(400, "prompt violates policy XYZ-123")))

    assert generation_run(generation.pk) == "failed"

    generation.refresh_from_db()
    assert (generation.status, generation.refunded) == (Status.FAILED, True)
    assert generation.error_code == FailureCode.PROMPT_REJECTED
    assert generation.error_message == str(FailureCode.PROMPT_REJECTED.label)
    # Nothing of the provider's answer reaches the user.
    for leak in ("XYZ-123", "400", "HTTP", "test-aimlapi-secret-key", "Traceback"):
        assert leak not in generation.error_message
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -4), (CreditKind.GENERATION_REFUND, 4)]
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 1  # a 4xx is not retried
    assert not Schedule.objects.filter(func=GENERATION_ATTEMPT).exists()


def test_the_error_message_is_in_the_users_language(owner, image_model, fake_aimlapi, audit_passes):
    owner.language_code = "ru"
    owner.save(update_fields=["language_code"])
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(401, json=error_body(401, "Invalid API key")))

    generation_run(generation.pk)

    generation.refresh_from_db()
    assert generation.error_code == FailureCode.PROVIDER_ERROR
    assert generation.error_message == "Сервис генерации не смог создать этот результат."


def test_transient_error_then_success_completes_with_one_charge(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(503, json=error_body(503, "overloaded")))
    fake_aimlapi.image_succeeds()

    assert generation_run(generation.pk) == "retry_scheduled"
    generation.refresh_from_db()
    assert (generation.status, generation.attempts) == (Status.PROCESSING, 1)
    assert scheduled_steps_run() == ["completed"]

    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.refunded) == (Status.COMPLETED, 2, False)
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -4)]
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 2


@pytest.mark.parametrize(
    "reply",
    [
        Reply(429, json=error_body(429, "slow down")),
        Reply(500, json=error_body(500, "boom")),
        Reply(504, json=error_body(504, "gateway timeout")),
        Reply(json={"data": [{"url": "http://x/y.png"}]}, delay=2.0),
        Reply(body=b"<html>bad gateway</html>"),
    ],
    ids=["429", "500", "504", "read-timeout", "malformed-json"],
)
def test_transient_errors_are_retried_a_bounded_number_of_times(
    owner, image_model, fake_aimlapi, settings, audit_passes, reply
):
    settings.GENERATION_PROVIDER_MAX_ATTEMPTS = 3
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, reply, reply, reply, reply)

    assert generation_run(generation.pk) == "retry_scheduled"
    assert scheduled_steps_run() == ["retry_scheduled", "failed"]

    generation.refresh_from_db()
    assert (generation.status, generation.attempts, generation.refunded) == (Status.FAILED, 3, True)
    assert generation.error_code == FailureCode.PROVIDER_UNAVAILABLE
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 3
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -4), (CreditKind.GENERATION_REFUND, 4)]


def test_a_retry_is_scheduled_after_a_backoff_not_slept(owner, image_model, fake_aimlapi, settings):
    settings.GENERATION_RETRY_BASE_SECONDS = 40
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(500, json=error_body(500, "boom")))
    before = timezone.now()

    assert generation_run(generation.pk) == "retry_scheduled"

    [schedule] = Schedule.objects.filter(func=GENERATION_ATTEMPT)
    generation.refresh_from_db()
    assert schedule.schedule_type == Schedule.ONCE
    assert schedule.args == repr(generation.pk)
    assert schedule.next_run == generation.next_check_at
    # First retry: between half and all of the base delay (equal jitter).
    assert before + timedelta(seconds=20) <= schedule.next_run <= timezone.now() + timedelta(seconds=40)
    # A delivery before it is due does nothing, and calls nobody.
    assert generation_attempt(generation.pk) == "skipped"
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 1


def test_retry_after_is_respected(owner, image_model, fake_aimlapi, settings):
    settings.GENERATION_RETRY_BASE_SECONDS = 1
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(429, json=error_body(429, "later"), headers={"Retry-After": "90"}))
    before = timezone.now()

    generation_run(generation.pk)

    generation.refresh_from_db()
    assert generation.next_check_at is not None
    assert generation.next_check_at >= before + timedelta(seconds=90)


def test_backoff_grows_exponentially_with_jitter_and_a_ceiling(settings):
    settings.GENERATION_RETRY_BASE_SECONDS = 10
    settings.GENERATION_RETRY_MAX_SECONDS = 60
    for attempt, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
        delays = {retry_delay(attempt=attempt) for _ in range(50)}
        assert all(ceiling / 2 <= delay <= ceiling for delay in delays)
        assert len(delays) > 1  # jittered


def test_no_retry_that_would_come_after_the_timeout(owner, image_model, fake_aimlapi, settings, audit_passes):
    settings.GENERATION_RETRY_BASE_SECONDS = 600
    generation = GenerationFactory.create(
        user=owner, model=image_model, timeout_at=timezone.now() + timedelta(minutes=2)
    )
    fake_aimlapi.script("POST", IMAGES, Reply(502, json=error_body(502, "bad gateway")))

    assert generation_run(generation.pk) == "failed"
    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == (Status.FAILED, FailureCode.PROVIDER_UNAVAILABLE)


def test_video_is_created_then_polled_by_scheduled_steps(owner, video_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=video_model, prompt="waves at dusk")
    fake_aimlapi.video_job("gen-77", statuses=("queued", "generating", "completed"))

    assert generation_run(generation.pk) == "poll_scheduled"
    generation.refresh_from_db()
    assert (generation.provider_job_id, generation.status) == ("gen-77", Status.PROCESSING)

    assert scheduled_steps_run() == ["poll_scheduled", "poll_scheduled", "completed"]

    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert generation.result_content_type == "video/mp4"
    assert generation.result_file.name.endswith(".mp4")
    assert generation.attempts == 1  # polls are not attempts
    assert len(fake_aimlapi.requests_to("POST", VIDEOS)) == 1
    assert [r.query["generation_id"] for r in fake_aimlapi.requests_to("GET", VIDEOS)] == [["gen-77"]] * 3


def test_a_transient_poll_error_polls_again(owner, video_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=video_model)
    fake_aimlapi.video_job("gen-5", statuses=())
    fake_aimlapi.script("GET", VIDEOS, Reply(500, json=error_body(500, "poll broke")))
    fake_aimlapi.script("GET", VIDEOS, Reply(json={"id": "gen-5", "status": "completed",
                                                   "video": {"url": fake_aimlapi.base_url + "/files/result.mp4"}}))

    generation_run(generation.pk)
    assert scheduled_steps_run() == ["retry_scheduled", "completed"]
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED


def test_a_video_job_that_errors_fails_and_refunds(owner, video_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=video_model)
    fake_aimlapi.video_job("gen-9", statuses=("generating", "error"))

    generation_run(generation.pk)
    assert scheduled_steps_run() == ["poll_scheduled", "failed"]

    generation.refresh_from_db()
    assert (generation.status, generation.refunded, generation.error_code) == (
        Status.FAILED, True, FailureCode.PROVIDER_ERROR
    )
    assert "crashed" not in generation.error_message


def test_polling_ends_with_timeout_when_the_job_outlives_timeout_at(owner, video_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=video_model)
    fake_aimlapi.video_job("gen-slow", statuses=("generating",))
    generation_run(generation.pk)
    # Time passes: the generation's deadline is behind us when the next poll is due.
    Generation.objects.filter(pk=generation.pk).update(timeout_at=timezone.now() - timedelta(seconds=1))

    assert scheduled_steps_run() == ["failed"]

    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.refunded) == (Status.FAILED, "TIMEOUT", True)
    assert len(fake_aimlapi.requests_to("GET", VIDEOS)) == 0


def test_a_result_url_that_404s_fails_and_refunds(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": fake_aimlapi.base_url + "/files/gone.png"}]}))

    assert generation_run(generation.pk) == "failed"

    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.refunded) == (
        Status.FAILED, FailureCode.RESULT_UNAVAILABLE, True
    )


def test_a_result_that_is_not_an_image_fails_and_refunds(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    url = fake_aimlapi.serve_file("error.png", b"<html>Access denied</html>", "image/png")
    fake_aimlapi.script("POST", IMAGES, Reply(json={"data": [{"url": url}]}))

    assert generation_run(generation.pk) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == FailureCode.RESULT_UNAVAILABLE
    assert not generation.result_file


def test_a_finished_generation_is_left_alone(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    fake_aimlapi.image_succeeds()
    generation_run(generation.pk)

    assert generation_run(generation.pk) == "skipped"
    assert generation_attempt(generation.pk) == "skipped"
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 1


def test_a_broken_base_url_fails_without_internals(owner, image_model, settings, audit_passes):
    settings.AIMLAPI_KEY = "k"
    settings.AIMLAPI_BASE_URL = "http://[::1"
    generation = GenerationFactory.create(user=owner, model=image_model)

    assert generation_run(generation.pk) == "failed"

    generation.refresh_from_db()
    assert (generation.status, generation.error_code) == (Status.FAILED, FailureCode.PROVIDER_ERROR)
    assert "::1" not in generation.error_message


def test_an_unexpected_error_fails_and_refunds_without_internals(owner, image_model, fake_aimlapi, audit_passes):
    generation = GenerationFactory.create(user=owner, model=image_model)
    # Data no code path expects (parameters must be an object): a bug, not the provider.
    Generation.objects.filter(pk=generation.pk).update(params=["not", "an", "object"])

    assert generation_run(generation.pk) == "failed"

    generation.refresh_from_db()
    assert (generation.status, generation.refunded) == (Status.FAILED, True)
    assert generation.error_code == FailureCode.INTERNAL_ERROR
    assert generation.error_message == str(FailureCode.INTERNAL_ERROR.label)
    assert fake_aimlapi.requests == []
