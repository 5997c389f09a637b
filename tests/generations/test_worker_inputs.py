"""The worker runs generations with input images, several results and the provider's
contract against the strict fake AIML API: edits and image-to-video with data URLs,
every result stored, costs kept, NSFW and text-only answers refused and refunded, an
account out of credits alerting the admins once, and a video create whose answer was
lost looked up instead of posted twice. Every money test ends with the audit."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.files.storage import default_storage
from django.utils import timezone
from django_q.models import OrmQ
from django_q.signing import SignedPackage

from accounts.models import CreditKind, CreditLedgerEntry, User
from generations.failures import FailureCode
from generations.models import AIModel, Generation
from generations.services import generation_start, upload_create_from_bytes
from generations.services.sweeper import generations_sweep
from generations.tasks import generation_run
from tests.fakes.aimlapi import IMAGES, LOGS, VIDEOS, Reply, error_body, image_of_data_url
from tests.generations.images import jpeg_bytes
from tests.generations.steps import scheduled_steps_run
from tests.helpers import credits_give

pytestmark = pytest.mark.django_db

Status = Generation.Status
ALERT_TASK = "telegram_bot.tasks.admin_alert_send"


@pytest.fixture(autouse=True)
def alerts_fresh():
    cache.clear()  # the alerts' rate limit lives in the cache
    yield
    cache.clear()


@pytest.fixture
def banana(db) -> AIModel:
    return AIModel.objects.create(
        slug="banana", name="Nano Banana", kind=AIModel.Kind.IMAGE,
        provider_model_id="google/gemini-2.5-flash-image",
        provider_model_id_with_images="google/gemini-2.5-flash-image-edit",
        images_max=3, price=10,
        params_schema={"aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"},
                       "num_images": {"type": "integer", "min": 1, "max": 4, "default": 1}},
        price_rule={"base": 10, "factors": {"num_images": "value"}},
    )


@pytest.fixture
def flux(db) -> AIModel:
    return AIModel.objects.create(
        slug="flux", name="FLUX", kind=AIModel.Kind.IMAGE, provider_model_id="flux/schnell", price=3,
        params_schema={"num_images": {"type": "integer", "min": 1, "max": 4, "default": 1}},
        price_rule={"base": 3, "factors": {"num_images": "value"}},
    )


@pytest.fixture
def kling(db) -> AIModel:
    return AIModel.objects.create(
        slug="kling", name="Kling", kind=AIModel.Kind.VIDEO,
        provider_model_id="klingai/v2.1-master-text-to-video",
        provider_model_id_with_images="klingai/v2.1-master-image-to-video",
        images_max=1, prompt_optional_with_images=True, price=150,
        params_schema={"aspect_ratio": {"type": "choice", "choices": ["16:9", "9:16", "1:1"], "default": "16:9",
                                        "with_images": False},
                       "duration": {"type": "choice", "choices": [5, 10], "default": 5}},
        price_rule={"base": 30, "factors": {"duration": "value"}},
        timeout_rule={"base": 1200, "factors": {"duration": {"5": 1, "10": 1.5}}},
    )


def start(user: User, model: AIModel, *, prompt: str = "a fox", params=None, photos: int = 0) -> Generation:
    credits_give(user, 1000)
    images = [str(upload_create_from_bytes(user=user, data=jpeg_bytes((40 + i, 20))).pk) for i in range(photos)]
    return generation_start(user=user, model_slug=model.slug, prompt=prompt, params=params, images=images)


def ledger(generation: Generation) -> list[tuple[str, int]]:
    return list(CreditLedgerEntry.objects.filter(reference=f"generation:{generation.pk}").order_by("id")
                .values_list("kind", "amount"))


def queued(func: str) -> list[dict]:
    tasks = [SignedPackage.loads(row.payload) for row in OrmQ.objects.order_by("id")]
    return [task for task in tasks if task["func"] == func]


def test_an_edit_sends_the_photos_to_the_edit_model_and_keeps_every_result(owner, banana, fake_aimlapi,
                                                                           audit_passes):
    generation = start(owner, banana, prompt="make it a watercolour", params={"num_images": 3}, photos=2)
    assert generation.credits_charged == 30
    fake_aimlapi.image_succeeds(shape="images", count=3, name="edit.png", cost="0.117")

    assert generation_run(generation.pk) == "completed"

    [call] = fake_aimlapi.requests_to("POST", IMAGES)
    assert call.json["model"] == "google/gemini-2.5-flash-image-edit"
    assert call.json["num_images"] == 3 and call.json["aspect_ratio"] == "1:1"
    # The stored (upright, clean) inputs, in the order of the start.
    sent = [image_of_data_url(url).size for url in call.json["image_urls"]]
    assert sent == [(40, 20), (41, 20)]
    assert call.headers["X-Client-Request-Id"] == f"nanogen-{generation.pk}-1"
    generation.refresh_from_db()
    assert generation.status == Status.COMPLETED
    assert len(generation.results) == 3
    assert generation.result_file.name == generation.results[0]["name"]
    assert all(default_storage.exists(item["name"]) for item in generation.results)
    assert generation.provider_cost_usd == Decimal("0.117")
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -30)]


def test_without_photos_the_text_model_draws(owner, banana, fake_aimlapi, audit_passes):
    generation = start(owner, banana)
    fake_aimlapi.image_succeeds()
    assert generation_run(generation.pk) == "completed"
    [call] = fake_aimlapi.requests_to("POST", IMAGES)
    assert call.json == {"model": "google/gemini-2.5-flash-image", "prompt": "a fox", "aspect_ratio": "1:1",
                         "num_images": 1}


def test_a_picture_is_animated_by_the_image_to_video_model(owner, kling, fake_aimlapi, audit_passes):
    generation = start(owner, kling, prompt="", photos=1)
    fake_aimlapi.video_job("job-anim", statuses=("generating", "completed"), cost="0.84")

    assert generation_run(generation.pk) == "poll_scheduled"
    assert scheduled_steps_run() == ["poll_scheduled", "completed"]

    [create] = fake_aimlapi.requests_to("POST", VIDEOS)
    assert create.json["model"] == "klingai/v2.1-master-image-to-video"
    assert "prompt" not in create.json and "aspect_ratio" not in create.json
    assert image_of_data_url(create.json["image_url"]).size == (40, 20)
    ids = {r.headers["X-Client-Request-Id"] for r in fake_aimlapi.requests if r.path == VIDEOS}
    assert ids == {f"nanogen-{generation.pk}-1"}
    generation.refresh_from_db()
    assert (generation.status, generation.provider_cost_usd) == (Status.COMPLETED, Decimal("0.84"))
    assert generation.results[0]["content_type"] == "video/mp4"


def test_out_of_credits_fails_refunds_and_alerts_the_admins_once(owner, stranger, banana, fake_aimlapi, settings,
                                                                audit_passes):
    settings.ADMIN_ALERT_CHAT_ID = "-100123"
    first, second = start(owner, banana), start(stranger, banana)
    fake_aimlapi.out_of_credits()
    fake_aimlapi.out_of_credits()

    assert generation_run(first.pk) == "failed"
    assert generation_run(second.pk) == "failed"

    for generation in (first, second):
        generation.refresh_from_db()
        assert (generation.status, generation.error_code, generation.refunded) == (
            Status.FAILED, FailureCode.PROVIDER_UNAVAILABLE, True)
        assert "credits" not in generation.error_message.lower()  # the user hears "try later"
        assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -10), (CreditKind.GENERATION_REFUND, 10)]
    [alert] = queued(ALERT_TASK)
    assert "out of credits" in alert["kwargs"]["text"]
    assert len(fake_aimlapi.requests_to("POST", IMAGES)) == 2  # a 403 is not retried


def test_no_alert_without_an_admin_chat(owner, banana, fake_aimlapi, settings, audit_passes):
    settings.ADMIN_ALERT_CHAT_ID = ""
    generation = start(owner, banana)
    fake_aimlapi.out_of_credits()
    assert generation_run(generation.pk) == "failed"
    assert queued(ALERT_TASK) == []


def test_flagged_images_are_not_delivered(owner, flux, fake_aimlapi, audit_passes):
    generation = start(owner, flux, params={"num_images": 3})
    fake_aimlapi.image_succeeds(shape="images", count=3, nsfw=[True, False, True], name="n.png", cost="0.009")
    assert generation_run(generation.pk) == "completed"
    generation.refresh_from_db()
    assert len(generation.results) == 1
    # One charge for the whole generation, whatever was delivered.
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -9)]


def test_all_images_flagged_fails_as_rejected_and_refunds_whole(owner, flux, fake_aimlapi, audit_passes):
    generation = start(owner, flux, params={"num_images": 2})
    fake_aimlapi.image_succeeds(shape="images", count=2, nsfw=[True, True], cost="0.006")
    assert generation_run(generation.pk) == "failed"
    generation.refresh_from_db()
    assert (generation.error_code, generation.refunded) == (FailureCode.PROMPT_REJECTED, True)
    assert generation.provider_cost_usd == Decimal("0.006")  # billed all the same: the margin shows it
    assert ledger(generation) == [(CreditKind.GENERATION_CHARGE, -6), (CreditKind.GENERATION_REFUND, 6)]


def test_a_text_only_answer_fails_as_rejected_and_keeps_the_reason_out_of_the_message(owner, banana,
                                                                                      fake_aimlapi,
                                                                                      audit_passes):
    generation = start(owner, banana, prompt="a famous person doing something odd")
    fake_aimlapi.image_text_only("I can't generate images of identifiable public figures.")
    assert generation_run(generation.pk) == "failed"
    generation.refresh_from_db()
    assert generation.error_code == FailureCode.PROMPT_REJECTED
    assert generation.error_message == str(FailureCode.PROMPT_REJECTED.label)
    assert "public figures" not in generation.error_message


def test_a_lost_video_create_is_looked_up_and_never_posted_twice(owner, kling, fake_aimlapi, audit_passes):
    generation = start(owner, kling, params={"duration": 10})
    # The create is accepted (job-lost) but its answer comes after the read timeout.
    fake_aimlapi.video_job("job-lost", statuses=("completed",), cost="1.68",
                           create=Reply(json={"id": "job-lost", "status": "queued"}, delay=2.0))

    assert generation_run(generation.pk) == "poll_scheduled"
    generation.refresh_from_db()
    assert generation.unconfirmed_request_id == f"nanogen-{generation.pk}-1"
    assert generation.provider_job_id == ""

    # The lookup finds the job, the poll finishes it.
    assert scheduled_steps_run() == ["poll_scheduled", "completed"]
    assert len(fake_aimlapi.requests_to("POST", VIDEOS)) == 1
    assert len(fake_aimlapi.requests_to("GET", LOGS)) == 1
    generation.refresh_from_db()
    assert (generation.status, generation.provider_job_id, generation.attempts) == (Status.COMPLETED, "job-lost", 1)
    assert generation.unconfirmed_request_id == "" and generation.unconfirmed_since is None
    assert generation.provider_cost_usd == Decimal("1.68")


def test_a_lost_create_without_a_trace_fails_without_a_second_post(owner, kling, fake_aimlapi, settings,
                                                                  audit_passes):
    settings.AIMLAPI_LOOKUP_WINDOW_SECONDS = 0
    generation = start(owner, kling)
    fake_aimlapi.script("POST", VIDEOS, Reply(json={"id": "job-ghost", "status": "queued"}, delay=2.0))
    fake_aimlapi.logs_lagging = True

    assert generation_run(generation.pk) == "poll_scheduled"
    assert scheduled_steps_run() == ["failed"]

    assert len(fake_aimlapi.requests_to("POST", VIDEOS)) == 1
    generation.refresh_from_db()
    assert (generation.status, generation.error_code, generation.refunded) == (
        Status.FAILED, FailureCode.PROVIDER_UNAVAILABLE, True)


def test_a_lost_create_keeps_being_looked_up_within_the_window(owner, kling, fake_aimlapi, settings, audit_passes):
    settings.AIMLAPI_LOOKUP_WINDOW_SECONDS = 3600
    generation = start(owner, kling)
    fake_aimlapi.script("POST", VIDEOS, Reply(json={"id": "job-late", "status": "queued"}, delay=2.0))
    fake_aimlapi.logs_lagging = True
    generation_run(generation.pk)
    assert scheduled_steps_run(limit=3) == ["poll_scheduled"] * 3
    assert len(fake_aimlapi.requests_to("POST", VIDEOS)) == 1
    # The logs catch up: the job is found and polled.
    fake_aimlapi.logs_lagging = False
    fake_aimlapi.script("GET", VIDEOS, Reply(json={"id": "job-late", "status": "generating"}))
    assert scheduled_steps_run(limit=2) == ["poll_scheduled", "poll_scheduled"]
    generation.refresh_from_db()
    assert generation.provider_job_id == "job-late" and generation.attempts == 1


def test_a_lost_create_that_failed_upstream_is_posted_again(owner, kling, fake_aimlapi, audit_passes):
    generation = start(owner, kling)
    fake_aimlapi.script("POST", VIDEOS, Reply(502, json=error_body(502, "bad gateway", VIDEOS)))
    fake_aimlapi.video_job("job-2", statuses=("completed",))

    assert generation_run(generation.pk) == "poll_scheduled"  # looked up first
    assert scheduled_steps_run() == ["retry_scheduled", "poll_scheduled", "completed"]

    creates = fake_aimlapi.requests_to("POST", VIDEOS)
    assert [c.headers["X-Client-Request-Id"] for c in creates] == [
        f"nanogen-{generation.pk}-1", f"nanogen-{generation.pk}-2"]
    generation.refresh_from_db()
    assert (generation.status, generation.provider_job_id, generation.attempts) == (Status.COMPLETED, "job-2", 2)


def test_a_long_video_is_not_timed_out_by_the_default_timeout(owner, kling, settings, audit_passes):
    generation = start(owner, kling, params={"duration": 10})
    assert abs((generation.timeout_at - generation.created_at).total_seconds() - 1800) < 1
    # 16 minutes later, past GENERATION_TIMEOUT_SECONDS but within Kling's 30.
    assert settings.GENERATION_TIMEOUT_SECONDS < 16 * 60
    Generation.objects.filter(pk=generation.pk).update(status=Status.PROCESSING,
                                                       next_check_at=timezone.now() + timedelta(minutes=5))
    assert generations_sweep(now=timezone.now() + timedelta(minutes=16)).timed_out == 0
    assert generations_sweep(now=timezone.now() + timedelta(minutes=31)).timed_out == 1
    generation.refresh_from_db()
    assert generation.refunded
