"""Fixtures of the generations API tests: small catalog entries of our own (the
default catalog of the data migration does not survive a transactional test's flush)."""

import pytest

from accounts.models import User
from generations.models import AIModel
from tests.factories import AIModelFactory
from tests.generations.api.helpers import ANIMATE_PRICE, EDIT_PRICE, IMAGE_PRICE, VIDEO_PRICE
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


@pytest.fixture
def edit_model(db: None) -> AIModel:
    """Like nano-banana: 0 to 3 input images (an edit model when there are some),
    num_images 1-4 multiplying the price, and input images billed a little."""
    return AIModelFactory.create(
        slug="test-edit",
        name="Test edit",
        kind=AIModel.Kind.IMAGE,
        provider_model_id="test/image",
        provider_model_id_with_images="test/image-edit",
        price=EDIT_PRICE,
        sort_order=3,
        images_min=0,
        images_max=3,
        params_schema={
            "aspect_ratio": {"type": "choice", "choices": ["1:1", "16:9"], "default": "1:1"},
            "num_images": {"type": "integer", "min": 1, "max": 4, "default": 1},
        },
        price_rule={"base": EDIT_PRICE, "factors": {"num_images": "value"}, "per_image": 2},
    )


@pytest.fixture
def animate_model(db: None) -> AIModel:
    """Like Kling: text or image to video, priced per second; with an image the prompt is
    optional and the aspect ratio is the picture's."""
    return AIModelFactory.create(
        slug="test-animate",
        name="Test animate",
        kind=AIModel.Kind.VIDEO,
        provider_model_id="test/text-to-video",
        provider_model_id_with_images="test/image-to-video",
        price=ANIMATE_PRICE,
        sort_order=4,
        images_min=0,
        images_max=1,
        prompt_optional_with_images=True,
        params_schema={
            "aspect_ratio": {"type": "choice", "choices": ["16:9", "9:16"], "default": "16:9", "with_images": False},
            "duration": {"type": "choice", "choices": [5, 10], "default": 5},
            "resolution": {"type": "choice", "choices": ["480p", "1080p"], "default": "480p"},
        },
        price_rule={"base": 6, "factors": {"duration": "value", "resolution": {"480p": 1, "1080p": 2.5}}},
        timeout_rule={"base": 600, "factors": {"duration": {"5": 1, "10": 2}}},
    )
