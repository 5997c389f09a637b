"""Fixtures of the generations API tests: small catalog entries of our own (the
default catalog of the data migration does not survive a transactional test's flush)."""

import pytest

from accounts.models import User
from generations.models import AIModel
from tests.factories import AIModelFactory
from tests.generations.api.helpers import IMAGE_PRICE, VIDEO_PRICE
from tests.helpers import credits_give


@pytest.fixture
def image_model(db: None) -> AIModel:
    return AIModelFactory.create(
        slug="test-image",
        name="Test image",
        kind=AIModel.Kind.IMAGE,
        provider_model_id="test/image",
        price=IMAGE_PRICE,
        sort_order=1,
        description="An image model for tests.",
        params_schema={
            "aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"},
            "seed": {"type": "integer", "min": 1, "max": 1000},
            "raw": {"type": "boolean", "default": False},
        },
    )


@pytest.fixture
def video_model(db: None) -> AIModel:
    return AIModelFactory.create(
        slug="test-video",
        name="Test video",
        kind=AIModel.Kind.VIDEO,
        provider_model_id="test/video",
        price=VIDEO_PRICE,
        sort_order=2,
        params_schema={"duration": {"type": "choice", "choices": [5, 10], "default": 5}},
    )


@pytest.fixture
def inactive_model(db: None) -> AIModel:
    return AIModelFactory.create(
        slug="test-retired", name="Retired", kind=AIModel.Kind.IMAGE, provider_model_id="test/old", price=1,
        is_active=False,
    )


@pytest.fixture
def rich_owner(owner: User) -> User:
    credits_give(owner, 10_000)
    return owner
