"""The model catalog: the default one from the data migration, GET /api/models, and
the parameter schemas staff write."""

import importlib

import pytest
from django.apps import apps

from core.errors import ValidationFailed
from generations.models import AIModel
from generations.params import params_clean, params_schema_problems
from tests.generations.api.helpers import assert_error

pytestmark = pytest.mark.django_db

catalog_migration = importlib.import_module("generations.migrations.0002_default_catalog")


def test_default_catalog_has_nano_banana_and_a_video_model():
    AIModel.objects.all().delete()
    catalog_migration.catalog_load(apps, None)

    nano = AIModel.objects.get(slug="nano-banana")
    assert (nano.kind, nano.provider, nano.provider_model_id) == ("image", "aimlapi", "google/gemini-2.5-flash-image")
    assert nano.is_active and nano.price > 0 and nano.description
    assert nano.params_schema["aspect_ratio"]["default"] == "1:1"
    videos = AIModel.objects.filter(kind="video", is_active=True)
    assert videos.exists()
    for video in videos:
        assert video.params_schema["duration"]["choices"]
    for model in AIModel.objects.all():
        assert params_schema_problems(model.params_schema) == [], model.slug
        assert model.provider == "aimlapi" and model.provider_model_id


def test_loading_the_catalog_again_keeps_staff_edits():
    AIModel.objects.all().delete()
    catalog_migration.catalog_load(apps, None)
    AIModel.objects.filter(slug="nano-banana").update(price=99)
    catalog_migration.catalog_load(apps, None)
    assert AIModel.objects.get(slug="nano-banana").price == 99


def test_models_lists_the_active_ones_in_order(owner_client, image_model, video_model, inactive_model):
    AIModel.objects.exclude(slug__startswith="test-").delete()
    response = owner_client.get("/api/models")
    assert response.status_code == 200
    body = response.json()
    assert [m["slug"] for m in body] == ["test-image", "test-video"]
    assert body[0] == {
        "slug": "test-image",
        "name": "Test image",
        "kind": "image",
        "price": 10,
        "description": "An image model for tests.",
        "params": image_model.params_schema,
    }


def test_models_need_auth(anonymous_client):
    assert_error(anonymous_client.get("/api/models"), 401, "AUTH_REQUIRED")


@pytest.mark.parametrize(
    "schema",
    [
        [],
        {"Bad-Name": {"type": "boolean"}},
        {"x": "choice"},
        {"x": {"type": "text"}},
        {"x": {"type": "choice", "choices": []}},
        {"x": {"type": "choice", "choices": [1.5]}},
        {"x": {"type": "choice", "choices": ["a", "a"]}},
        {"x": {"type": "choice", "choices": ["a"], "default": "b"}},
        {"x": {"type": "choice", "choices": [5], "default": "5"}},
        {"x": {"type": "integer", "min": 10, "max": 1}},
        {"x": {"type": "integer", "min": "1"}},
        {"x": {"type": "integer", "min": 1, "max": 5, "default": 9}},
        {"x": {"type": "boolean", "default": "no"}},
        {"x": {"type": "boolean", "required": "yes"}},
        {"x": {"type": "boolean", "colour": "red"}},
    ],
)
def test_bad_schemas_are_reported(schema):
    assert params_schema_problems(schema)


def test_required_parameter_without_default_must_be_given():
    schema = {"style": {"type": "choice", "choices": ["a", "b"], "required": True}}
    with pytest.raises(ValidationFailed) as caught:
        params_clean(schema=schema, params={})
    assert "style" in (caught.value.details or {})["params"]
    assert params_clean(schema=schema, params={"style": "b"}) == {"style": "b"}


def test_optional_parameter_without_default_is_left_out():
    schema = {"seed": {"type": "integer", "min": 1}}
    assert params_clean(schema=schema, params={}) == {}
