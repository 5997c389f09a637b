"""Helpers of the operations tests: scraping and parsing /metrics, generations placed in time."""

from datetime import datetime, timedelta

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

METRICS_TOKEN = "metrics-token-for-tests-0123456789"
IMAGE_PRICE = 10
VIDEO_PRICE = 50


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
