"""Fixtures of the operations tests: a small catalog, a history of generations
moved through the real services (so the ledger and the audit hold), and a scraper
that reads /metrics the way Prometheus does."""

from collections.abc import Iterator

import pytest

from generations.models import AIModel
from ops.metrics import running_totals_reset
from payments.models import CreditPack
from tests.factories import AIModelFactory, CreditPackFactory
from tests.ops.helpers import (
    IMAGE_PRICE,
    METRICS_TOKEN,
    VIDEO_PRICE,
)


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
    return CreditPackFactory.create(slug="ops-pack", title="Ops: 120 credits", stars=100, credits=120, sort_order=1)


@pytest.fixture
def image_model(db: None) -> AIModel:
    return AIModelFactory.create(slug="ops-image", name="Ops image", kind=AIModel.Kind.IMAGE,
                                 provider_model_id="test/image", price=IMAGE_PRICE, sort_order=1)


@pytest.fixture
def video_model(db: None) -> AIModel:
    return AIModelFactory.create(slug="ops-video", name="Ops video", kind=AIModel.Kind.VIDEO,
                                 provider_model_id="test/video", price=VIDEO_PRICE, sort_order=2)
