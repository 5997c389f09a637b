"""Fixtures of the operations tests: a small catalog, a history of generations
moved through the real services (so the ledger and the audit hold), and a scraper
that reads /metrics the way Prometheus does."""

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from accounts.models import CreditLedgerEntry, User
from generations.models import AIModel, Generation
from generations.services import generation_start
from generations.services.lifecycle import (
    generation_cancel_if_active,
    generation_claim,
    generation_complete,
    generation_fail,
    generation_reference,
)
from ops.metrics import running_totals_reset
from payments.models import CreditPack

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
IMAGE_PRICE = 10
VIDEO_PRICE = 50


@pytest.fixture(autouse=True)
def _fresh_metric_checkpoints() -> Iterator[None]:
    """Each test builds its own database; checkpoints of another test's must not count."""
    running_totals_reset()
    yield
    running_totals_reset()


@pytest.fixture
def metrics_token(settings) -> str:
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


@pytest.fixture
def pack(db: None) -> CreditPack:
    return CreditPack.objects.create(slug="ops-pack", title="Ops: 120 credits", stars=100, credits=120, sort_order=1)


@pytest.fixture
def image_model(db: None) -> AIModel:
    return AIModel.objects.create(slug="ops-image", name="Ops image", kind=AIModel.Kind.IMAGE,
                                  provider_model_id="test/image", price=IMAGE_PRICE, sort_order=1)


@pytest.fixture
def video_model(db: None) -> AIModel:
    return AIModel.objects.create(slug="ops-video", name="Ops video", kind=AIModel.Kind.VIDEO,
                                  provider_model_id="test/video", price=VIDEO_PRICE, sort_order=2)


Sample = dict[tuple[str, frozenset], float]


def parse(text: str) -> Sample:
    samples: Sample = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return samples


def scrape(client: Client | None = None) -> Sample:
    client = client or Client()
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200, response.content
    return parse(response.content.decode())


def value(samples: Sample, name: str, **labels: str) -> float:
    """A sample's value; 0 when the series does not exist (yet)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def generation_new(user: User, model: AIModel, *, prompt: str = "a cat") -> Generation:
    return generation_start(user=user, model_slug=model.slug, prompt=prompt, params=None, idempotency_key=None)


def generation_finish(generation: Generation, status: str, *, seconds: float = 3.0, error_code: str = "") -> Generation:
    """Run a generation to `status` through the lifecycle services, taking `seconds`."""
    if status in (Generation.Status.PROCESSING, Generation.Status.COMPLETED, Generation.Status.FAILED):
        assert generation_claim(generation_id=generation.pk)
    if status == Generation.Status.COMPLETED:
        assert generation_complete(generation_id=generation.pk, result_file="generations/x.png",
                                   content_type="image/png")
    elif status == Generation.Status.FAILED:
        assert generation_fail(generation_id=generation.pk, error_code=error_code, error_message="it broke")
    elif status == Generation.Status.CANCELLED:
        assert generation_cancel_if_active(generation_id=generation.pk)
    generation.refresh_from_db()
    if generation.started_at and generation.finished_at:
        # It ended now, after `seconds` of work: move its start (and its creation) back.
        started_at = generation.finished_at - timedelta(seconds=seconds)
        Generation.objects.filter(pk=generation.pk).update(
            started_at=started_at, created_at=min(generation.created_at, started_at - timedelta(seconds=1))
        )
        generation.refresh_from_db()
    return generation


def generation_move_back(generation: Generation, delta: timedelta) -> None:
    """Shift a generation, and its ledger rows, `delta` into the past."""
    updates = {"created_at": generation.created_at - delta, "timeout_at": generation.timeout_at - delta}
    for field in ("started_at", "finished_at"):
        if getattr(generation, field):
            updates[field] = getattr(generation, field) - delta
    Generation.objects.filter(pk=generation.pk).update(**updates)
    for entry in CreditLedgerEntry.objects.filter(reference=generation_reference(generation.pk)):
        CreditLedgerEntry.objects.filter(pk=entry.pk).update(created_at=entry.created_at - delta)


def at(when: datetime | None = None) -> datetime:
    return when or timezone.now()
