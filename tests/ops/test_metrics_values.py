"""/metrics reports what the database holds: generations by model, kind and status,
failures by error class, durations, credits, Stars, live generations and the queue."""

from datetime import timedelta

import pytest
from django_q.tasks import async_task

from accounts.models import CreditKind
from generations.models import Generation
from ops.metrics import SETTLE
from tests.factories import PaidPaymentFactory
from tests.helpers import credits_give
from tests.ops.helpers import (
    IMAGE_PRICE,
    VIDEO_PRICE,
    generation_finish,
    generation_move_back,
    generation_new,
    scrape,
    value,
)

pytestmark = pytest.mark.django_db

Status = Generation.Status


@pytest.fixture
def history(settings, owner, stranger, image_model, video_model, pack):
    """Generations in every state, some of them settled (an hour old), some fresh."""
    settings.GENERATION_MAX_ACTIVE = 100
    settings.GENERATION_RATE_LIMIT_PER_MINUTE = 100
    credits_give(owner, 1000)
    credits_give(stranger, 1000)
    hour = timedelta(hours=1)
    made = {
        "done_image": generation_finish(generation_new(owner, image_model), Status.COMPLETED, seconds=3),
        "done_image_slow": generation_finish(generation_new(stranger, image_model), Status.COMPLETED, seconds=45),
        "done_video": generation_finish(generation_new(owner, video_model), Status.COMPLETED, seconds=200),
        "failed": generation_finish(
            generation_new(owner, image_model), Status.FAILED, error_code="PROVIDER_UNAVAILABLE"
        ),
        "timed_out": generation_finish(generation_new(stranger, video_model), Status.FAILED, error_code="TIMEOUT"),
        "cancelled": generation_finish(generation_new(owner, image_model), Status.CANCELLED),
        "processing": generation_finish(generation_new(owner, video_model), Status.PROCESSING),
        "pending": generation_new(stranger, image_model),
    }
    for name in ("done_image", "done_video", "failed", "pending"):
        generation_move_back(made[name], hour)
    PaidPaymentFactory.create(user=owner, pack=pack)
    return made


def test_generation_counters(history, metrics_token, audit_passes):
    samples = scrape()
    started = "nanogen_generations_started_total"
    assert value(samples, started, model="ops-image", kind="image") == 5
    assert value(samples, started, model="ops-video", kind="video") == 3
    finished = "nanogen_generations_finished_total"
    assert value(samples, finished, model="ops-image", kind="image", status="completed") == 2
    assert value(samples, finished, model="ops-video", kind="video", status="completed") == 1
    assert value(samples, finished, model="ops-image", kind="image", status="failed") == 1
    assert value(samples, finished, model="ops-video", kind="video", status="failed") == 1
    assert value(samples, finished, model="ops-image", kind="image", status="cancelled") == 1
    errors = "nanogen_generation_errors_total"
    assert value(samples, errors, model="ops-image", kind="image", error_code="PROVIDER_UNAVAILABLE") == 1
    assert value(samples, errors, model="ops-video", kind="video", error_code="TIMEOUT") == 1


def test_duration_histogram_of_completed_generations(history, metrics_token):
    samples = scrape()
    name = "nanogen_generation_duration_seconds"
    image = {"model": "ops-image", "kind": "image"}
    assert value(samples, f"{name}_bucket", le="2.0", **image) == 0
    assert value(samples, f"{name}_bucket", le="5.0", **image) == 1
    assert value(samples, f"{name}_bucket", le="30.0", **image) == 1
    assert value(samples, f"{name}_bucket", le="60.0", **image) == 2
    assert value(samples, f"{name}_bucket", le="+Inf", **image) == 2
    assert value(samples, f"{name}_count", **image) == 2
    assert value(samples, f"{name}_sum", **image) == pytest.approx(48.0)
    video = {"model": "ops-video", "kind": "video"}
    assert value(samples, f"{name}_bucket", le="120.0", **video) == 0
    assert value(samples, f"{name}_bucket", le="300.0", **video) == 1
    assert value(samples, f"{name}_sum", **video) == pytest.approx(200.0)


def test_credits_and_stars(history, metrics_token, pack):
    samples = scrape()
    charged = 5 * IMAGE_PRICE + 3 * VIDEO_PRICE
    refunded = IMAGE_PRICE + VIDEO_PRICE + IMAGE_PRICE  # failed image, timed-out video, cancelled image
    assert value(samples, "nanogen_credits_debited_total", kind=CreditKind.GENERATION_CHARGE) == charged
    assert value(samples, "nanogen_credits_credited_total", kind=CreditKind.GENERATION_REFUND) == refunded
    assert value(samples, "nanogen_credits_credited_total", kind=CreditKind.GRANT) == 2000
    assert value(samples, "nanogen_credits_credited_total", kind=CreditKind.PURCHASE) == pack.credits
    assert value(samples, "nanogen_stars_received_total", pack=pack.slug) == pack.stars
    assert value(samples, "nanogen_payments_paid_total", pack=pack.slug) == 1


def test_live_generations_and_the_oldest_pending(history, metrics_token):
    samples = scrape()
    active = "nanogen_generations_active"
    assert value(samples, active, model="ops-image", kind="image", status="pending") == 1
    assert value(samples, active, model="ops-video", kind="video", status="processing") == 1
    age = value(samples, "nanogen_generation_oldest_pending_age_seconds")
    assert 3600 <= age < 3600 + 600


def test_no_pending_generation_is_age_zero(metrics_token, db):
    assert value(scrape(), "nanogen_generation_oldest_pending_age_seconds") == 0


def test_queue_depth_counts_waiting_tasks(metrics_token, db):
    assert value(scrape(), "nanogen_queue_depth", broker="orm") == 0
    async_task("math.floor", 1.5)
    async_task("math.floor", 2.5)
    assert value(scrape(), "nanogen_queue_depth", broker="orm") == 2


def test_counters_only_grow_as_history_grows(history, metrics_token, owner, image_model, audit_passes):
    """Later scrapes add what happened since, settled or not, to the checkpoint."""
    first = scrape()
    new = generation_finish(generation_new(owner, image_model), Status.COMPLETED, seconds=1)
    # Timestamps almost SETTLE old, yet after the first scrape's settled point: the
    # second scrape counts them whether it settles them or counts them afresh.
    generation_move_back(new, SETTLE - timedelta(seconds=5))
    generation_finish(generation_new(owner, image_model), Status.FAILED, error_code="CONTENT_REJECTED")
    second = scrape()
    started = ("nanogen_generations_started_total", {"model": "ops-image", "kind": "image"})
    assert value(second, started[0], **started[1]) == value(first, started[0], **started[1]) + 2
    finished = "nanogen_generations_finished_total"
    image = {"model": "ops-image", "kind": "image"}
    for status in ("completed", "failed"):
        assert value(second, finished, status=status, **image) == value(first, finished, status=status, **image) + 1
    for (name, labels), number in first.items():
        if name.endswith("_total") or name.endswith("_bucket") or name.endswith("_count"):
            assert second.get((name, labels), 0) >= number, (name, labels)


def test_scrape_answers_now_not_settled_minutes_ago(metrics_token, owner, image_model, settings, audit_passes):
    credits_give(owner, 100)
    scrape()  # the checkpoint now exists
    generation_new(owner, image_model)
    # Seconds old: counted from the unsettled window, not two minutes later.
    assert value(scrape(), "nanogen_generations_started_total", model="ops-image", kind="image") == 1
